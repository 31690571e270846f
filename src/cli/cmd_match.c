/*
 * cmd_match.c - `sampleid match --dsn DSN [options] PATH...`: every use of a
 * catalogue recording in each new work goes into the matches table.  The
 * work is fingerprinted here; the server's sampleid_match_uses identifies a
 * sliding window over it and merges the accepted windows into uses, and one
 * statement replaces the work's rows, so a re-run (or a run after a changed
 * work) leaves exactly the uses found this time and an interrupted run loses
 * at most the work in flight.  With a sample-kind model (or --semitones)
 * the work goes as transposed copies (sample mode, as `sampleid identify`),
 * and each use has its pitch and tempo estimates.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_inputs.h"
#include "cli_model.h"
#include "cli_pq.h"

#define CMD "match"

typedef struct match_options
{
	const char *dsn;
	const char *model_spec;
	const char *dir_opt;
	const char *catalogue;
	char		matches[300];	/* quoted */
	char		window[32];
	char		step[32];
	const char *semitones;		/* "LO:HI"; NULL: the model's default */
	int			lo,
				hi;				/* the copies, in semitones */
} match_options;

static const struct option match_opts[] = {
	{"dsn", required_argument, NULL, 'd'},
	{"model", required_argument, NULL, 'm'},
	{"model-dir", required_argument, NULL, 'D'},
	{"catalogue", required_argument, NULL, 'c'},
	{"matches", required_argument, NULL, 't'},
	{"window", required_argument, NULL, 'w'},
	{"step", required_argument, NULL, 's'},
	{"semitones", required_argument, NULL, 'S'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
match_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid match --dsn DSN [--model M] [--model-dir DIR] [--catalogue TABLE]\n"
			"                      [--matches TABLE] [--window S] [--step S] [--semitones LO:HI]\n"
			"                      PATH...\n"
			"Finds where each new work (a file, folder, glob, or - for paths on stdin)\n"
			"uses catalogue recordings and writes the uses into the matches table\n"
			"(default \"matches\", as `sampleid ingest --create` makes it), replacing\n"
			"the work's earlier rows.  The work is fingerprinted here with the model\n"
			"that fingerprinted the catalogue (default table \"segments\"); the server\n"
			"identifies a window of S seconds (default 8) every S seconds (default 2).\n"
			"Sample mode: the work is also searched transposed by LO .. HI whole\n"
			"semitones (default -3:3 with a sample-kind model such as \"sample\", else\n"
			"0:0, none); each use then has its pitch (semitones) and tempo estimates.\n");
}

/* Replaces the work's rows with the uses found; the number of uses, or -1. */
static long
match_work(PGconn *conn, const match_options *o, const char *model, const char *work,
		   const sid_embed_result *q, const uint8_t *content, const int *semitones)
{
	char		sql[1024];
	cli_query_params p;
	const char *params[9];
	PGresult   *r;
	long		uses;

	if (cli_query_params_make(q, content, semitones, &p) != 0)
	{
		fprintf(stderr, "sampleid " CMD ": %s: out of memory\n", work);
		return -1;
	}
	snprintf(sql, sizeof(sql),
			 "WITH gone AS (DELETE FROM %s WHERE work = $1) "
			 "INSERT INTO %s (work, recording_id, work_start, work_end, recording_start, "
			 "recording_end, confidence, model, semitones, tempo) "
			 "SELECT $1, u.recording_id, u.work_start, u.work_end, u.recording_start, "
			 "u.recording_end, u.confidence, $5, u.semitones, u.tempo "
			 "FROM sampleid_match_uses($2::fingerprint[], $3::real[], $4, $5, "
			 "$6::real, $7::real, $8::boolean[], shifts => $9::int[]) u", o->matches, o->matches);
	params[0] = work, params[1] = p.fingerprints, params[2] = p.t_start;
	params[3] = o->catalogue, params[4] = model, params[5] = o->window, params[6] = o->step;
	params[7] = p.content, params[8] = p.semitones;
	r = cli_pq_exec(conn, CMD, sql, 9, params);
	cli_query_params_free(&p);
	if (!r)
		return -1;
	uses = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return uses;
}

