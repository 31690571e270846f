/*
 * cmd_dedupe.c - `sampleid dedupe --dsn DSN [--recordings T] [--segments T]
 * [--column LOGICAL=ACTUAL]...`: the pairs of catalogue recordings that are
 * the same audio, from sampleid_duplicates (the catalogue identified against
 * itself, on the server: the fingerprints are there already).  One line per
 * pair with how much of each is heard in the other, so a recording wholly
 * inside a longer one shows as a pair with one coverage empty.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_catalogue.h"
#include "cli_pq.h"

#define CMD "dedupe"

static void
dedupe_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid dedupe --dsn DSN [--recordings TABLE] [--segments TABLE]\n"
			"                       [--column LOGICAL=ACTUAL]...\n"
			"Lists the pairs of recordings of the catalogue that are the same audio\n"
			"(each recording identified against the others), tab-separated: both ids,\n"
			"both paths, the share of each heard in the other (empty: not found that\n"
			"way round) and the similarity.  --column renames id, audio_path,\n"
			"recording_id, t_start and fp as sampleid ingest does.\n");
}

static int
list_duplicates(PGconn *conn, const char *recordings, const char *segments, cli_columns *col)
{
	char		r[300],
				sql[2048];
	const char *params[4] = {segments, col->name[CLI_COL_RECORDING_ID], col->name[CLI_COL_T_START],
	col->name[CLI_COL_FP]};
	PGresult   *res;
	int			n;

	if (cli_pq_quote_name(conn, recordings, r, sizeof(r)) != 0 || cli_columns_quote(col, conn) != 0)
	{
		fprintf(stderr, "sampleid " CMD ": a table or column name is too long\n");
		return 1;
	}
	snprintf(sql, sizeof(sql),
			 "WITH d AS MATERIALIZED (SELECT * FROM sampleid_duplicates($1, recording_column => $2, "
			 "time_column => $3, fingerprint_column => $4)), "
			 "p AS (SELECT least(recording_id, duplicate_id) AS a, greatest(recording_id, duplicate_id) AS b, "
			 "max(coverage) FILTER (WHERE recording_id < duplicate_id) AS ab, "
			 "max(coverage) FILTER (WHERE recording_id > duplicate_id) AS ba, "
			 "max(similarity) AS sim FROM d GROUP BY 1, 2) "
			 "SELECT p.a, p.b, ra.%s, rb.%s, round(p.ab::numeric, 3), round(p.ba::numeric, 3), "
			 "round(p.sim::numeric, 3) FROM p LEFT JOIN %s ra ON ra.%s = p.a "
			 "LEFT JOIN %s rb ON rb.%s = p.b ORDER BY 1, 2",
			 col->quoted[CLI_COL_AUDIO_PATH], col->quoted[CLI_COL_AUDIO_PATH], r,
			 col->quoted[CLI_COL_ID], r, col->quoted[CLI_COL_ID]);
	if (!(res = cli_pq_exec(conn, CMD, sql, 4, params)))
		return 1;
	n = PQntuples(res);
	printf("recording_id\tduplicate_id\tpath\tduplicate_path\tcoverage\tduplicate_coverage\tsimilarity\n");
	for (int i = 0; i < n; i++)
		for (int c = 0; c < 7; c++)
			printf("%s%c", PQgetvalue(res, i, c), c == 6 ? '\n' : '\t');
	fprintf(stderr, "sampleid " CMD ": %d pair%s of recordings with the same audio\n", n, n == 1 ? "" : "s");
	PQclear(res);
	return 0;
}

int
cmd_dedupe(int argc, char **argv)
{
	cli_catalogue_args o;
	PGconn	   *conn;
	int			c,
				rc;

	cli_catalogue_args_default(&o);
	while ((c = getopt_long(argc, argv, "", cli_catalogue_options, NULL)) != -1)
		if ((rc = cli_catalogue_arg(&o, CMD, c, optarg)) <= 0)
			return rc < 0 ? 2 : cli_usage(dedupe_usage, c == 'h');
	if (!o.dsn)
	{
		fprintf(stderr, "sampleid " CMD ": --dsn is required (see --help)\n");
		return 2;
	}
	if (cli_stray_arguments(CMD, argc, argv, optind) != 0)
		return 2;
	if (!(conn = cli_pq_connect(CMD, o.dsn)))
		return 1;
	rc = list_duplicates(conn, o.recordings, o.segments, &o.col);
	PQfinish(conn);
	return rc;
}
