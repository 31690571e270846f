#!/usr/bin/env bash
# ivfpq's index build beside FAISS's IndexIVFPQ train + add at the same
# parameters, one thread each, run alternately ROUNDS times (this machine's
# noise moves single builds by a second or more), with the ratio of each pair.
#
#   test/bench/ivfpq_build_bench.sh N [LISTS] [M] [NBITS] [ROUNDS]
#
# Run test/bench/ivfpq_bench.sh N first: it generates the data and FAISS's
# side program under ${BENCH_DIR:-/tmp/ivfpq-bench}/N and loads the table
# (BENCH_TABLE, default bench_fp).  BENCH_REFINE as there (none or sq8).
# FAISS reads its vectors from a file and trains on a sample given to it;
# ivfpq's time includes its pass over the table, the refine codes and WAL.
set -euo pipefail

N=${1:?usage: $0 N [LISTS] [M] [NBITS] [ROUNDS]}
LISTS=${2:-1000}
M=${3:-32}
NBITS=${4:-4}
ROUNDS=${5:-3}
DIR=${BENCH_DIR:-/tmp/ivfpq-bench}/$N
TABLE=${BENCH_TABLE:-bench_fp}
PSQL=${PSQL:-psql}

[ -x "$DIR/faiss_side" ] || { echo "no $DIR/faiss_side: run test/bench/ivfpq_bench.sh $N first" >&2; exit 1; }
sql() { "$PSQL" -X -Atq -v ON_ERROR_STOP=1 "$@"; }

for r in $(seq 1 "$ROUNDS"); do
	rm -f "$DIR/faiss_${LISTS}_${M}_${NBITS}.index"
	faiss=$("$DIR/faiss_side" faiss "$DIR" "$LISTS" "$M" "$NBITS" 100 | sed -n 's/.*build_s=\([0-9.]*\).*/\1/p')
	sql -c "DROP INDEX IF EXISTS ivfpq_build_bench"
	start=$(date +%s.%N)
	sql -c "SET ivfpq.build_threads = 1; SET maintenance_work_mem = '2GB';
		CREATE INDEX ivfpq_build_bench ON $TABLE USING ivfpq (fp)
		WITH (lists = $LISTS, m = $M, nbits = $NBITS, refine = ${BENCH_REFINE:-none})"
	end=$(date +%s.%N)
	sql -c "DROP INDEX ivfpq_build_bench"
	awk -v r="$r" -v f="$faiss" -v s="$start" -v e="$end" \
		'BEGIN { printf "round %d\tfaiss_s=%.1f\tivfpq_s=%.1f\tratio=%.2fx\n", r, f, e - s, (e - s) / f }'
done
