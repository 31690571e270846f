#!/usr/bin/env bash
# CPU time per query of ivfpq scans, as the backend's own user + system time
# (/proc/self/stat, read with pg_read_file, so a superuser connection), over
# 3 x 1000 queries (after 1000 to warm the caches) of the PL/pgSQL loop that test/bench/ivfpq_bench.sh
# creates (bench_server_qps).  Unlike QPS it hardly moves with the load other
# processes put on a shared machine, so two builds of the library can be
# compared on it:
#
#   test/bench/ivfpq_cpu_per_query.sh RERANK PROBES...
#
# Needs the tables and index of an ivfpq_bench.sh run (libpq variables, psql
# on PATH or in PSQL).  Prints per probes setting the three loops' QPS and
# the CPU milliseconds per query (resolution: one clock tick over 3000
# queries).
set -euo pipefail
RERANK=${1:?usage: $0 RERANK PROBES...}
shift
PSQL=${PSQL:-psql}
tick=$(getconf CLK_TCK)
cpu="(split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint +
	split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint)"
for p in "$@"; do
	out=$("$PSQL" -X -q -At -v ON_ERROR_STOP=1 <<SQL
SET ivfpq.probes = $p; SET ivfpq.rerank = $RERANK; SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE cpu AS SELECT bench_server_qps(1000) AS warm, $cpu AS t0;
SELECT bench_server_qps(1000) || ' ' || bench_server_qps(1000) || ' ' || bench_server_qps(1000)
	|| ' cpu_ms_per_query=' || round(($cpu - t0) * 1000.0 / $tick / 3000, 4) FROM cpu;
SQL
)
	printf 'ivfpq\tprobes=%s\tqps_in_server=%s\n' "$p" "$out"
done
