#!/usr/bin/env bash
# What a LIMIT past the first re-ranking batch costs an ivfpq scan, and what
# it finds: milliseconds a query and recall@k against an exact sequential
# scan, for LIMIT 10, 30 and 100, on the tables test/bench/ivfpq_bench.sh
# loads (PREFIX_fp with its ivfpq index, PREFIX_query).
#
#   test/bench/ivfpq_limit_bench.sh [PREFIX] [PROBES] [RERANK] [QUERIES]
#
# Defaults: bench 4 100 100.  The time is an in-server loop over the first
# BENCH_TIME_QUERIES (100) queries, run twice; the second run is the one to
# quote (the first warms the session's buffers).  Recall is over the first
# QUERIES queries, whose exact answers take one sequential scan each (about
# half a second at 1 M rows, four at 10 M).  Reached through the usual libpq
# variables.
set -euo pipefail

PREFIX=${1:-bench}
PROBES=${2:-4}
RERANK=${3:-100}
QUERIES=${4:-100}
TIME_QUERIES=${BENCH_TIME_QUERIES:-100}
PSQL=${PSQL:-psql}

sql() { "$PSQL" -X -Atq -v ON_ERROR_STOP=1 "$@"; }

sql <<SQL
SET enable_seqscan = off;
SET ivfpq.probes = $PROBES;
SET ivfpq.rerank = $RERANK;
CREATE FUNCTION pg_temp.ms_a_query(lim int) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE
	t0 timestamptz := clock_timestamp();
	q record;
	c bigint;
BEGIN
	FOR q IN SELECT fp FROM ${PREFIX}_query WHERE id <= $TIME_QUERIES ORDER BY id LOOP
		SELECT count(*) INTO c FROM (SELECT id FROM ${PREFIX}_fp ORDER BY fp <#> q.fp LIMIT lim) s;
	END LOOP;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1000 / $TIME_QUERIES;
END \$\$;
SELECT 'run ' || r || ', LIMIT ' || l || ': ' || round(pg_temp.ms_a_query(l)::numeric, 3) || ' ms a query'
FROM generate_series(1, 2) r, (VALUES (10), (30), (100)) v(l) ORDER BY r, l;

SET enable_seqscan = on;
SET enable_indexscan = off;
CREATE TEMP TABLE exact AS SELECT q.id AS qid, q.fp,
	ARRAY(SELECT b.id FROM ${PREFIX}_fp b ORDER BY b.fp <#> q.fp LIMIT 100) AS ids
FROM ${PREFIX}_query q WHERE q.id <= $QUERIES;
SET enable_seqscan = off;
SET enable_indexscan = on;
SELECT 'LIMIT ' || l || ': recall ' ||
	round(avg(cardinality(ARRAY(
		SELECT unnest(ARRAY(SELECT b.id FROM ${PREFIX}_fp b ORDER BY b.fp <#> e.fp LIMIT l))
		INTERSECT SELECT unnest(e.ids[1:l])))::numeric / l), 3)
FROM exact e, (VALUES (10), (30), (100)) v(l) GROUP BY l ORDER BY l;
SQL
