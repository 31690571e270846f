#!/usr/bin/env bash
# Latency of sampleid_identify against a 1 M-segment catalogue beside the
# demo's 15 k-segment one, in the same run (docs/benchmarks.md, "Latency"),
# split into decode + embed, the coarse stage and the verifier.
# The large catalogue is the demo's real segments plus synthetic fingerprints
# drawn as the ivfpq benchmark draws them (test/bench/ivfpq_faiss_side.cpp
# gen: two-level clusters, L2-normalised), as recordings of 200 segments.
#
#   test/bench/identify_1m.sh DSN [QUERIES_PER_LENGTH]
#
# DSN: the database of the demo's catalogue (demo/demo.sql), a superuser.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DSN=${1:?usage: identify_1m.sh DSN [QUERIES_PER_LENGTH]}
NQ=${2:-20}
TOTAL=1000000
DIR=${BENCH_DIR:-/tmp/sampleid-identify-1m}
WESNOTH=/usr/share/games/wesnoth/1.16/data/core/music
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$DSN")
mkdir -p "$DIR"
chmod 755 "$DIR"
RANDOM=20261202
export SOX_OPTS=-V1

REAL=$("${PSQL[@]}" -At -c "SELECT count(*) FROM segments")
SYNTH=$((TOTAL - REAL))
if [ ! -f "$DIR/base.copy" ]; then
	g++ -O2 -std=c++17 -Wall -Wextra -Werror -fopenmp "$REPO/test/bench/ivfpq_faiss_side.cpp" \
		-o "$DIR/faiss_side" -lfaiss -lopenblas -llapack -lgomp
	"$DIR/faiss_side" gen "$DIR" "$SYNTH" 1 $((SYNTH / 1000)) 100 0.6 0.25 7 >&2
fi
chmod a+r "$DIR"/*
if [ "$("${PSQL[@]}" -At -c "SELECT to_regclass('segments_1m') IS NOT NULL")" = f ]; then
	"${PSQL[@]}" <<EOF
\timing on
CREATE TABLE segments_1m (recording_id bigint, t_start real, fp fingerprint(128));
CREATE TEMP TABLE synth (id int, fp fingerprint(128));
COPY synth FROM '$DIR/base.copy' WITH (FORMAT binary);
INSERT INTO segments_1m SELECT recording_id, t_start, fp FROM segments;
INSERT INTO segments_1m SELECT 1000000 + id / 200, (id % 200) * 0.5, fp FROM synth;
CREATE INDEX ON segments_1m (recording_id);
SET maintenance_work_mem = '1GB';
CREATE INDEX segments_1m_fp ON segments_1m USING ivfpq (fp) WITH (lists = 1000, m = 16);
SELECT sampleid_catalogue_register('segments_1m', 'fp');
ANALYZE segments_1m;
EOF
fi

. "$REPO/test/bench/clips.sh"
mapfile -t catalogue < <(ls "$WESNOTH"/*.ogg)
: > "$DIR/run.sql"
echo "SET client_min_messages = debug1; SET ivfpq.probes = 8;" >> "$DIR/run.sql"
for len in 3 10; do
	for ((q = 0; q < NQ; q++)); do
		src=${catalogue[RANDOM % ${#catalogue[@]}]}
		s=$(clip_start_in "$(soxi -D "$src")" "$len")
		clip "$DIR/q$len-$q.wav" "$src" "$s" "$len" $((RANDOM % 21)) "$DIR"
		chmod a+r "$DIR/q$len-$q.wav"
	done
	# both catalogues, the same clips, alternating; the first query of each
	# catalogue warms its index pages and the model up and is left out
	for cat in segments segments_1m; do
		echo "SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$DIR/q$len-0.wav'), '$cat') \\g /dev/null" >> "$DIR/run.sql"
	done
	for ((q = 0; q < NQ; q++)); do
		for cat in segments segments_1m; do
			echo "SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$DIR/q$len-$q.wav'), '$cat') \\g /dev/null" >> "$DIR/run.sql"
		done
	done
done
"${PSQL[@]}" -f "$DIR/run.sql" 2> "$DIR/debug.txt"
# lines in order: per length, 2 warm-ups then NQ pairs (segments, segments_1m)
grep -o 'embed [0-9.]* ms, coarse [0-9.]* ms, verifier [0-9.]* ms' "$DIR/debug.txt" | awk -v nq="$NQ" '
	{ i = NR - 1; len = i < 2 * nq + 2 ? 3 : 10; j = i % (2 * nq + 2);
	  if (j < 2) next; cat = (j % 2 == 0) ? "demo_15k" : "1M";
	  print len "\t" cat "\t" $2 "\t" $5 "\t" $8 }' > "$DIR/split.tsv"
"${PSQL[@]}" <<EOF
\pset footer off
CREATE TEMP TABLE split (length int, catalogue text, embed_ms float8, coarse_ms float8, verifier_ms float8);
COPY split FROM '$DIR/split.tsv';
\echo '== sampleid_identify latency, ms (decode + embed; coarse stage = index search, alignment, decision; verifier)'
SELECT length, catalogue, count(*) AS queries,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY embed_ms)::numeric, 1) AS "embed p50",
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY embed_ms)::numeric, 1) AS "embed p95",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY coarse_ms)::numeric, 1) AS "coarse p50",
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY coarse_ms)::numeric, 1) AS "coarse p95",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY verifier_ms)::numeric, 2) AS "verifier p50",
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY verifier_ms)::numeric, 2) AS "verifier p95",
       round(100 * (sum(verifier_ms) / sum(coarse_ms))::numeric, 1) AS "verifier / coarse %",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY embed_ms + coarse_ms + verifier_ms)::numeric, 1) AS "total p50",
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY embed_ms + coarse_ms + verifier_ms)::numeric, 1) AS "total p95"
FROM split GROUP BY 1, 2 ORDER BY 1, 2 DESC;
EOF
