#!/bin/bash
# What sample mode's transposed copies cost per query, and what the coarse
# rule accepts with them (docs/benchmarks.md, "Sample mode: the cost of the
# copies").
#
#   test/bench/identify_sample.sh DSN QUERY_DIR [REPEATS]
#
# Every QUERY_DIR/*.wav (files the server can read: pg_read_binary_file) is
# identified against the catalogue `segments` of DSN by sampleid_identify's
# audio form, REPEATS times (default 3) with semitones => '{0}' (one copy)
# and with -3 .. +3 (seven), rerank => false (the coarse rule alone).  The
# DEBUG1 line of each call gives the split: embed (decode, the copies'
# rubberband passes and their embedding) and coarse (the top-k statements of
# every copy and the alignment).  Prints the mean of each and the ratio, then
# per file the rows accepted by each, the highest coverage and the highest
# similarity among the rejected candidates (maybe of different ones), the
# accepted matches (id@semitones) and the first two candidates
# (id@semitones:coverage/similarity, + when accepted): a file named out_* is
# not in the catalogue, so a row of it is a false accept.
set -euo pipefail
DSN=${1:?usage: identify_sample.sh DSN QUERY_DIR [REPEATS]}
DIR=${2:?usage: identify_sample.sh DSN QUERY_DIR [REPEATS]}
REPEATS=${3:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

run() {
	local file=$1 shifts=$2
	psql -X -q -At -F ' ' "$DSN" 2>>"$TMP/debug.$3" <<-SQL
	SET client_min_messages = debug1;
	WITH r AS (SELECT *, row_number() OVER () AS n
	           FROM sampleid_identify(pg_read_binary_file('$file'), 'segments', semitones => '$shifts',
	                                  rerank => false, include_rejected => true))
	SELECT count(*) FILTER (WHERE accepted), coalesce(max(coverage) FILTER (WHERE NOT accepted), 0)::numeric(4,2),
	       coalesce(max(similarity) FILTER (WHERE NOT accepted), 0)::numeric(4,3),
	       coalesce(string_agg(recording_id || '@' || semitones, ',') FILTER (WHERE accepted), '-'),
	       coalesce(string_agg(recording_id || '@' || coalesce(semitones, 0) || ':' || coverage::numeric(4,2) || '/'
	                           || similarity::numeric(4,3) || CASE WHEN accepted THEN '+' ELSE '' END, ',' ORDER BY n)
	                FILTER (WHERE n <= 2), '-')
	FROM r;
	SQL
}

echo "file | 1 copy: accepted, highest rejected coverage, similarity, matches, first two candidates | 7 copies: the same"
for f in "$DIR"/*.wav; do
	one=$(run "$f" '{0}' 1)
	seven=$(run "$f" '{-3,-2,-1,0,1,2,3}' 7)
	for _ in $(seq 2 "$REPEATS"); do
		run "$f" '{0}' 1 >/dev/null
		run "$f" '{-3,-2,-1,0,1,2,3}' 7 >/dev/null
	done
	echo "$(basename "$f") | $one | $seven"
done | tee "$TMP/rows"
for n in 1 7; do
	grep -o 'embed [0-9.]* ms, coarse [0-9.]* ms' "$TMP/debug.$n" |
		awk -v n="$n" '{ e += $2; c += $5; k++ } END { print n, k, e / k, c / k }'
done >"$TMP/means"
awk 'NR == 1 { e = $3; c = $4 }
	{ printf "%d cop%s: %d calls, embed %.1f ms, coarse %.1f ms per query\n", $1, $1 == 1 ? "y" : "ies", $2, $3, $4 }
	NR == 2 { printf "ratio 7 / 1: embed %.2fx, coarse %.2fx\n", $3 / e, $4 / c }' "$TMP/means"
awk -F' [|] ' '/^out_/ { n++; if ($2 + 0 > 0) a++; if ($3 + 0 > 0) b++ }
	END { printf "files not in the catalogue (out_*): %d; with an accepted row: %d with 1 copy, %d with 7\n", n, a, b }' "$TMP/rows"
