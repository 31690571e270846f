#!/usr/bin/env bash
# The include rules of docs/architecture.md, checked on the source tree.
# Prints one TAP line per folder ("ok N - ..." / "not ok N - ...") and a
# plan, and exits non-zero when a rule is broken; scripts/test.sh counts it
# as the "layers" suite.
#
# A folder may include its own headers and those of the folders listed for
# it below, nothing else of the project's.  The library order is
#   core < audio < augment < nn < model < corpus < search < eval < train
# and every folder lists only folders before it, so there are no cycles.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A ALLOWED=(
	[src/lib/core]=""
	[src/lib/audio]="core"
	[src/lib/augment]="core audio"
	[src/lib/nn]="core"
	[src/lib/model]="core audio nn"
	[src/lib/corpus]="core audio augment"
	[src/lib/search]="core"
	[src/lib/eval]="core audio augment nn model corpus search"
	[src/lib/train]="core audio augment nn model corpus search eval"
	[cuda]="core nn"
	[src/pg]="core audio nn model search"
	[src/ivfpq]="pg core search"
	[src/cli]="core audio augment nn model corpus search eval train"
)
# The folders, lowest first (the order the TAP lines come in).
FOLDERS=(src/lib/core src/lib/audio src/lib/augment src/lib/nn src/lib/model
	src/lib/corpus src/lib/search src/lib/eval src/lib/train cuda src/pg src/ivfpq src/cli)
PROJECT_DIRS="core audio augment nn model corpus search eval train pg ivfpq"

n=0
bad=0
check() { # ok? description [details]
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n - $2"
	else
		bad=$((bad + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
	fi
	return 0
}

# every file under src/ and cuda/ belongs to a folder with rules
strays=$(find src cuda -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.cu' \) |
	while read -r f; do
		d=$(dirname "$f")
		[ -n "${ALLOWED[$d]+x}" ] || echo "$f"
	done)
check "$([ -z "$strays" ] && echo 1 || echo 0)" "every source file lives in a folder of docs/architecture.md" "$strays"

for dir in "${FOLDERS[@]}"; do
	own=$(basename "$dir")
	allowed=" $own ${ALLOWED[$dir]} "
	violations=""
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		while IFS= read -r inc; do
			target=${inc%%/*}
			if [ "$target" = "$inc" ]; then
				# a bare name is a header of the same folder or a system one;
				# another folder's header must be named with its folder
				[ -f "$dir/$inc" ] && continue
				elsewhere=$(find src cuda -name "$inc" -print -quit)
				[ -n "$elsewhere" ] &&
					violations+="$f: \"$inc\" is $elsewhere: name it with its folder"$'\n'
			elif [[ " $PROJECT_DIRS " == *" $target "* ]] && [[ "$allowed" != *" $target "* ]]; then
				violations+="$f: includes \"$inc\" ($target is not below $own)"$'\n'
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
		# the library and cuda/ never see PostgreSQL
		case "$dir" in
			src/lib/*|cuda|src/cli)
				grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]postgres(_fe)?\.h[>"]' "$f" &&
					violations+="$f: includes PostgreSQL's postgres.h"$'\n'
				;;
		esac
	done
	check "$([ -z "$violations" ] && echo 1 || echo 0)" \
		"$dir includes no project header beyond its own${ALLOWED[$dir]:+ and those of: ${ALLOWED[$dir]}}" "${violations%$'\n'}"
done

echo "1..$n"
[ "$bad" -eq 0 ]
