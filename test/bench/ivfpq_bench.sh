#!/usr/bin/env bash
# ivfpq benchmark: build time, index size, QPS and recall@10 at several probe
# settings, side by side with FAISS IndexIVFPQ (same lists / m / nbits /
# probes, plain and with exact re-ranking of as many candidates) and with an
# exact sequential scan, on clustered 128-d fingerprints.
#
#   test/bench/ivfpq_bench.sh N [LISTS] [M] [NBITS] [RERANK] [PROBES...]
#
# Needs a running PostgreSQL with the sampleid extension installed, reached
# through the usual libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE), and
# psql / pgbench on PATH (or PSQL / PGBENCH).  Data files go to
# ${BENCH_DIR:-/tmp/ivfpq-bench}/N and are reused.  BENCH_REFINE=sq8 builds the
# index with refine = sq8 (docs/ivfpq.md): ivfpq.rerank candidates are then
# scored from the refine code and only the rows that can be returned exactly.
# BENCH_PAIRS=N adds, at each probes setting, N more pairs of an in-server
# loop and a FAISS + re-rank run right after it, and their median ratio.
# BENCH_FAISS_M and BENCH_FAISS_NBITS give FAISS its own code shape, for a
# comparison at equal code size and recall rather than equal parameters (say
# ivfpq at m = 32, nbits = 4, whose scans use the SIMD kernel of
# src/lib/search/sid_pq4.h, beside FAISS at m = 16, nbits = 8).  One thread everywhere:
# FAISS with omp_set_num_threads(1) and one query per search call, the
# index build with ivfpq.build_threads = 1, pgbench with one client, the
# sequential scan without parallel workers.
set -euo pipefail

