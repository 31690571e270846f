#!/usr/bin/env bash
# The main job: install what is needed, build and install the extension, start
# a private PostgreSQL cluster inside the checkout (.demo/), run the
# demonstration in demo/demo.sql, and stop the cluster again.
set -euo pipefail
. "$(dirname "$0")/common.sh"

install_deps
ensure_run_user
build_all
if is_root; then
	log "installing the extension into $(pg_config --sharedir) and $(pg_config --pkglibdir)"
	make -C "$REPO" -s install >/dev/null
	ln -sf "$PG_BIN/sampleid" /usr/local/bin/sampleid
else
	log "not root: assuming the extension is installed (run as root to install it)"
fi

DEMO=$REPO/.demo
PGDATA=$DEMO/pgdata
mkdir -p "$DEMO"
is_root && chown "$RUN_USER" "$DEMO"
as_run_user test -w "$DEMO" ||
	die "user $RUN_USER cannot write $DEMO (is the checkout below a directory it cannot enter?)"

stop_cluster() {
	if [ -f "$PGDATA/postmaster.pid" ]; then
		log "stopping the demo cluster"
		as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
	fi
}
trap stop_cluster EXIT
stop_cluster   # a previous run that was killed may have left one behind

if [ ! -f "$PGDATA/PG_VERSION" ]; then
	log "initialising a private cluster in $PGDATA"
	as_run_user "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
fi
PORT=$(free_port 55432)
log "starting it on port $PORT (socket in $DEMO)"
as_run_user "$PG_BIN/pg_ctl" -D "$PGDATA" -w -l "$DEMO/server.log" \
	-o "-p $PORT -k $DEMO -c listen_addresses=''" start >/dev/null

export PGHOST=$DEMO PGPORT=$PORT PGUSER=postgres
as_run_user "$PG_BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS sampleid_demo" \
	-c "CREATE DATABASE sampleid_demo"
log "running demo/demo.sql"
as_run_user env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
	"$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -d sampleid_demo -f "$REPO/demo/demo.sql"
log "demo finished"
