# Shared by scripts/demo.sh and scripts/test.sh: dependencies, the build, a
# private PostgreSQL installation, and the unprivileged user that runs it.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_LIB=/usr/lib/postgresql/$PG_MAJOR/lib
PG_SHARE=/usr/share/postgresql/$PG_MAJOR
PGXS_DIR=$PG_LIB/pgxs
RUN_USER=${SAMPLEID_RUN_USER:-sampleid}

# Everything the build, the tests and the demo need, from Debian's archive.
DEB_PACKAGES=(
	build-essential pkg-config clang libclang-rt-14-dev
	postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libipc-run-perl
	libfftw3-dev libsndfile1-dev libsoxr-dev libsamplerate0-dev libopenblas-dev libopenblas0-serial
	libfaiss-dev liblapack-dev librubberband-dev libssl-dev libpq-dev
	libavformat-dev libavcodec-dev libavutil-dev ffmpeg
	sox espeak-ng unzip procps iproute2 chromium
	# the demo's catalogue and the recordings the CLI and sample-mode tests cut
	# their queries from (an allowed package, ../shared/data/corpus.md)
	wesnoth-1.16-music
	# building Citus from ../shared/vendor/citus (scripts/citus.sh)
	patch liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev
)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

install_deps() {
	local missing=() p
	for p in "${DEB_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	is_root || die "missing Debian packages (${missing[*]}); run as root to install them"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# PostgreSQL refuses to run as root; as root we run it as a system user.
ensure_run_user() {
	is_root || { RUN_USER=$(id -un); return 0; }
	id -u "$RUN_USER" >/dev/null 2>&1 ||
		useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER"
}

as_run_user() {
	if is_root; then
		runuser -u "$RUN_USER" -- "$@"
	else
		"$@"
	fi
}

build_all() {
	log "building (make)"
	make -C "$REPO" -s -j"$(nproc)" all >/dev/null
}

# A relocatable copy of the server with the extension installed into it, so
# tests never touch the system's PostgreSQL directories and never need root:
# postgres finds share/ and lib/ relative to its own binary.
stage_install() {
	local dest=$1
	mkdir -p "$dest/usr/lib/postgresql/$PG_MAJOR" "$dest/usr/share/postgresql/$PG_MAJOR"
	cp -a "$PG_BIN" "$PG_LIB" "$dest/usr/lib/postgresql/$PG_MAJOR/"
	cp -a "$PG_SHARE/." "$dest/usr/share/postgresql/$PG_MAJOR/"
	make -C "$REPO" -s install DESTDIR="$dest" >/dev/null
}

# A TCP port nobody listens on, starting from $1.
free_port() {
	local port=${1:-54320}
	while ss -Htln "sport = :$port" 2>/dev/null | grep -q . ; do
		port=$((port + 1))
	done
	echo "$port"
}
