#!/usr/bin/env bash
# The open-set benchmark of sampleid_identify (docs/benchmarks.md, "Open-set
# identification"): in-catalogue queries and out-of-catalogue queries of
# every kind against the demo's catalogue, each answered with every candidate
# (include_rejected, no thresholds) and the verifier's probability of each,
# so that any acceptance rule, with or without the verifier, can be scored
# from one run.  The thresholds are calibrated on out-of-catalogue
# music of the corpus's train and validation splits and measured on that of
# the reference split: disjoint tracks.
#
#   test/bench/identify_openset.sh DSN [N_PER_KIND]
#
# DSN names a database holding the demo's catalogue (tables recordings and
# segments, registered, with an ivfpq index: demo/demo.sql makes them), read
# by a superuser (the clips are read with pg_read_binary_file).  Needs sox and
# espeak-ng; the corpus under /var/lib/sampleid-corpus (scripts/corpus.sh).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DSN=${1:?usage: identify_openset.sh DSN [N_PER_KIND]}
N=${2:-60}
CORPUS=${SAMPLEID_CORPUS:-/var/lib/sampleid-corpus}
WESNOTH=/usr/share/games/wesnoth/1.16/data/core/music
CLIPS=$(mktemp -d /tmp/sampleid-openset.XXXXXX)
trap 'rm -rf "$CLIPS"' EXIT
chmod 755 "$CLIPS"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$DSN")
RANDOM=20261201
export SOX_OPTS=-V1   # clipping warnings of the noisiest mixes are expected

. "$REPO/test/bench/clips.sh"
duration() { soxi -D "$1" 2>/dev/null || echo 0; }
snr() { echo $((RANDOM % 21)); }

echo "query	kind	split	length	truth	truth_start" > "$CLIPS/queries.tsv"
add() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$CLIPS/queries.tsv"; }

