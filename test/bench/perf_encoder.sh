#!/bin/bash
# perf_encoder.sh - where the encoder's time goes: perf record (cpu-clock, so
# it works where hardware counters do not) of `bench_nn SECONDS 0 BATCH`,
# then self time per function over the samples taken inside
# bench_encoder_only (the sgemm peak measured first is left out).
#
#   make bench && test/bench/perf_encoder.sh [BENCH_NN] [BATCH] [SECONDS] [TOP]
#
# BENCH_NN defaults to build/bench/bench_nn (pass another build's to compare).
set -euo pipefail
bin=${1:-build/bench/bench_nn}
batch=${2:-32}
secs=${3:-5}
top=${4:-12}
data=$(mktemp /tmp/perf_encoder.XXXXXX)
trap 'rm -f "$data"' EXIT
perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -o "$data" "$bin" "$secs" 0 "$batch" >&2
# a sample's first stack line is the function it was in; its other lines the callers
perf script -i "$data" -F ip,sym 2>/dev/null | awk -v top="$top" '
	function flush() {
		if (leaf != "" && inside) { self[leaf]++; n++ }
		leaf = ""; inside = 0
	}
	NF == 0 { flush(); next }
	{
		sym = $2
		if (leaf == "") leaf = (sym == "[unknown]" ? "[unknown]" : sym)
		if (sym == "bench_encoder_only") inside = 1
	}
	END {
		flush()
		printf "%d samples inside bench_encoder_only (batch '"$batch"'); self time:\n", n
		for (s in self) printf "%6.1f %%  %s\n", 100 * self[s] / n, s | "sort -rn | head -" top
	}'
