#!/usr/bin/env bash
# Every test of pg_sampleid: C unit tests, the pg_regress suite, the TAP tests
# (PostgreSQL::Test::Cluster), a bounded fuzzing run and the include rules of
# docs/architecture.md.  Installs what it needs when run as root; ends with
# "N passed, N failed, N skipped".  A test that does not run (a TAP file's
# skip_all, a unit test's "# SKIP", a fuzz target that could not be built) is
# skipped, never passed; with CI=true only the GPU parity checks may skip,
# any other skip counts as a failure.
set -euo pipefail
. "$(dirname "$0")/common.sh"

install_deps
ensure_run_user
build_all
fuzz_built=1
make -C "$REPO" -s fuzz >/dev/null 2>&1 || { fuzz_built=0; log "fuzz targets not built (clang's libFuzzer missing?)"; }

STAGE=$(mktemp -d /tmp/sampleid-test.XXXXXX)
cleanup() {
	# stop any server a failed test left behind, then remove the stage
	pkill -u "$RUN_USER" -f "$STAGE" 2>/dev/null || true
	rm -rf "$STAGE"
}
trap cleanup EXIT
log "staging a private installation in $STAGE"
stage_install "$STAGE/install"
cp -a "$REPO/sql" "$REPO/expected" "$STAGE/"
mkdir -p "$STAGE/t" "$STAGE/regress" "$STAGE/tap"
# every test server preloads the library, the documented setup (docs/ivfpq.md):
# pg_regress's instance through --temp-config, TAP clusters through TEMP_CONFIG
echo "shared_preload_libraries = 'sampleid'" >"$STAGE/preload.conf"
cp -a "$REPO"/test/t/. "$STAGE/t/" 2>/dev/null || true
is_root && chown -R "$RUN_USER" "$STAGE"
BIN=$STAGE/install$PG_BIN

# SAMPLEID_SUITES limits the run, e.g. SAMPLEID_SUITES="unit regress"
SUITES=${SAMPLEID_SUITES:-layers unit regress tap fuzz nocuda}
want() { [[ " $SUITES " == *" $1 "* ]]; }

# Citus for t/070_citus.pl: built once per machine (scripts/citus.sh), into the
# system's PostgreSQL as well when root, so the demo's nodes find it too
if want tap; then
	citus_roots=("$STAGE/install")
	is_root && citus_roots+=(/)
	"$REPO/scripts/citus.sh" install "${citus_roots[@]}" || log "Citus not installed: t/070_citus.pl will skip"
fi

passed=0
failed=0
skipped=0
failed_names=()
skipped_names=()
count() { # name ok?
	if [ "$2" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_names+=("$1"); fi
}
# Only the GPU parity checks (test_cuda_*) may skip in CI: CI has no GPU, and
# everything else it needs is installed by this script, so any other skip
# means a missing install step or a broken test and fails the run.
ci_may_skip() { [[ "$1" == unit/test_cuda_* ]]; }
count_skip() { # name reason
	if [ "${CI:-}" = true ] && ! ci_may_skip "$1"; then
		count "$1 (skipped in CI: $2)" 0
	else
		skipped=$((skipped + 1))
		skipped_names+=("$1: $2")
	fi
}

# count_tap_lines NAME OUTPUT: every "ok" / "not ok" line of a TAP stream
# counts, "# SKIP reason" lines (tap.h's tap_skip) and "ok N # skip" count as
# skipped.  Returns non-zero when a line failed.
count_tap_lines() {
	local name=$1 out=$2 ok nok line
	ok=$(printf '%s\n' "$out" | grep -E '^ok ' | grep -ciEv '^ok [0-9]+( -.*)? # skip' || true)
	nok=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
	passed=$((passed + ok))
	failed=$((failed + nok))
	[ "$nok" -gt 0 ] && failed_names+=("$name")
	while IFS= read -r line; do
		[ -n "$line" ] && count_skip "$name" "$line"
	done < <(printf '%s\n' "$out" | sed -nE 's/^# SKIP (.*)/\1/p; s/^ok [0-9]+( -.*)? # [Ss][Kk][Ii][Pp] ?(.*)/\2/p')
	[ "$nok" -eq 0 ]
}

# --- include rules (docs/architecture.md) ------------------------------------
if want layers; then
	log "layers: scripts/check_layers.sh"
	out=$("$REPO/scripts/check_layers.sh" 2>&1) && rc=0 || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	count_tap_lines layers "$out" || true
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' <<<"$out"; then count "layers (exit $rc)" 0; fi
fi

# --- C unit tests: every "ok"/"not ok" line counts -------------------------
want unit && for t in "$REPO"/build/test/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log "unit: $name"
	out=$("$t" 2>&1) && rc=0 || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	if count_tap_lines "unit/$name" "$out" && [ "$rc" -ne 0 ]; then count "$name (exit $rc)" 0; fi
done

# --- pg_regress -------------------------------------------------------------
REGRESS=$(make -C "$REPO" -s --no-print-directory -f Makefile -f - print-regress <<<'print-regress: ; @echo $(REGRESS)')
if want regress && [ -n "$REGRESS" ]; then
	log "pg_regress: $REGRESS"
	port=$(free_port 54321)
	# shellcheck disable=SC2086
	out=$(cd "$STAGE" && as_run_user "$PGXS_DIR/src/test/regress/pg_regress" \
		--bindir="$BIN" --inputdir="$STAGE" --outputdir="$STAGE/regress" \
		--temp-instance="$STAGE/regress/instance" --port="$port" \
		--temp-config="$STAGE/preload.conf" \
		--dbname=contrib_regression --load-extension=sampleid $REGRESS 2>&1) && rc=0 || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	grep -qE '\.\.\. (ok|FAILED|failed)' <<<"$out" || count "pg_regress (exit $rc, no test ran)" 0
	while read -r line; do
		name=$(sed -E 's/^(test )?[[:space:]]*([^ ]+) +\.\.\..*/\2/' <<<"$line")
		case "$line" in
			*"... ok"*) count "regress/$name" 1 ;;
			*"... FAILED"*|*"... failed"*) count "regress/$name" 0 ;;
		esac
	done < <(printf '%s\n' "$out" | grep -E '\.\.\. (ok|FAILED|failed)')
	# keep what a failure needs for diagnosis (tmp_check/ is ignored by git)
	rm -rf "$REPO/tmp_check/regress" && mkdir -p "$REPO/tmp_check/regress"
	cp -a "$STAGE/regress/results" "$STAGE/regress/log" "$REPO/tmp_check/regress/" 2>/dev/null || true
	if [ -f "$STAGE/regress/regression.diffs" ]; then
		cp "$STAGE/regress/regression.diffs" "$REPO/tmp_check/"
		head -200 "$STAGE/regress/regression.diffs"
	fi
