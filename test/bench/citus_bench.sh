#!/usr/bin/env bash
# What distribution costs (issue 16): the same audio ingested, indexed and
# identified on one node and on a coordinator with two workers, alternating
# in one run on the same machine.  The one node is a database without Citus
# on the coordinator's own server (same binaries, settings and cores).
#
#   test/bench/citus_bench.sh COORDINATOR_PORT [MUSIC_DIR] [MAX_FILES] [CLIPS]
#
# The cluster is scripts/citus.sh start's (host localhost, user postgres);
# its `postgres` database gets the distributed tables (4 shards, 2 per
# worker), a database bench_single the same tables undistributed.  Prints
# ingest wall and client CPU seconds, a COPY BINARY of the finished segments
# alone (the write path without the embedding), the ivfpq build, and
# sampleid_identify's latency (p50 / p95 over CLIPS noisy 3 s clips, two
# rounds), with the ratios distributed / single.
set -euo pipefail
PORT=${1:?usage: citus_bench.sh COORDINATOR_PORT [MUSIC_DIR] [MAX_FILES] [CLIPS]}
MUSIC_DIR=${2:-/usr/share/games/wesnoth/1.16/data/core/music}
MAX_FILES=${3:-10}
CLIPS=${4:-20}
SHARDS=4
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SAMPLEID=${SAMPLEID:-$REPO/build/sampleid}
. "$REPO/test/bench/clips.sh"
export PGHOST=localhost PGPORT=$PORT PGUSER=postgres
DIST="dbname=postgres"
SINGLE="dbname=bench_single"
sql() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }

WORK=$(mktemp -d)
chmod 755 "$WORK"    # the servers read the clips
trap 'rm -rf "$WORK"' EXIT
find "$MUSIC_DIR" -maxdepth 1 -name '*.ogg' | sort | head -n "$MAX_FILES" > "$WORK/list"
echo "# citus benchmark: $(wc -l < "$WORK/list") files of $MUSIC_DIR, $SHARDS shards on 2 workers, $CLIPS clips"
echo "# $(date -u +%FT%TZ) nproc=$(nproc) cpu=$(lscpu | sed -n 's/^Model name: *//p') load:$(uptime | sed 's/.*load average//')"

sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench_single" -c "CREATE DATABASE bench_single"
sql -d bench_single -c "CREATE EXTENSION sampleid"
reset_tables() {
	sql -d "$1" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS matches, segments, recordings, copy_probe CASCADE"
}

# --- ingest: two rounds, alternating ------------------------------------------
declare -A wall cpu
for round in 1 2; do
	for where in single dist; do
		if [ "$where" = single ]; then dsn=$SINGLE; make=--create; else dsn=$DIST; make=--distribute; fi
		reset_tables "$dsn"
		start=$(now)
		TIMEFORMAT="%U %S"
		c=$( { time PGOPTIONS="-c citus.shard_count=$SHARDS" "$SAMPLEID" ingest --dsn "$dsn" "$make" --model-dir "$REPO/models" \
			--threads 1 --batch 4 --list "$WORK/list" >/dev/null 2>"$WORK/ingest.err"; } 2>&1 ) ||
			{ cat "$WORK/ingest.err"; exit 1; }
		wall[$where$round]=$(calc "$(now) - $start")
		cpu[$where$round]=$(awk '{ print $1 + $2 }' <<<"$c")
		printf 'ingest %-6s round %d: %6.1f s wall, client CPU %5.1f s\n' "$where" "$round" "${wall[$where$round]}" "${cpu[$where$round]}"
	done
done
audio=$(sql -d bench_single -c "SELECT sum(duration_s) FROM recordings")
segs=$(sql -d bench_single -c "SELECT count(*) FROM segments")
[ "$segs" = "$(sql -d postgres -c 'SELECT count(*) FROM segments')" ] || { echo "segment counts differ"; exit 1; }
printf 'audio: %.0f s, %d segments\n' "$audio" "$segs"

# --- the write path alone: COPY BINARY of the finished segments, three rounds ----
sql -d bench_single -c "\\copy segments TO '$WORK/segments.bin' (FORMAT binary)"
for dsn in "$SINGLE" "$DIST"; do
	sql -d "$dsn" -c "CREATE TABLE copy_probe (recording_id bigint, seg int, t_start real, fp fingerprint(128))"
done
sql -d postgres -c "SET client_min_messages = warning" -c "SET citus.shard_count = $SHARDS" \
	-c "SELECT create_distributed_table('copy_probe', 'recording_id')" >/dev/null
