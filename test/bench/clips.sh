# Query clips for the identification benchmarks (sourced): the demo's recipe
# at any SNR and length.  Needs sox.

# clip OUT SRC START SECONDS SNR_DB|clean TMPDIR: mono 16 kHz 16-bit; unless
# clean, room reverberation and pink noise at the SNR below the clip's RMS
clip() {
	local out=$1 src=$2 start=$3 len=$4 snr=$5 clean=$6/.clean.wav noise=$6/.noise.wav
	if [ "$snr" = clean ]; then
		sox -q "$src" -r 16000 -c 1 -b 16 "$out" trim "$start" "$len"
		return
	fi
	sox -q "$src" -r 16000 -c 1 -b 16 "$clean" trim "$start" "$len" gain -6 reverb 50 50 60 gain -n -3
	local rms nrms
	rms=$(sox "$clean" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
	sox -q -n -r 16000 -c 1 -b 16 "$noise" synth "$len" pinknoise
	nrms=$(sox "$noise" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
	sox -q -m "$clean" -v "$(awk -v s="$rms" -v n="$nrms" -v d="$snr" 'BEGIN { printf "%.6f", s / n / 10^(d/20) }')" "$noise" "$out"
}

# clip_start_in DURATION SECONDS: a random start (bash $RANDOM) leaving the clip inside
clip_start_in() {
	awk -v d="$1" -v l="$2" -v r="$RANDOM" 'BEGIN { m = d - l - 1; if (m < 0) m = 0; printf "%.2f", m * r / 32767 }'
}
