#!/usr/bin/env bash
# Ingest speed (issue 12, item 8): the same audio fingerprinted into a fresh
# catalogue three ways, in one run: `sampleid ingest --threads 1`,
# `sampleid ingest --threads 2` (client and server on this machine), and the
# server-side INSERT ... sampleid_embed(pg_read_binary_file(path)) of the
# README.  Prints seconds, x real time, and the ratios.
#
#   test/bench/ingest_bench.sh [MUSIC_DIR] [MAX_FILES]
#
# MUSIC_DIR defaults to the demo's catalogue (wesnoth-1.16-music).  Needs a
# running PostgreSQL with the extension and the fp model installed, reached
# through the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE), as a role
# that may read the server's files; sampleid on PATH or in build/.
set -euo pipefail
MUSIC_DIR=${1:-/usr/share/games/wesnoth/1.16/data/core/music}
MAX_FILES=${2:-1000000}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SAMPLEID=${SAMPLEID:-$REPO/build/sampleid}
PSQL=${PSQL:-psql}
sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }

LIST=$(mktemp)
trap 'rm -f "$LIST"' EXIT
find "$MUSIC_DIR" -maxdepth 1 -name '*.ogg' | sort | head -n "$MAX_FILES" > "$LIST"
echo "# ingest benchmark: $(wc -l < "$LIST") files of $MUSIC_DIR"
echo "# $(date -u +%FT%TZ) nproc=$(nproc) cpu=$(lscpu | sed -n 's/^Model name: *//p') load:$(uptime | sed 's/.*load average//')"

sql -c "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_seg1, bench_rec1, bench_seg2, bench_rec2, bench_seg3, bench_rec3, matches CASCADE"
declare -A secs
for t in 1 2; do
	start=$(now)
	# the client's CPU seconds (user + sys) against the wall clock: how many
	# cores it kept busy, which says more than the wall time on a shared machine
	TIMEFORMAT="client CPU %U s user + %S s sys in %R s wall (--threads $t)"
	time ("$SAMPLEID" ingest --dsn "" --create --threads "$t" --batch 4 --recordings "bench_rec$t" \
		--segments "bench_seg$t" --list "$LIST" 2>&1 | tail -1)
	secs[$t]=$(calc "$(now) - $start")
done
sql <<SQL
CREATE TABLE bench_rec3 (id serial PRIMARY KEY, audio_path text);
CREATE TABLE bench_seg3 (recording_id int, seg int, t_start real, fp fingerprint(128));
SQL
sed "s/'/''/g; s/.*/INSERT INTO bench_rec3 (audio_path) VALUES ('&');/" "$LIST" | sql
start=$(now)
sql -c "INSERT INTO bench_seg3 SELECT r.id, e.seg, e.t_start, e.fp
        FROM bench_rec3 r, sampleid_embed(pg_read_binary_file(r.audio_path)) e"
secs[server]=$(calc "$(now) - $start")

audio=$(sql -c "SELECT sum(duration_s) FROM bench_rec1")
echo "# load after:$(uptime | sed 's/.*load average//')"
printf 'segments: threads 1 %s, threads 2 %s, server %s\n' "$(sql -c 'SELECT count(*) FROM bench_seg1')" \
	"$(sql -c 'SELECT count(*) FROM bench_seg2')" "$(sql -c 'SELECT count(*) FROM bench_seg3')"
printf 'audio: %.0f s (%.2f h)\n' "$audio" "$(calc "$audio / 3600")"
for k in 1 2 server; do
	printf '%-28s %7.1f s  %6.1fx real time\n' \
		"$([ "$k" = server ] && echo 'server INSERT sampleid_embed' || echo "sampleid ingest --threads $k")" \
		"${secs[$k]}" "$(calc "$audio / ${secs[$k]}")"
done
printf 'ratio threads 2 / threads 1: %.2f\n' "$(calc "${secs[1]} / ${secs[2]}")"
printf 'ratio threads 2 / server INSERT: %.2f\n' "$(calc "${secs[server]} / ${secs[2]}")"
