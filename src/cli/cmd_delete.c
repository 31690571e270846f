/*
 * cmd_delete.c - `sampleid delete --dsn DSN [--recordings T] [--segments T]
 * PATH...`: removes recordings (by the path they were ingested from) and
 * their segments, in one transaction.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_catalogue.h"
#include "cli_inputs.h"
#include "cli_pq.h"

#define CMD "delete"

static void
delete_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid delete --dsn DSN [--recordings TABLE] [--segments TABLE]\n"
			"                       [--column LOGICAL=ACTUAL]... PATH...\n"
			"Removes the recordings ingested from each PATH (file, folder, glob, or \"-\" for a\n"
			"list on stdin, as sampleid ingest takes them) and their segments, in one\n"
			"transaction.  A PATH that is no longer on disk is matched as written.\n"
			"--column renames the columns id, audio_path and recording_id as sampleid ingest does.\n"
			"Exit status: 0 when every PATH named a recording, 1 otherwise.\n");
}

/* The paths as one text[] literal, {"a","b"}, for a single statement. */
static char *
paths_array(const cli_inputs *in)
{
	size_t		cap = 3;
	char	   *s,
			   *p;

	for (size_t i = 0; i < in->n; i++)
		cap += 2 * strlen(in->v[i].path) + 3;
	if (!(s = malloc(cap)))
		return NULL;
	p = s;
	*p++ = '{';
	for (size_t i = 0; i < in->n; i++)
	{
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *c = in->v[i].path; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return s;
}

static int
delete_recordings(PGconn *conn, const char *recordings, const char *segments, cli_columns *col,
				  const cli_inputs *in)
{
	char		r[300],
				s[300],
				sql[2048];
	const char *id,
			   *path,
			   *rid;
	const char *params[1];
	PGresult   *res;
	long		n;
	int			rc = -1;

	if (cli_pq_quote_name(conn, recordings, r, sizeof(r)) || cli_pq_quote_name(conn, segments, s, sizeof(s)) ||
		cli_columns_quote(col, conn) != 0)
		return -1;
	id = col->quoted[CLI_COL_ID];
	path = col->quoted[CLI_COL_AUDIO_PATH];
	rid = col->quoted[CLI_COL_RECORDING_ID];
	if (!(params[0] = paths_array(in)))
		return -1;
	snprintf(sql, sizeof(sql),
			 "WITH r AS (SELECT %s AS id FROM %s WHERE %s = ANY ($1::text[])), "
			 "s AS (DELETE FROM %s WHERE %s IN (SELECT id FROM r)) "
			 "DELETE FROM %s WHERE %s IN (SELECT id FROM r) RETURNING 1", id, r, path, s, rid, r, id);
	if ((res = cli_pq_exec(conn, CMD, sql, 1, params)))
	{
		n = PQntuples(res);
		fprintf(stderr, "sampleid delete: %ld of %zu paths deleted with their segments\n", n, in->n);
		rc = n == (long) in->n ? 0 : 1;
		PQclear(res);
	}
	free((char *) params[0]);
	return rc;
}

int
cmd_delete(int argc, char **argv)
{
	cli_catalogue_args o;
	cli_inputs	in;
	PGconn	   *conn;
	int			c,
				rc;

	cli_catalogue_args_default(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", cli_catalogue_options, NULL)) != -1)
		if ((rc = cli_catalogue_arg(&o, CMD, c, optarg)) <= 0)
			return rc < 0 ? 2 : cli_usage(delete_usage, c == 'h');
	if (!o.dsn || optind >= argc)
	{
		fprintf(stderr, "sampleid delete: --dsn and at least one PATH are required (see --help)\n");
		return 2;
	}
	if (cli_inputs_collect(CMD, argv + optind, argc - optind, NULL, &in) != 0)
		return 1;
	if (!(conn = cli_pq_connect(CMD, o.dsn)))
	{
		cli_inputs_free(&in);
		return 1;
	}
	rc = delete_recordings(conn, o.recordings, o.segments, &o.col, &in);
	PQfinish(conn);
	cli_inputs_free(&in);
	return rc < 0 ? 1 : rc;
}