N=${1:?usage: $0 N [LISTS] [M] [NBITS] [RERANK] [PROBES...]}
LISTS=${2:-1000}
M=${3:-16}
NBITS=${4:-8}
RERANK=${5:-100}
shift $(( $# < 5 ? $# : 5 ))
PROBES=("$@")
[ ${#PROBES[@]} -gt 0 ] || PROBES=(1 2 4 8 16)
FAISS_M=${BENCH_FAISS_M:-$M}
FAISS_NBITS=${BENCH_FAISS_NBITS:-$NBITS}
Q=${BENCH_QUERIES:-1000}
SECONDS_PER_POINT=${BENCH_SECONDS:-15}
PSQL=${PSQL:-psql}
PGBENCH=${PGBENCH:-pgbench}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${BENCH_DIR:-/tmp/ivfpq-bench}/$N
mkdir -p "$DIR"
chmod 755 "$DIR"

log() { printf '==> %s\n' "$*" >&2; }
sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }

echo "# ivfpq benchmark: N=$N lists=$LISTS m=$M nbits=$NBITS refine=${BENCH_REFINE:-none} rerank=$RERANK queries=$Q faiss_m=$FAISS_M faiss_nbits=$FAISS_NBITS"
echo "# $(date -u +%FT%TZ) nproc=$(nproc) cpu=$(lscpu | sed -n 's/^Model name: *//p') load:$(uptime | sed 's/.*load average//')"

# --- data and the FAISS side ---------------------------------------------
g++ -O2 -std=c++17 -Wall -Wextra -Werror -fopenmp "$REPO/test/bench/ivfpq_faiss_side.cpp" \
	-o "$DIR/faiss_side" -lfaiss -lopenblas -llapack -lgomp
# two-level clusters: N/10 "songs" of about 10 segments each, 100 per centre
CENTRES=$(( N / 1000 > 0 ? N / 1000 : 1 ))
if [ ! -f "$DIR/truth.tsv" ]; then
	log "generating $N fingerprints"
	"$DIR/faiss_side" gen "$DIR" "$N" "$Q" "$CENTRES" 100 0.6 0.25 7
fi
log "FAISS build (cached in $DIR)"
"$DIR/faiss_side" faiss "$DIR" "$LISTS" "$FAISS_M" "$FAISS_NBITS" "$RERANK" | grep build || true

# --- PostgreSQL ----------------------------------------------------------
if [ "${BENCH_REUSE_TABLE:-0}" = 1 ]; then
	log "reusing the loaded table"
	sql -c "DROP INDEX IF EXISTS bench_fp_ivfpq"
else
log "loading into PostgreSQL"
sql <<EOF
DROP TABLE IF EXISTS bench_fp, bench_query, bench_truth;
CREATE TABLE bench_fp (id int PRIMARY KEY, fp fingerprint(128));
CREATE TABLE bench_query (id int PRIMARY KEY, fp fingerprint(128));
CREATE TABLE bench_truth (qid int, rank int, id int);
\copy bench_fp FROM '$DIR/base.copy' WITH (FORMAT binary)
\copy bench_query FROM '$DIR/query.copy' WITH (FORMAT binary)
\copy bench_truth FROM '$DIR/truth.tsv'
VACUUM ANALYZE bench_fp, bench_query, bench_truth;
EOF
fi

log "building the ivfpq index"
start=$(date +%s.%N)
sql -c "SET ivfpq.build_threads = 1; SET maintenance_work_mem = '1GB';
	CREATE INDEX bench_fp_ivfpq ON bench_fp USING ivfpq (fp) WITH (lists = $LISTS, m = $M, nbits = $NBITS, refine = ${BENCH_REFINE:-none})"
end=$(date +%s.%N)
build=$(awk "BEGIN { print $end - $start }")
read -r index_bytes table_bytes fp_bytes < <(sql -F ' ' -c "SELECT pg_relation_size('bench_fp_ivfpq'),
	pg_table_size('bench_fp'), sum(pg_column_size(fp)) FROM bench_fp")
printf 'ivfpq\tbuild_s=%.1f\tindex_bytes=%s\tfingerprint_bytes=%s\ttable_bytes=%s\tratio=1/%.1f\n' \
	"$build" "$index_bytes" "$fp_bytes" "$table_bytes" "$(awk "BEGIN { print $fp_bytes / $index_bytes }")"

cat > "$DIR/query.sql" <<'EOF'
\set q random(1, :queries)
SELECT id FROM bench_fp ORDER BY fp <#> (SELECT fp FROM bench_query WHERE id = :q) LIMIT 10;
EOF
recall_sql="SELECT round(count(*)::numeric / ($Q * 10), 4) FROM bench_truth t JOIN (
	SELECT q.id AS qid, a.id FROM bench_query q,
	LATERAL (SELECT b.id FROM bench_fp b ORDER BY b.fp <#> q.fp LIMIT 10) a) x USING (qid, id)"

# the same queries from a PL/pgSQL loop inside the server: no client round trip
sql <<'EOF'
CREATE OR REPLACE FUNCTION bench_server_qps(n int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	q fingerprint;
	r int[];
BEGIN
	FOR i IN 1..n LOOP
		SELECT fp INTO q FROM bench_query WHERE id = i;
		SELECT array_agg(id) INTO r FROM (SELECT id FROM bench_fp ORDER BY fp <#> q LIMIT 10) s;
	END LOOP;
	RETURN round(n / extract(epoch FROM clock_timestamp() - t0), 1);
END $$;
EOF

qps() { # PGOPTIONS...
	PGOPTIONS="$*" "$PGBENCH" -n -M prepared -c 1 -T "$SECONDS_PER_POINT" -D queries="$Q" \
		-f "$DIR/query.sql" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

# what one pgbench round trip costs on this machine now, beside the queries:
# on one VM it moved between 13 and 300 microseconds (docs/benchmarks.md)
echo 'SELECT 1;' > "$DIR/select1.sql"
printf 'roundtrip\tselect1_tps=%s\n' "$("$PGBENCH" -n -M prepared -c 1 -T 5 -f "$DIR/select1.sql" 2>/dev/null |
	sed -n 's/^tps = \([0-9.]*\).*/\1/p')"

for p in "${PROBES[@]}"; do
	opts="-c ivfpq.probes=$p -c ivfpq.rerank=$RERANK -c max_parallel_workers_per_gather=0"
	plan=$(PGOPTIONS="$opts" sql -c "EXPLAIN SELECT id FROM bench_fp ORDER BY fp <#> (SELECT fp FROM bench_query WHERE id = 1) LIMIT 10" | grep -c bench_fp_ivfpq || true)
	[ "$plan" -ge 1 ] || { echo "ivfpq index not used at probes=$p" >&2; exit 1; }
	recall=$(PGOPTIONS="$opts" sql -c "$recall_sql")
	# the second loop of one session: a new backend's first touches of
	# shared memory fault its pages in (at 10 M rows a tenth of the first loop)
	server=$(PGOPTIONS="$opts" sql -c "SELECT bench_server_qps($Q)" -c "SELECT bench_server_qps($Q)" | tail -1)
	printf 'ivfpq\tprobes=%s\tqps=%s\tqps_in_server=%s\trecall@10=%s\n' "$p" "$(qps "$opts")" "$server" "$recall"
	# FAISS at the same probes, right after, so both see the same machine load
	"$DIR/faiss_side" faiss "$DIR" "$LISTS" "$FAISS_M" "$FAISS_NBITS" "$RERANK" "$p"
	# BENCH_PAIRS more in-server loops, each followed by FAISS + re-rank: each
	# pair's ratio and their median, on a machine whose speed drifts within
	# minutes (FAISS alone moved 1.7x within an hour, docs/benchmarks.md)
	if [ "${BENCH_PAIRS:-0}" -gt 0 ]; then
		ratios=()
		for r in $(seq "$BENCH_PAIRS"); do
			s=$(PGOPTIONS="$opts" sql -c "SELECT bench_server_qps($Q)" -c "SELECT bench_server_qps($Q)" | tail -1)
			f=$("$DIR/faiss_side" faiss "$DIR" "$LISTS" "$FAISS_M" "$FAISS_NBITS" "$RERANK" "$p" |
				sed -n 's/^faiss_ivfpq_rerank\t.*qps=\([0-9.]*\).*/\1/p')
			ratios+=("$(awk "BEGIN { printf \"%.2f\", $s / $f }")")
			printf 'pair\tprobes=%s\tqps_in_server=%s\tfaiss_rerank_qps=%s\tratio=%s\n' "$p" "$s" "$f" "${ratios[-1]}"
		done
		printf 'pairs\tprobes=%s\tn=%s\tmedian_ratio=%s\tmin=%s\tmax=%s\n' "$p" "$BENCH_PAIRS" \
			"$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')" \
			"$(printf '%s\n' "${ratios[@]}" | sort -n | head -1)" "$(printf '%s\n' "${ratios[@]}" | sort -n | tail -1)"
	fi
done

opts="-c enable_indexscan=off -c max_parallel_workers_per_gather=0"
printf 'exact_seqscan\tqps=%s\trecall@10=1\n' "$(BENCH_SECONDS=$SECONDS_PER_POINT qps "$opts")"
