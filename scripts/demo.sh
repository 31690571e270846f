#!/usr/bin/env bash
# The main job: install what is needed, build and install the extension, start
# a private PostgreSQL cluster inside the checkout (.demo/), and tell the whole
# story with the tools: `sampleid ingest --create` fingerprints a catalogue of
# real music, an ivfpq index is built, noisy 3-second clips are identified
# with sampleid_identify (demo/demo.sql), `sampleid match` finds the
# catalogue excerpts reused in four new works (demo/works.sql shows them),
# `sampleid monitor` follows one played as a stream, the tracks fingerprinted
# again with the `sample` model let `sampleid match --model sample` find the
# transposed work (demo/sample.sql), and `sampleid report`
# writes the rights report under .demo/report/.  Stops the
# cluster at the end, unless --keep.
set -euo pipefail
. "$(dirname "$0")/common.sh"

demo_usage() {
	cat <<-EOF
	usage: scripts/demo.sh [--keep]
	  --keep   leave the demo cluster running at the end and say how to connect
	EOF
}
KEEP=0
for arg in "$@"; do
	case $arg in
		--keep) KEEP=1 ;;
		-h | --help) demo_usage; exit 0 ;;
		*) demo_usage >&2; die "unknown argument \"$arg\"" ;;
	esac
done

# The catalogue: Wesnoth's orchestral score, wesnoth-1.16-music, an allowed
# package (../shared/data/corpus.md) that common.sh installs.  Queries are cut
# from tracks of the reference split (data/manifest.tsv), which the shipped
# model never trained on.
MUSIC_DIR=/usr/share/games/wesnoth/1.16/data/core/music

install_deps
ensure_run_user
build_all
if is_root; then
	log "installing the extension into $(pg_config --sharedir) and $(pg_config --pkglibdir)"
	make -C "$REPO" -s install >/dev/null
	ln -sf "$PG_BIN/sampleid" /usr/local/bin/sampleid
	SAMPLEID=$PG_BIN/sampleid
else
	log "not root: assuming the extension is installed (run as root to install it)"
	SAMPLEID=$(command -v sampleid || echo "$REPO/build/sampleid")
fi

DEMO=$REPO/.demo
PGDATA=$DEMO/pgdata
CLIPS=$DEMO/clips
WORKS=$DEMO/works
REPORT=$DEMO/report
rm -rf "$WORKS" "$REPORT"   # a previous run's works: matched again from scratch
mkdir -p "$DEMO" "$CLIPS" "$WORKS" "$REPORT"
is_root && chown "$RUN_USER" "$DEMO" "$CLIPS" "$WORKS" "$REPORT"
as_run_user test -w "$DEMO" ||
	die "user $RUN_USER cannot write $DEMO (is the checkout below a directory it cannot enter?)"

