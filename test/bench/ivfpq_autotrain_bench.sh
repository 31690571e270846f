#!/usr/bin/env bash
# What VACUUM's training of a flat ivfpq index costs (docs/ivfpq.md,
# "Self-training"), against a REINDEX of the same rows: an index created on an
# empty table, N clustered 128-d rows inserted, then VACUUM (which trains it),
# then REINDEX; the time of each, their ratio, and the lists each gave.
#
#   test/bench/ivfpq_autotrain_bench.sh N [LISTS]
#
# Needs a running PostgreSQL with the sampleid extension, reached through the
# usual libpq variables, and psql on PATH (or PSQL).  LISTS empty: the lists
# come from the rows (ivfpq_lists_for_rows).
set -euo pipefail

N=${1:?usage: $0 N [LISTS]}
LISTS=${2:-}
PSQL=${PSQL:-psql}
WITH=${LISTS:+WITH (lists = $LISTS)}

sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
# seconds a statement takes, from psql's \timing
timed() { sql -c '\timing on' -c "$1" | sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' | awk '{ printf "%.2f", $1 / 1000 }'; }

echo "# ivfpq autotrain benchmark: N=$N lists=${LISTS:-from the rows}"
echo "# $(date -u +%FT%TZ) nproc=$(nproc) load:$(uptime | sed 's/.*load average//')"
sql <<SQL
CREATE EXTENSION IF NOT EXISTS sampleid;
DROP TABLE IF EXISTS at_bench;
SELECT setseed(0.5);
CREATE TEMP TABLE at_centre AS
    SELECT c, array_agg(random() - 0.5 ORDER BY i) AS v
    FROM generate_series(1, 100) c, generate_series(1, 128) i GROUP BY c;
CREATE TABLE at_bench (id int, fp fingerprint(128)) WITH (autovacuum_enabled = off);
CREATE INDEX at_bench_fp ON at_bench USING ivfpq (fp) $WITH;
INSERT INTO at_bench
    SELECT s, fingerprint_normalize(array_agg(v[i] + 0.6 * (random() - 0.5) ORDER BY i)::fingerprint)
    FROM generate_series(1, $N) s JOIN at_centre ON c = 1 + s % 100, generate_series(1, 128) i
    GROUP BY s;
SQL
flat_size=$(sql -c "SELECT pg_relation_size('at_bench_fp')")
vacuum=$(timed 'VACUUM at_bench')
vacuum_lists=$(sql -c "SELECT lists FROM ivfpq_check('at_bench_fp')")
trained_size=$(sql -c "SELECT pg_relation_size('at_bench_fp')")
reindex=$(timed 'REINDEX INDEX at_bench_fp')
reindex_lists=$(sql -c "SELECT lists FROM ivfpq_check('at_bench_fp')")
reindex_size=$(sql -c "SELECT pg_relation_size('at_bench_fp')")
echo "VACUUM (training): ${vacuum} s, lists $vacuum_lists, index $flat_size -> $trained_size bytes"
echo "REINDEX: ${reindex} s, lists $reindex_lists, index $reindex_size bytes"
awk -v v="$vacuum" -v r="$reindex" 'BEGIN { printf "VACUUM / REINDEX = %.2f\n", v / r }'
sql -c 'DROP TABLE at_bench'
