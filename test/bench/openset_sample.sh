#!/bin/bash
# The open-set benchmark in sample mode (docs/benchmarks.md, "Sample mode:
# out-of-catalogue false accepts"): a staged install of this tree (its
# models/, sample.sidv included when present), a private cluster, the 41
# Wesnoth tracks ingested with the sample model and indexed as the demo does,
# then `sampleid eval --open-set --model sample` (every query searched as its
# 7 transposed copies; degraded queries transposed, at another tempo or
# speed, two in three under a drum loop of data/overlays.tsv's test part).
#
#   test/bench/openset_sample.sh [QUERIES]     (default 40 per kind, split and length)
#
# Run as root from the repository root, after `make all`; STAGE (default
# /var/tmp/sampleid-openset-sample) holds the install, the cluster and the
# tables (openset.md).  The cluster is stopped at the end.
set -euo pipefail
. "$(dirname "$0")/../../scripts/common.sh"

QUERIES=${1:-40}
STAGE=${STAGE:-/var/tmp/sampleid-openset-sample}
MUSIC=/usr/share/games/wesnoth/1.16/data/core/music
DATA=${SAMPLEID_DATA:-/var/lib/sampleid-corpus}

rm -rf "$STAGE"
mkdir -p "$STAGE"
stage_install "$STAGE/root"
PGB=$STAGE/root/usr/lib/postgresql/$PG_MAJOR/bin
MODELS=$STAGE/root/usr/share/postgresql/$PG_MAJOR/extension/sampleid_models
chown -R "$RUN_USER" "$STAGE"
as_run_user "$PGB/initdb" -D "$STAGE/data" -U postgres --auth=trust -E UTF8 >/dev/null
PORT=$(free_port 56420)
trap 'as_run_user "$PGB/pg_ctl" -D "$STAGE/data" -m fast -w stop >/dev/null || true' EXIT
as_run_user "$PGB/pg_ctl" -D "$STAGE/data" -w -l "$STAGE/server.log" \
	-o "-p $PORT -k $STAGE -c listen_addresses='' -c shared_preload_libraries=sampleid" start >/dev/null
DSN="host=$STAGE port=$PORT user=postgres dbname=postgres"
as_run_user "$PGB/psql" -X -q "$DSN" -c 'CREATE EXTENSION sampleid'
log "models: $(ls "$MODELS" | tr '\n' ' ')"
log "ingesting $MUSIC with the sample model"
as_run_user "$REPO/build/sampleid" ingest --dsn "$DSN" --model-dir "$MODELS" --model sample --create "$MUSIC"
as_run_user "$PGB/psql" -X -q "$DSN" -c 'CREATE INDEX ON segments USING ivfpq (fp) WITH (m = 16)'
log "uptime at the start: $(uptime)"
as_run_user "$REPO/build/sampleid" eval --open-set --model-dir "$MODELS" --model sample --dsn "$DSN" \
	--manifest "$REPO/data/manifest.tsv" --data "$DATA" --overlays "$REPO/data/overlays.tsv" \
	--queries "$QUERIES" | tee "$STAGE/openset.md"
log "uptime at the end: $(uptime)"
