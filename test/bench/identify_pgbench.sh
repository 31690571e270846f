#!/usr/bin/env bash
# Throughput of sampleid_identify with 1, 2, 4 and 8 concurrent clients
# (pgbench), 3 s noisy clips of the demo's catalogue tracks (test/bench/clips.sh),
# a random clip per transaction; at each client count with the verifier
# (rerank => true, the default) and without (rerank => false) back to back,
# the order swapped from one count to the next, so the ratio of the two is
# measured under the same load.
#
#   test/bench/identify_pgbench.sh DSN [SECONDS_PER_POINT] [CATALOGUE] [ROUNDS]
#
# ROUNDS (default 3): pairs of points per client count; the ratio is that of
# the summed throughputs.
# DSN: the database of the demo's catalogue (demo/demo.sql), a superuser
# (clips are read with pg_read_binary_file); pgbench on PATH.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DSN=${1:?usage: identify_pgbench.sh DSN [SECONDS_PER_POINT] [CATALOGUE] [ROUNDS]}
T=${2:-20}
CAT=${3:-segments}
ROUNDS=${4:-3}
WESNOTH=/usr/share/games/wesnoth/1.16/data/core/music
DIR=$(mktemp -d /tmp/sampleid-pgbench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
chmod 755 "$DIR"
RANDOM=20261203
export SOX_OPTS=-V1
. "$REPO/test/bench/clips.sh"
mapfile -t catalogue < <(ls "$WESNOTH"/*.ogg)
N=40
for ((q = 0; q < N; q++)); do
	src=${catalogue[RANDOM % ${#catalogue[@]}]}
	clip "$DIR/$q.wav" "$src" "$(clip_start_in "$(soxi -D "$src")" 3)" 3 $((RANDOM % 21)) "$DIR"
done
chmod a+r "$DIR"/*.wav
for rerank in true false; do
	cat > "$DIR/tx_$rerank.sql" <<SQL
\set c random(0, $((N - 1)))
SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$DIR/' || :c || '.wav'), '$CAT', rerank => $rerank);
SQL
done
# tps and mean latency of one point
point() { # clients rerank
	# -C would reconnect per transaction; each client keeps its backend (model, content gate and verifier loaded once)
	pgbench -n -f "$DIR/tx_$2.sql" -c "$1" -j "$1" -T "$T" "$DSN" 2>&1 |
		awk '/^tps/ { tps = $3 } /latency average/ { lat = $4 } END { printf "%.1f %.1f\n", tps, lat }'
}
echo "# $(date -u +%FT%TZ) nproc=$(nproc) load$(uptime | sed 's/.*load average//') catalogue=$CAT rounds=$ROUNDS"
order=(true false)
for clients in 1 2 4 8; do
	# ROUNDS pairs of points, the order swapped each time: a load that drifts
	# during a pair favours each mode as often
	sum_true=0 sum_false=0 ratios=
	for ((r = 0; r < ROUNDS; r++)); do
		declare -A tps lat
		for rerank in "${order[@]}"; do
			read -r tps[$rerank] lat[$rerank] < <(point "$clients" "$rerank")
		done
		sum_true=$(awk -v a="$sum_true" -v b="${tps[true]}" 'BEGIN { print a + b }')
		sum_false=$(awk -v a="$sum_false" -v b="${tps[false]}" 'BEGIN { print a + b }')
		ratios+="$(awk -v a="${tps[true]}" -v b="${tps[false]}" 'BEGIN { printf " %.2f", a / b }')"
		order=("${order[1]}" "${order[0]}")
	done
	awk -v c="$clients" -v t1="$sum_true" -v t0="$sum_false" -v n="$ROUNDS" -v rs="$ratios" \
		'BEGIN { printf "clients %d: verifier %.1f /s, coarse alone %.1f /s (means of %d points each); with / without %.3f (per pair:%s)\n", c, t1 / n, t0 / n, n, t1 / t0, rs }'
done
echo "# $(date -u +%FT%TZ) load$(uptime | sed 's/.*load average//')"