declare -A copy_s
for round in 1 2 3; do
	for where in single dist; do
		if [ "$where" = single ]; then dsn=$SINGLE; else dsn=$DIST; fi
		sql -d "$dsn" -c "TRUNCATE copy_probe"
		start=$(now)
		sql -d "$dsn" -c "\\copy copy_probe FROM '$WORK/segments.bin' (FORMAT binary)"
		copy_s[$where$round]=$(calc "$(now) - $start")
		printf 'COPY %d segments %-6s round %d: %6.3f s (%.0f rows/s)\n' "$segs" "$where" "$round" \
			"${copy_s[$where$round]}" "$(calc "$segs / ${copy_s[$where$round]}")"
	done
done

# --- the index: lists ~ sqrt(rows) per index, so per shard on the cluster ---------
lists_single=$(calc "int(sqrt($segs) + 0.5)")
lists_shard=$(calc "int(sqrt($segs / $SHARDS) + 0.5)")
for where in single dist; do
	if [ "$where" = single ]; then dsn=$SINGLE; l=$lists_single; else dsn=$DIST; l=$lists_shard; fi
	start=$(now)
	sql -d "$dsn" -c "CREATE INDEX ON segments USING ivfpq (fp) WITH (lists = $l, m = 16)"
	printf 'ivfpq build %-6s lists = %d: %6.1f s\n' "$where" "$l" "$(calc "$(now) - $start")"
done

# --- identification latency ----------------------------------------------------
RANDOM=16
mapfile -t tracks < "$WORK/list"
for i in $(seq 1 "$CLIPS"); do
	src=${tracks[$((RANDOM % ${#tracks[@]}))]}
	clip "$WORK/clip$i.wav" "$src" "$(clip_start_in "$(soxi -D "$src")" 3)" 3 10 "$WORK"
	echo "$WORK/clip$i.wav"
done > "$WORK/clips"
paths=$(sed "s/.*/'&'/" "$WORK/clips" | paste -sd,)
# one backend per database and round; the clock is around sampleid_identify
# alone, the names of what it accepted are read afterwards
timing_sql="
SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$WORK/clip1.wav'), 'segments');  -- warm-up: model, connections
CREATE TEMP TABLE t (p text, names text, ms float8);
DO \$\$
DECLARE p text; t0 timestamptz; ms float8; found bigint[]; names text;
BEGIN
    FOREACH p IN ARRAY ARRAY[$paths] LOOP
        t0 := clock_timestamp();
        SELECT array_agg(recording_id) INTO found
        FROM sampleid_identify(pg_read_binary_file(p), 'segments') WHERE accepted;
        ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
        SELECT string_agg(audio_path, ' ' ORDER BY audio_path) INTO names FROM recordings WHERE id = ANY (found);
        INSERT INTO t VALUES (p, coalesce(names, ''), ms);
    END LOOP;
END \$\$;
SELECT p || '|' || names || '|' || ms FROM t ORDER BY p;"
for round in 1 2; do
	for where in single dist; do
		if [ "$where" = single ]; then dsn=$SINGLE; else dsn=$DIST; fi
		sql -d "$dsn" -c "SET client_min_messages = warning" -c "$timing_sql" | tail -n "$CLIPS" > "$WORK/$where$round"
		sort -t'|' -k3 -g "$WORK/$where$round" | awk -F'|' -v w="$where" -v r="$round" \
			'{ ms[NR] = $3 } END { printf "identify %-6s round %d: p50 %6.1f ms, p95 %6.1f ms\n", w, r, ms[int(NR * 0.5 + 0.5)], ms[int(NR * 0.95 + 0.5)] }'
	done
done
# the same recordings accepted (by path: the two catalogues' ids may differ)?
agree=$(paste -d'|' "$WORK/single1" "$WORK/dist1" | awk -F'|' '$2 == $5 { n++ } END { print n + 0 }')
paste -d'|' "$WORK/single1" "$WORK/dist1" | awk -F'|' '$2 != $5 { sub(/.*\//, "", $1); print "differs: " $1 " single [" $2 "] distributed [" $5 "]" }'
found=$(awk -F'|' '$2 != "" { n++ } END { print n + 0 }' "$WORK/single1")
echo "clips with the same accepted recordings on both: $agree of $CLIPS ($found with a match on the single node)"
echo "# load after:$(uptime | sed 's/.*load average//')"
