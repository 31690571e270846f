#!/usr/bin/env bash
# Citus for the distributed tests and for trying a distributed catalogue by hand
# (docs/distributed.md).  Debian 12 does not package Citus, so it is built from
# the source kept in ../shared/vendor/citus.
#
#   scripts/citus.sh install [ROOT...]   build once, install into each ROOT
#                                        (default /, the system PostgreSQL)
#   scripts/citus.sh start [DIR]         a coordinator and two workers on
#                                        localhost, sampleid on every node
#   scripts/citus.sh stop [DIR]          stop them (DIR defaults to .citus/)
#
# start and stop use the system's PostgreSQL, or the one installed under
# $SAMPLEID_PG_ROOT (a staged install such as scripts/test.sh makes).
# The build is cached in $SAMPLEID_CACHE (default /var/cache/sampleid) under
# the tarball's sha256, so a machine pays the minutes of compiling once.
set -euo pipefail
. "$(dirname "$0")/common.sh"

CITUS_VENDOR=${SAMPLEID_CITUS_VENDOR:-$REPO/../shared/vendor/citus}
CITUS_VERSION=13.2.2
CACHE=${SAMPLEID_CACHE:-$(is_root && echo /var/cache/sampleid || echo "${XDG_CACHE_HOME:-$HOME/.cache}/sampleid")}

citus_tarball() {
	local tb=$CITUS_VENDOR/citus-$CITUS_VERSION.tar.gz
	[ -f "$tb" ] || die "Citus source not found at $tb (set SAMPLEID_CITUS_VENDOR to the directory holding it)"
	echo "$tb"
}

# Prints the directory holding the built files (a DESTDIR tree), building
# it first when the cache has no build of this tarball.
citus_build() {
	local tb sum dir work
	tb=$(citus_tarball)
	sum=$(sha256sum "$tb" | cut -d' ' -f1)
	dir=$CACHE/citus-$sum
	mkdir -p "$CACHE"
	# two runs at once (two checkouts' tests) build it once: the second waits
	exec 9>"$CACHE/citus.lock"
	flock 9
	if [ -f "$dir/.complete" ]; then
		echo "$dir/root"
		return 0
	fi
	log "building Citus $CITUS_VERSION (once per machine; cached in $dir)"
	rm -rf "$dir" "$CACHE"/citus-build.*    # what an interrupted build left
	work=$(mktemp -d "$CACHE/citus-build.XXXXXX")
	tar xzf "$tb" -C "$work"
	(
		cd "$work/citus-$CITUS_VERSION"
		patch -s -p1 <"$CITUS_VENDOR/pg15.20-have_createdb_privilege.patch"
		./configure -q --without-libcurl PG_CONFIG="$PG_BIN/pg_config" >"$work/configure.log" 2>&1 ||
			{ tail -30 "$work/configure.log" >&2; exit 1; }
		make -s -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
		make -s install DESTDIR="$work/root" >>"$work/make.log" 2>&1 ||
			{ tail -30 "$work/make.log" >&2; exit 1; }
	)
	mkdir -p "$dir"
	mv "$work/root" "$dir/root"
	rm -rf "$work"
	touch "$dir/.complete"
	echo "$dir/root"
}

# citus_install ROOT: the built files copied under ROOT (/ or a staged install
# whose layout mirrors the system's, scripts/common.sh's stage_install), unless
# ROOT has Citus already (a stage copies the system's libraries).
citus_install() {
	local root=${1%/} built
	[ -f "$root$PG_LIB/citus.so" ] && return 0
	built=$(citus_build)
	cp -a "$built/." "$root/"
}

NODES=(coordinator worker1 worker2)
NODE_BIN=${SAMPLEID_PG_ROOT:-}$PG_BIN
NODE_LIB=${SAMPLEID_PG_ROOT:-}$PG_LIB

node_pgdata() { echo "$CLUSTER/$1"; }

