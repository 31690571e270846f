#!/usr/bin/env bash
# load_time.sh - what a new backend pays the first time it touches the
# extension: \timing of LOAD 'sampleid' in N fresh connections, beside
# LOAD 'plpgsql' in the same run, on a private server staged from this tree.
#
#   make && test/bench/load_time.sh [N [OTHER.so ...]]      (default N = 20)
#
# OTHER.so: other builds of sampleid.so (say, of an older commit), staged
# beside it as sampleid_other1.so, ... and timed in the same run.  The
# libraries take turns, one connection each, so drift in the machine's load
# is shared.  Prints every timing, the medians, each median's ratio to
# plpgsql's, and the shared libraries every build needs (ldd).
set -euo pipefail
. "$(dirname "$0")/../../scripts/common.sh"

N=${1:-20}
shift || true
ensure_run_user
STAGE=$(mktemp -d /tmp/sampleid-load.XXXXXX)
cleanup() {
	[ -f "$STAGE/data/postmaster.pid" ] &&
		as_run_user "$STAGE/install$PG_BIN/pg_ctl" -D "$STAGE/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$STAGE"
}
trap cleanup EXIT
stage_install "$STAGE/install"
LIBS=(sampleid)
for other in "$@"; do
	LIBS+=("sampleid_other${#LIBS[@]}")
	cp "$other" "$STAGE/install$PG_LIB/${LIBS[-1]}.so"
	echo "${LIBS[-1]} = $other"
done
LIBS+=(plpgsql)
is_root && chown -R "$RUN_USER" "$STAGE"
BIN=$STAGE/install$PG_BIN
PORT=$(free_port 56432)
as_run_user "$BIN/initdb" -D "$STAGE/data" -A trust -U postgres >/dev/null
as_run_user "$BIN/pg_ctl" -D "$STAGE/data" -o "-p $PORT -k $STAGE -c listen_addresses=''" \
	-l "$STAGE/log" -w start >/dev/null

# one fresh connection per call; prints the LOAD's milliseconds
load_ms() {
	printf '\\timing on\nLOAD %s;\n' "'$1'" |
		as_run_user "$BIN/psql" -X -q -h "$STAGE" -p "$PORT" -U postgres -d postgres 2>&1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for lib in "${LIBS[@]}"; do : >"$STAGE/$lib.ms"; done
for _ in $(seq "$N"); do
	for lib in "${LIBS[@]}"; do load_ms "$lib" >>"$STAGE/$lib.ms"; done
done
m_plpgsql=$(median <"$STAGE/plpgsql.ms")
for lib in "${LIBS[@]}"; do
	m=$(median <"$STAGE/$lib.ms")
	echo "LOAD '$lib' ($N fresh connections, ms): $(tr '\n' ' ' <"$STAGE/$lib.ms")"
	echo "  median $m ms, $(awk -v a="$m" -v b="$m_plpgsql" 'BEGIN { printf "%.1f", a / b }')x plpgsql"
done
for lib in "${LIBS[@]}"; do
	[ "$lib" = plpgsql ] && continue
	echo "$lib.so needs: $(ldd "$STAGE/install$PG_LIB/$lib.so" | awk '$1 !~ /^\// { print $1 }' | tr '\n' ' ')"
done
