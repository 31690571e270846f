#!/usr/bin/env bash
# The main job: install what is needed, build and install the extension, start
# a private PostgreSQL cluster inside the checkout (.demo/), fingerprint a
# catalogue of real music, index it with ivfpq, and identify noisy,
# reverberant 3-second clips of it with sampleid_identify (demo/demo.sql).  Stops
# the cluster at the end.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# The catalogue: Wesnoth's orchestral score, an allowed package
# (../shared/data/corpus.md).  Queries are cut from tracks of the reference
# split (data/manifest.tsv), which the shipped model never trained on.
MUSIC_PACKAGE=wesnoth-1.16-music
MUSIC_DIR=/usr/share/games/wesnoth/1.16/data/core/music
DEB_PACKAGES+=("$MUSIC_PACKAGE")

install_deps
ensure_run_user
build_all
if is_root; then
	log "installing the extension into $(pg_config --sharedir) and $(pg_config --pkglibdir)"
	make -C "$REPO" -s install >/dev/null
	ln -sf "$PG_BIN/sampleid" /usr/local/bin/sampleid
else
	log "not root: assuming the extension is installed (run as root to install it)"
fi

DEMO=$REPO/.demo
PGDATA=$DEMO/pgdata
CLIPS=$DEMO/clips
mkdir -p "$DEMO" "$CLIPS"
is_root && chown "$RUN_USER" "$DEMO" "$CLIPS"
as_run_user test -w "$DEMO" ||
	die "user $RUN_USER cannot write $DEMO (is the checkout below a directory it cannot enter?)"

# --- query clips: 3 s excerpts, with room reverberation and pink noise at 5 dB SNR
make_clip() { # name source start_seconds
	local out=$CLIPS/$1.wav src=$MUSIC_DIR/$2 start=$3
	local clean=$CLIPS/.$1.clean.wav noise=$CLIPS/.$1.noise.wav
	sox -q "$src" -r 16000 -c 1 "$clean" trim "$start" 3 gain -6 reverb 50 50 60 gain -n -3
	# noise 5 dB below the clip's RMS: scale pink noise to the measured level
	local rms
	rms=$(sox "$clean" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
	sox -q -n -r 16000 -c 1 "$noise" synth 3 pinknoise
	local nrms
	nrms=$(sox "$noise" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
	local vol
	vol=$(awk -v s="$rms" -v n="$nrms" 'BEGIN { printf "%.6f", s / n / 10^(5/20) }')
	sox -q -m "$clean" -v "$vol" "$noise" "$out"
	rm -f "$clean" "$noise"
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
is_root && chown -R "$RUN_USER" "$CLIPS"

stop_cluster() {
	if [ -f "$PGDATA/postmaster.pid" ]; then
		log "stopping the demo cluster"
		as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
	fi
}
trap stop_cluster EXIT
stop_cluster   # a previous run that was killed may have left one behind

if [ ! -f "$PGDATA/PG_VERSION" ]; then
	log "initialising a private cluster in $PGDATA"
	as_run_user "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
fi
PORT=$(free_port 55432)
log "starting it on port $PORT (socket in $DEMO)"
as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" -w -l "$DEMO/server.log" \
	-o "-p $PORT -k $DEMO -c listen_addresses=''" start >/dev/null

PSQL=(as_run_user env PGHOST="$DEMO" PGPORT="$PORT" PGUSER=postgres "$PG_BIN/psql" -X)
"${PSQL[@]}" -q -d postgres -c "DROP DATABASE IF EXISTS sampleid_demo" \
	-c "CREATE DATABASE sampleid_demo" 2>/dev/null
log "running demo/demo.sql"
"${PSQL[@]}" -v ON_ERROR_STOP=1 -v music_dir="$MUSIC_DIR" -v clips="$CLIPS" \
	-d sampleid_demo -f "$REPO/demo/demo.sql"
log "demo finished"