# Ports are chosen when a node is initialised and kept in its postgresql.conf,
# so the coordinator's list of workers stays true across restarts.
cluster_start() {
	local node pgdata port ports=() i=0
	[ -f "$NODE_LIB/citus.so" ] || die "Citus is not installed in $NODE_LIB (run: scripts/citus.sh install, as root)"
	[ -f "$NODE_LIB/sampleid.so" ] || die "sampleid is not installed in $NODE_LIB (make install)"
	mkdir -p "$CLUSTER"
	is_root && chown "$RUN_USER" "$CLUSTER"
	for node in "${NODES[@]}"; do
		pgdata=$(node_pgdata "$node")
		if [ ! -f "$pgdata/PG_VERSION" ]; then
			port=$(free_port $((56432 + 10 * i)))
			as_run_user "$NODE_BIN/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 >/dev/null
			as_run_user tee -a "$pgdata/postgresql.conf" >/dev/null <<-EOF
				port = $port
				shared_preload_libraries = 'citus,sampleid'
				listen_addresses = 'localhost'
				unix_socket_directories = '$CLUSTER'
			EOF
		fi
		port=$(sed -nE 's/^port = ([0-9]+)$/\1/p' "$pgdata/postgresql.conf" | tail -1)
		ports+=("$port")
		i=$((i + 1))
		as_run_user "$NODE_BIN/pg_ctl" -D "$pgdata" status >/dev/null ||
			as_run_user "$NODE_BIN/pg_ctl" -D "$pgdata" -w -l "$CLUSTER/$node.log" start >/dev/null
	done
	# every node up first: the coordinator's DDL goes to the workers it knows;
	# and only once: Citus refuses even CREATE EXTENSION IF NOT EXISTS on a worker
	# for an extension the coordinator has distributed
	for port in "${ports[@]}"; do
		[ "$(as_run_user "$NODE_BIN/psql" -h localhost -p "$port" -U postgres -XAtc \
			"SELECT count(*) FROM pg_extension WHERE extname IN ('citus', 'sampleid')")" = 2 ] ||
			as_run_user "$NODE_BIN/psql" -h localhost -p "$port" -U postgres -qX -v ON_ERROR_STOP=1 \
				-c 'CREATE EXTENSION IF NOT EXISTS citus' -c 'CREATE EXTENSION IF NOT EXISTS sampleid' >/dev/null
	done
	# idempotent, so that a start cut short before this point is completed by the next
	as_run_user "$NODE_BIN/psql" -h localhost -p "${ports[0]}" -U postgres -qX -v ON_ERROR_STOP=1 >/dev/null <<-EOF
		SELECT citus_set_coordinator_host('localhost', ${ports[0]});
		SELECT citus_add_node('localhost', p) FROM unnest(ARRAY[${ports[1]}, ${ports[2]}]) p
		WHERE NOT EXISTS (SELECT FROM pg_dist_node WHERE nodeport = p);
	EOF
	echo "coordinator: psql -h localhost -p ${ports[0]} -U postgres (workers on ports ${ports[1]} and ${ports[2]})"
}

cluster_stop() {
	local node
	for node in "${NODES[@]}"; do
		[ -f "$(node_pgdata "$node")/postmaster.pid" ] || continue
		as_run_user "$NODE_BIN/pg_ctl" -D "$(node_pgdata "$node")" -m fast -w stop >/dev/null || true
	done
}

case ${1:-} in
	install)
		shift
		[ $# -gt 0 ] || set -- /
		for root in "$@"; do citus_install "$root"; done
		;;
	start) CLUSTER=$(realpath -m "${2:-$REPO/.citus}"); ensure_run_user; cluster_start ;;
	stop) CLUSTER=$(realpath -m "${2:-$REPO/.citus}"); ensure_run_user; cluster_stop ;;
	*) die "usage: scripts/citus.sh install [ROOT...] | start [DIR] | stop [DIR]" ;;
esac