fi

# --- TAP tests (PostgreSQL::Test::Cluster) ---------------------------------
# SAMPLEID_TAP picks TAP files by a glob of their names, e.g. SAMPLEID_TAP='04*'
want tap && for t in "$STAGE"/t/${SAMPLEID_TAP:-*}.pl; do
	[ -f "$t" ] || continue
	name=t/$(basename "$t")
	log "tap: $name"
	out=$(cd "$STAGE/tap" && as_run_user env PATH="$BIN:$PATH" TESTDIR="$STAGE/tap" \
		PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" SAMPLEID_REPO="$REPO" \
		TEMP_CONFIG="$STAGE/preload.conf" perl -I "$PGXS_DIR/src/test/perl" "$t" 2>&1) && rc=0 || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	# one count per file; "1..0 # SKIP why" is plan skip_all
	skip_all=$(sed -nE 's/^1\.\.0 # [Ss][Kk][Ii][Pp] ?(.*)/\1/p' <<<"$out" | head -1)
	if [ "$rc" -eq 0 ] && [ -n "$skip_all" ]; then
		count_skip "$name" "$skip_all"
	elif [ "$rc" -eq 0 ] && ! grep -q '^not ok' <<<"$out"; then
		count "$name" 1
	else
		count "$name" 0
		# keep the failed file's server and test logs where the run can be read
		keep="$REPO/tmp_check/tap/$(basename "$t" .pl)"
		rm -rf "$keep" && mkdir -p "$keep"
		cp -a "$STAGE/tap/tmp_check/log/." "$keep/" 2>/dev/null || true
		echo "    (logs kept in ${keep#$REPO/})"
	fi
	# a file that ran may still have skipped some of its checks
	while IFS= read -r line; do
		[ -n "$line" ] && count_skip "$name" "$line"
	done < <(sed -nE 's/^ok [0-9]+( -.*)? # [Ss][Kk][Ii][Pp] ?(.*)/\2/p' <<<"$out")
done

# --- bounded fuzzing ----------------------------------------------------------
if want fuzz && [ "$fuzz_built" = 0 ]; then
	for f in "$REPO"/test/fuzz/fuzz_*.c; do
		count_skip "fuzz/$(basename "$f" .c)" "not built (clang's libFuzzer missing?)"
	done
fi
want fuzz && for f in "$REPO"/build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	secs=${SAMPLEID_FUZZ_SECONDS:-30}
	log "fuzz: $name for ${secs}s"
	corpus=$(mktemp -d)
	seeds="$REPO/test/fuzz/seeds/${name#fuzz_}"
	if "$f" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 "$corpus" \
		$( [ -d "$seeds" ] && echo "$seeds" ) >"$STAGE/$name.log" 2>&1; then
		count "fuzz/$name" 1
	else
		tail -40 "$STAGE/$name.log"
		count "fuzz/$name" 0
	fi
	tail -2 "$STAGE/$name.log" | sed 's/^/    /'
	rm -rf "$corpus"
done

# --- the same tree built without CUDA, run with the toolkit hidden ----------
# (scripts/test_nocuda.sh; its own layers/unit/regress run is one check here)
if want nocuda; then
	log "nocuda: the tree built with NVCC=, its suites run without CUDA libraries"
	out=$("$REPO/scripts/test_nocuda.sh" 2>&1) && rc=0 || rc=$?
	printf '%s\n' "$out" | grep -E '^(not ok|failed:|skipped:|[0-9]+ passed)' | sed 's/^/    /'
	inner=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
	if [ "$rc" -eq 0 ] && [[ "$inner" == *" 0 failed"* ]]; then
		count "nocuda ($inner)" 1
	else
		printf '%s\n' "$out" | tail -40
		count "nocuda (${inner:-no result})" 0
	fi
fi

if [ ${#skipped_names[@]} -gt 0 ]; then
	printf 'skipped: %s\n' "${skipped_names[@]}"
fi
if [ ${#failed_names[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${failed_names[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