# Pink noise scaled to SNR dB below the clip's RMS, mixed in.
add_noise() { # in out snr_db
	local in=$1 out=$2 snr=$3 noise=$2.noise.wav rms nrms vol seconds
	seconds=$(soxi -D "$in")
	rms=$(sox "$in" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
	sox -q -R -n -r 16000 -c 1 "$noise" synth "$seconds" pinknoise   # -R: the same noise every run
	nrms=$(sox "$noise" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
	vol=$(awk -v s="$rms" -v n="$nrms" -v d="$snr" 'BEGIN { printf "%.6f", s / n / 10^(d/20) }')
	sox -q -m "$in" -v "$vol" "$noise" "$out"
	rm -f "$noise"
}

# --- query clips: 3 s excerpts, with room reverberation and pink noise at 5 dB SNR
make_clip() { # name source start_seconds
	local clean=$CLIPS/.$1.clean.wav
	sox -q "$MUSIC_DIR/$2" -r 16000 -c 1 "$clean" trim "$3" 3 gain -6 reverb 50 50 60 gain -n -3
	add_noise "$clean" "$CLIPS/$1.wav" 5
	rm -f "$clean"
}
log "making noisy, reverberant 3 s query clips in $CLIPS"
make_clip clip1 heroes_rite.ogg 33.2
make_clip clip2 the_king_is_dead.ogg 81.0
make_clip clip3 nunc_dimittis.ogg 150.5
make_clip clip4 northerners.ogg 102.4
# a clip of music that is not in the catalogue: speech over noise
espeak-ng -w "$CLIPS/.speech.wav" \
	"This recording is not in the catalogue at all, so nothing in it should match." 2>/dev/null
sox -q "$CLIPS/.speech.wav" -r 16000 -c 1 "$CLIPS/not_in_catalogue.wav" trim 0 3
rm -f "$CLIPS/.speech.wav"

# --- new works that reuse catalogue excerpts, for sampleid match and the
# rights report.  Excerpts are from tracks of the reference split, 16 kHz mono.
excerpt() { # out track start seconds [sox effects...]
	local out=$1 track=$2 start=$3 seconds=$4
	shift 4
	sox -q "$MUSIC_DIR/$track.ogg" -r 16000 -c 1 -b 16 "$out" trim "$start" "$seconds" "$@"
}
make_works() {
	local tmp=$WORKS/.parts
	mkdir -p "$tmp"
	espeak-ng -s 150 -w "$tmp/speech_raw.wav" \
		"This new work opens with a spoken introduction before the music." 2>/dev/null
	sox -V1 "$tmp/speech_raw.wav" -r 16000 -c 1 -b 16 "$tmp/speech.wav" pad 0 1 trim 0 5
	sox -q -n -r 16000 -c 1 -b 16 "$tmp/tones.wav" synth 4 sine 440-880 gain -12
	# 1. an excerpt under pink noise at 10 dB SNR, after the speech
	excerpt "$tmp/king.wav" the_king_is_dead 40 14
	add_noise "$tmp/king.wav" "$tmp/king_noisy.wav" 10
	sox -q "$tmp/speech.wav" "$tmp/king_noisy.wav" "$WORKS/noisy_excerpt.wav"
	# 2. an excerpt with another catalogue track at 0.3 of its level over it
	excerpt "$tmp/mountains.wav" northern_mountains 20 12
	excerpt "$tmp/wanderer.wav" wanderer 100 12
	sox -q -m -v 1 "$tmp/mountains.wav" -v 0.3 "$tmp/wanderer.wav" "$WORKS/overlaid.wav"
	# 3. two excerpts between synthesised tones and speech
	excerpt "$tmp/heroes.wav" heroes_rite 60 12
	excerpt "$tmp/nunc.wav" nunc_dimittis 30 12
	sox -q "$tmp/tones.wav" "$tmp/heroes.wav" "$tmp/speech.wav" "$tmp/nunc.wav" "$WORKS/medley.wav"
	# 4. an excerpt transposed up two semitones (the fp model does not follow that;
	#    the sample model's sample mode does, further down)
	excerpt "$WORKS/transposed.wav" revelation 20 12 pitch 200
	rm -rf "$tmp"
}
log "making four new works from catalogue excerpts in $WORKS"
make_works
is_root && chown -R "$RUN_USER" "$CLIPS" "$WORKS"

stop_cluster() {
	if [ -f "$PGDATA/postmaster.pid" ]; then
		log "stopping the demo cluster"
		as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
	fi
}
LEAVE_RUNNING=0   # set once the demo has succeeded with --keep
trap '[ "$LEAVE_RUNNING" = 1 ] || stop_cluster' EXIT
stop_cluster   # a previous run that was killed, or run with --keep, may have left one behind

if [ ! -f "$PGDATA/PG_VERSION" ]; then
	log "initialising a private cluster in $PGDATA"
	as_run_user "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
fi
PORT=$(free_port 55432)
log "starting it on port $PORT (socket in $DEMO)"
as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" -w -l "$DEMO/server.log" \
	-o "-p $PORT -k $DEMO -c listen_addresses='' -c shared_preload_libraries=sampleid" start >/dev/null

PSQL=(as_run_user env PGHOST="$DEMO" PGPORT="$PORT" PGUSER=postgres "$PG_BIN/psql" -X)
DSN="host=$DEMO port=$PORT user=postgres dbname=sampleid_demo"
SID=(as_run_user "$SAMPLEID")
section() { printf '\n== %s\n' "$*"; }

"${PSQL[@]}" -q -d postgres -c "DROP DATABASE IF EXISTS sampleid_demo" \
	-c "CREATE DATABASE sampleid_demo" 2>/dev/null
"${PSQL[@]}" -v ON_ERROR_STOP=1 -v clips="$CLIPS" -d sampleid_demo -f "$REPO/demo/setup.sql"
if [ "$("${PSQL[@]}" -d sampleid_demo -Atc \
	"SELECT count(*) FROM sampleid_models() WHERE name = 'fp' AND trained")" = 0 ]; then
	log "demo finished: no trained model to go on with"
	exit 0
fi

section "The catalogue: sampleid ingest --create fingerprints every track here and COPYs it in"
echo "\$ sampleid ingest --dsn \"$DSN\" --create --artist ... --rights-holder ... $MUSIC_DIR"
"${SID[@]}" ingest --dsn "$DSN" --create --artist "The Battle for Wesnoth" \
	--rights-holder "The Wesnoth contributors (GPL-2.0-or-later)" "$MUSIC_DIR"

"${PSQL[@]}" -v ON_ERROR_STOP=1 -v clips="$CLIPS" -d sampleid_demo -f "$REPO/demo/demo.sql"

section "New works: sampleid match writes every use of a catalogue recording into the matches table"
echo "\$ sampleid match --dsn \"$DSN\" $WORKS"
"${SID[@]}" match --dsn "$DSN" "$WORKS"
"${PSQL[@]}" -v ON_ERROR_STOP=1 -d sampleid_demo -f "$REPO/demo/works.sql"

section "A live feed: sampleid monitor logs each use as the stream plays (here a work played as a stream)"
echo "\$ sox $WORKS/medley.wav -t raw -r 16000 -c 1 -b 16 -e signed - | sampleid monitor --dsn \"$DSN\""
sox -q "$WORKS/medley.wav" -t raw -r 16000 -c 1 -b 16 -e signed - |
	"${SID[@]}" monitor --dsn "$DSN"

section "Sample mode: the tracks fingerprinted with the sample model, and the transposed work matched again"
DSN_SAMPLE="host=$DEMO port=$PORT user=postgres dbname=sampleid_demo_sample"
"${PSQL[@]}" -q -d postgres -c "DROP DATABASE IF EXISTS sampleid_demo_sample" \
	-c "CREATE DATABASE sampleid_demo_sample" 2>/dev/null
"${PSQL[@]}" -q -v ON_ERROR_STOP=1 -d sampleid_demo_sample -c "CREATE EXTENSION sampleid"
echo "\$ sampleid ingest --dsn \"$DSN_SAMPLE\" --model sample --create --artist ... --rights-holder ... $MUSIC_DIR"
"${SID[@]}" ingest --dsn "$DSN_SAMPLE" --model sample --create --artist "The Battle for Wesnoth" \
	--rights-holder "The Wesnoth contributors (GPL-2.0-or-later)" "$MUSIC_DIR"
echo "\$ sampleid match --dsn \"$DSN_SAMPLE\" --model sample $WORKS/transposed.wav"
"${SID[@]}" match --dsn "$DSN_SAMPLE" --model sample "$WORKS/transposed.wav"
"${PSQL[@]}" -v ON_ERROR_STOP=1 -d sampleid_demo_sample -f "$REPO/demo/sample.sql"

section "The rights report: sampleid report"
echo "\$ sampleid report --dsn \"$DSN\" --csv $REPORT/report.csv --html $REPORT/report.html"
"${SID[@]}" report --dsn "$DSN" --csv "$REPORT/report.csv" --html "$REPORT/report.html"
echo "The report: $REPORT/report.html (one page, no network: open it in any browser)"
echo "            $REPORT/report.csv (one row per use)"

log "demo finished in ${SECONDS} s"
if [ "$KEEP" = 1 ]; then
	LEAVE_RUNNING=1
	cat <<-EOF

	The demo cluster is still running (--keep).  Explore it with
	  psql -h $DEMO -p $PORT -U postgres sampleid_demo
	  sampleid identify --dsn "$DSN" $CLIPS/clip1.wav
	  sampleid match --dsn "$DSN" YOUR_WORK.wav
	and stop it with
	  $( is_root && printf 'runuser -u %s -- ' "$RUN_USER")$PG_BIN/pg_ctl -D $PGDATA stop
	EOF
fi
