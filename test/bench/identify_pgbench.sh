#!/usr/bin/env bash
# Throughput of sampleid_identify with 1, 2, 4 and 8 concurrent clients
# (pgbench), 3 s noisy clips of the demo's catalogue tracks (test/bench/clips.sh),
# a random clip per transaction.
#
#   test/bench/identify_pgbench.sh DSN [SECONDS_PER_POINT] [CATALOGUE]
#
# DSN: the database of the demo's catalogue (demo/demo.sql), a superuser
# (clips are read with pg_read_binary_file); pgbench on PATH.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DSN=${1:?usage: identify_pgbench.sh DSN [SECONDS_PER_POINT] [CATALOGUE]}
T=${2:-20}
CAT=${3:-segments}
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
cat > "$DIR/tx.sql" <<SQL
\set c random(0, $((N - 1)))
SELECT count(*) FROM sampleid_identify(pg_read_binary_file('$DIR/' || :c || '.wav'), '$CAT');
SQL
echo "# $(date -u +%FT%TZ) nproc=$(nproc) load$(uptime | sed 's/.*load average//') catalogue=$CAT"
for clients in 1 2 4 8; do
	# -C would reconnect per transaction; each client keeps its backend (model and content gate loaded once)
	pgbench -n -f "$DIR/tx.sql" -c "$clients" -j "$clients" -T "$T" "$DSN" 2>&1 |
		awk -v c="$clients" '/^tps/ { tps = $3 } /latency average/ { lat = $4 } END { printf "clients %d: %.1f identifications/s, mean latency %.1f ms\n", c, tps, lat }'
done