mapfile -t catalogue < <(ls "$WESNOTH"/*.ogg)
mapfile -t calib < <(awk -F'\t' -v c="$CORPUS" 'NR > 2 && $1 != "wesnoth-1.16-music" && ($6 == "train" || $6 == "validation") && $3 > 25 && $2 !~ /\.opus$/ { print c "/" $2 }' "$REPO/data/manifest.tsv")
mapfile -t heldout < <(awk -F'\t' -v c="$CORPUS" 'NR > 2 && $1 != "wesnoth-1.16-music" && $6 == "reference" && $3 > 25 && $2 !~ /\.opus$/ { print c "/" $2 }' "$REPO/data/manifest.tsv")
voices=(en en-us en-gb-x-rp de fr es it nl)
i=0
for len in 3 10; do
	for ((q = 0; q < N; q++)); do
		src=${catalogue[RANDOM % ${#catalogue[@]}]}
		s=$(clip_start_in "$(duration "$src")" "$len")
		clip "$CLIPS/$i.wav" "$src" "$s" "$len" "$(snr)" "$CLIPS"
		add "$i" in_catalogue test "$len" "$(basename "$src" .ogg)" "$s"
		i=$((i + 1))
	done
	for split in calibration test; do
		if [ $split = calibration ]; then pool=("${calib[@]}"); else pool=("${heldout[@]}"); fi
		for kind in other_music other_music_noisy; do
			for ((q = 0; q < N; q++)); do
				src=${pool[RANDOM % ${#pool[@]}]}
				s=$(clip_start_in "$(duration "$src")" "$len")
				if [ $kind = other_music ]; then clip "$CLIPS/$i.wav" "$src" "$s" "$len" clean "$CLIPS"
				else clip "$CLIPS/$i.wav" "$src" "$s" "$len" "$(snr)" "$CLIPS"; fi
				add "$i" $kind $split "$len" "" ""
				i=$((i + 1))
			done
		done
		for ((q = 0; q < N / 4; q++)); do
			espeak-ng -v "${voices[RANDOM % ${#voices[@]}]}" -s $((120 + RANDOM % 60)) -w "$CLIPS/.s.wav" \
				"Segment $q of the $split set, spoken at random: $RANDOM $RANDOM, nothing here is music." 2>/dev/null
			sox -V1 -q "$CLIPS/.s.wav" -r 16000 -c 1 -b 16 "$CLIPS/$i.wav" pad 0 "$len" trim 0 "$len"
			add "$i" speech $split "$len" "" ""
			i=$((i + 1))
			sox -q -n -r 16000 -c 1 -b 16 "$CLIPS/$i.wav" trim 0 "$len"
			add "$i" silence $split "$len" "" ""
			i=$((i + 1))
			sox -q -n -r 16000 -c 1 -b 16 "$CLIPS/$i.wav" synth "$len" whitenoise gain -$((60 + RANDOM % 20))
			add "$i" near_silence $split "$len" "" ""
			i=$((i + 1))
			sox -q -n -r 16000 -c 1 -b 16 "$CLIPS/$i.wav" synth "$len" sine $((50 + RANDOM % 6000)) gain -$((3 + RANDOM % 30))
			add "$i" tone $split "$len" "" ""
			i=$((i + 1))
			colours=(whitenoise pinknoise brownnoise)
			sox -q -n -r 16000 -c 1 -b 16 "$CLIPS/$i.wav" synth "$len" "${colours[RANDOM % 3]}" gain -$((3 + RANDOM % 30))
			add "$i" noise $split "$len" "" ""
			i=$((i + 1))
		done
	done
done
chmod -R a+r "$CLIPS"
echo "$i queries in $CLIPS" >&2

# One session for every query, after a warm-up one: the model and its content
# gate are loaded once per backend, as in a server that has been running.
{
	cat <<EOF
DROP TABLE IF EXISTS openset_queries, openset_answers;
CREATE TABLE openset_queries (query int PRIMARY KEY, kind text, split text, length int,
                              truth text, truth_start real);
COPY openset_queries FROM '$CLIPS/queries.tsv' WITH (FORMAT csv, DELIMITER E'\t', HEADER, NULL '');
CREATE TABLE openset_answers (query int, rank bigint, recording_id bigint, title text,
                              query_start real, ref_start real, segments int, coverage real,
                              similarity real, probability real, ms float8);
SET client_min_messages = debug1;  -- sampleid_identify's time split, on stderr
SET ivfpq.probes = 8;
SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$CLIPS/0.wav'), 'segments') \g /dev/null
EOF
	for ((q = 0; q < i; q++)); do
		cat <<EOF
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE a AS SELECT row_number() OVER () AS rank, * FROM sampleid_identify(
    pg_read_binary_file('$CLIPS/$q.wav'), 'segments', min_similarity => 0, min_coverage => 0,
    include_rejected => true);
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000 AS ms \gset
INSERT INTO openset_answers
SELECT $q, a.rank, a.recording_id, r.title, a.query_start, a.ref_start, a.segments, a.coverage,
       a.similarity, a.probability, :ms FROM a JOIN recordings r ON r.id = a.recording_id;
INSERT INTO openset_answers SELECT $q, 0, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, :ms WHERE NOT EXISTS (SELECT FROM a);
DROP TABLE a;
EOF
	done
} > "$CLIPS/run.sql"
"${PSQL[@]}" -f "$CLIPS/run.sql" 2> "$CLIPS/debug.txt"
# one time-split line per query, the warm-up's first: query number, embed ms,
# coarse ms, verifier ms
grep -o 'embed [0-9.]* ms, coarse [0-9.]* ms, verifier [0-9.]* ms' "$CLIPS/debug.txt" |
	awk 'NR > 1 { print NR - 2 "\t" $2 "\t" $5 "\t" $8 }' > "$CLIPS/split.tsv"
"${PSQL[@]}" -c "DROP TABLE IF EXISTS openset_split" \
	-c "CREATE TABLE openset_split (query int PRIMARY KEY, embed_ms float8, coarse_ms float8, verifier_ms float8)" \
	-c "COPY openset_split FROM '$CLIPS/split.tsv'"
# the threshold calibrated into the verifier's file (model/sid_verifier.h: f32 at byte 388)
THRESHOLD=$(od -An -t f4 -j 388 -N 4 "${VERIFIER:-$REPO/models/fp.sidv}" | tr -d ' ')
"${PSQL[@]}" -v file_threshold="$THRESHOLD" -f "$REPO/test/bench/identify_openset.sql"
