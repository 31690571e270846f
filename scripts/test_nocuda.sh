#!/usr/bin/env bash
# The extension on a machine without CUDA: a copy of this tree built once with
# NVCC= runs the layers, unit and regression suites (scripts/test.sh) while
# the CUDA toolkit's directories are hidden (a private mount namespace with an
# empty tmpfs over each /usr/local/cuda-*), so nothing can load a CUDA
# library even through the ld.so cache.  Checks first that no built binary
# and no staged library needs one.  Ends with test.sh's "N passed, ..." line.
set -euo pipefail
. "$(dirname "$0")/common.sh"

COPY=$(mktemp -d /tmp/sampleid-nocuda.XXXXXX)
trap 'rm -rf "$COPY"' EXIT
log "copying the tree to $COPY (without build outputs)"
tar -C "$REPO" --exclude=./.git --exclude=./build --exclude=./tmp_check --exclude=./results \
	--exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$COPY" -xf -
log "building with NVCC="
NVCC= make -C "$COPY" -s -j"$(nproc)" all >/dev/null
needs=$(find "$COPY/build" "$COPY"/*.so -type f -perm -u+x 2>/dev/null |
	xargs -r ldd 2>/dev/null | grep -E 'libcu(da|dart|blas)' || true)
[ -z "$needs" ] || die "a build with NVCC= still needs CUDA libraries: $needs"

hidden=$(find /usr/local -maxdepth 1 -type d -name 'cuda-*' 2>/dev/null | tr '\n' ' ')
# the caller's suites less nocuda itself: SAMPLEID_SUITES=nocuda recursed without end
suites=$(printf '%s\n' ${SAMPLEID_SUITES:-layers unit regress} | { grep -vx nocuda || true; } | tr '\n' ' ')
[ -n "${suites// /}" ] || suites="layers unit regress"
if [ -n "$hidden" ] && is_root && unshare -m true 2>/dev/null; then
	log "hiding ${hidden}while the suites run"
	NVCC= SAMPLEID_SUITES="$suites" unshare -m bash -c \
		'for d in $0; do mount -t tmpfs tmpfs "$d"; done; exec "$1/scripts/test.sh"' \
		"$hidden" "$COPY"
else
	log "CUDA toolkit not hidden (${hidden:-none installed}; needs root and unshare)"
	NVCC= SAMPLEID_SUITES="$suites" "$COPY/scripts/test.sh"
fi