/* Every input in turn; 0 when all were matched, 1 when some failed. */
static int
match_inputs(PGconn *conn, sid_embedder *e, const match_options *o, const cli_inputs *in)
{
	int			failed = 0;

	for (size_t i = 0; i < in->n && PQstatus(conn) == CONNECTION_OK; i++)
	{
		const char *work = in->v[i].path;
		sid_embed_result q;
		uint8_t    *content = NULL;
		int		   *semitones = NULL;
		long		uses;

		if (in->v[i].error)
		{
			fprintf(stderr, "sampleid " CMD ": %s: %s\n", work, in->v[i].error);
			failed = 1;
			continue;
		}
		if (o->lo == 0 && o->hi == 0 ? cli_embed_file(CMD, e, work, &q, &content) != 0 :
			cli_embed_file_copies(CMD, e, work, o->lo, o->hi, &q, &content, &semitones) != 0)
		{
			failed = 1;
			continue;
		}
		uses = match_work(conn, o, e->model->name, work, &q, content, semitones);
		sid_embed_result_free(&q);
		free(content);
		free(semitones);
		if (uses < 0)
			failed = 1;
		else
			printf("%s: %ld use%s\n", work, uses, uses == 1 ? "" : "s");
	}
	return failed || PQstatus(conn) != CONNECTION_OK;
}

static int
quote_matches(PGconn *conn, const char *name, char *out, size_t len)
{
	if (cli_pq_quote_name(conn, name, out, len) == 0)
		return 0;
	fprintf(stderr, "sampleid " CMD ": --matches \"%s\" is too long a name\n", name);
	return -1;
}

static int
parse_match_options(int argc, char **argv, match_options *o, const char **matches)
{
	double		v;
	int			c;

	while ((c = getopt_long(argc, argv, "", match_opts, NULL)) != -1)
		switch (c)
		{
			case 'd':
				o->dsn = optarg;
				break;
			case 'm':
				o->model_spec = optarg;
				break;
			case 'D':
				o->dir_opt = optarg;
				break;
			case 'c':
				o->catalogue = optarg;
				break;
			case 't':
				*matches = optarg;
				break;
			case 'w':
			case 's':
				if (cli_double_option(CMD, c == 'w' ? "window" : "step", optarg, 0, 3600, &v) != 0)
					return cli_usage(match_usage, 0);
				snprintf(c == 'w' ? o->window : o->step, sizeof(o->window), "%.6g", v);
				break;
			case 'S':
				o->semitones = optarg;
				break;
			case 'h':
				return cli_usage(match_usage, 1);
			default:
				return cli_usage(match_usage, 0);
		}
	if (!o->dsn || optind >= argc)
	{
		fprintf(stderr, "sampleid " CMD ": --dsn and at least one PATH are required (see --help)\n");
		return 2;
	}
	return -1;
}

int
cmd_match(int argc, char **argv)
{
	match_options o = {NULL, NULL, NULL, "segments", "", "8", "2", NULL, 0, 0};
	const char *matches = "matches";
	cli_inputs	in = {0};
	sid_model  *m = NULL;
	sid_embedder *e = NULL;
	PGconn	   *conn = NULL;
	sid_error	err;
	int			rc = parse_match_options(argc, argv, &o, &matches);

	if (rc >= 0)
		return rc;
	rc = 1;
	if (cli_inputs_collect(CMD, argv + optind, argc - optind, NULL, &in) != 0 ||
		!(m = cli_load_model(o.model_spec, o.dir_opt)))
		goto done;
	if (cli_semitones_option(CMD, o.semitones, m, &o.lo, &o.hi) != 0)
	{
		rc = 2;
		goto done;
	}
	if (!(e = sid_embedder_create(m, 0.0, 16, &err)))
	{
		fprintf(stderr, "sampleid " CMD ": %s\n", err.msg);
		goto done;
	}
	if (!(conn = cli_pq_connect(CMD, o.dsn)) ||
		quote_matches(conn, matches, o.matches, sizeof(o.matches)) != 0 ||
		cli_pq_check_model(conn, CMD, o.catalogue, m->name, m->sha256) != 0)
		goto done;
	rc = match_inputs(conn, e, &o, &in);
done:
	PQfinish(conn);
	sid_embedder_free(e);
	sid_model_free(m);
	cli_inputs_free(&in);
	return rc;
}
