/*
 * cmd_identify.c - `sampleid identify --dsn DSN [--model M] [--catalogue T]
 * [--json | --tsv] FILE...`: each file is decoded and fingerprinted here,
 * and only its fingerprints, start times and content flags go to the server,
 * to the fingerprint form of sampleid_identify.  A terminal gets a table;
 * --tsv and --json are for programs.  A file without a match prints no row
 * (the table says "no match").  With a sample-kind model (or --semitones)
 * the file's transposed copies are made and fingerprinted here and sent with
 * each row's shift: the server's sample mode.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_model.h"
#include "cli_pq.h"
#include "audio/sid_stretch.h"

typedef struct identify_options
{
	const char *dsn;
	const char *model_spec;
	const char *dir_opt;
	const char *catalogue;
	const char *min_similarity;	/* NULL: the function's default */
	const char *min_coverage;
	const char *semitones;		/* "LO:HI"; NULL: the model's default */
	cli_output_format format;
} identify_options;

static const struct option identify_opts[] = {
	{"dsn", required_argument, NULL, 'd'},
	{"model", required_argument, NULL, 'm'},
	{"model-dir", required_argument, NULL, 'D'},
	{"catalogue", required_argument, NULL, 'c'},
	{"min-similarity", required_argument, NULL, 's'},
	{"min-coverage", required_argument, NULL, 'C'},
	{"semitones", required_argument, NULL, 'S'},
	{"json", no_argument, NULL, 'j'},
	{"tsv", no_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

#define N_RESULT_COLUMNS 11
static const char *const result_columns[N_RESULT_COLUMNS] = {
	"recording_id", "query_start", "query_end", "ref_start", "ref_end",
	"segments", "coverage", "similarity", "probability", "semitones", "tempo"
};


static void
identify_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid identify --dsn DSN [--model M] [--model-dir DIR] [--catalogue TABLE]\n"
			"                         [--min-similarity S] [--min-coverage C] [--semitones LO:HI]\n"
			"                         [--json | --tsv] FILE...\n"
			"Identifies each audio FILE against the catalogue table (default \"segments\")\n"
			"of the database DSN (a libpq connection string).  The file is fingerprinted\n"
			"here with the model (default: the installed \"fp\"), which must be the one\n"
			"that fingerprinted the catalogue; the server searches and decides\n"
			"(--min-similarity and --min-coverage override sampleid_identify's defaults).\n"
			"Sample mode: the file is also searched transposed by LO .. HI whole semitones\n"
			"(default -3:3 with a sample-kind model such as \"sample\", else 0:0, none);\n"
			"each match then has its pitch (semitones) and tempo estimates.\n"
			"Output: a table on a terminal, else --tsv (file, then %s, ...) or\n"
			"--json (one object per file with its matches).\n", result_columns[0]);
}

static void
print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char) *s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	putchar('"');
}

static void
print_result(const char *file, const PGresult *r, cli_output_format format)
{
	int			n = PQntuples(r);

	if (format == CLI_OUT_JSON)
	{
		printf("{\"file\": ");
		print_json_string(file);
		printf(", \"matches\": [");
		for (int i = 0; i < n; i++)
		{
			printf(i ? ", {" : "{");
			for (int c = 0; c < N_RESULT_COLUMNS; c++)
				printf("%s\"%s\": %s", c ? ", " : "", result_columns[c],
					   PQgetisnull(r, i, c) ? "null" : PQgetvalue(r, i, c));
			printf("}");
		}
		printf("]}\n");
		return;
	}
	if (format == CLI_OUT_TABLE && n == 0)
		printf("%-24s no match\n", file);
	for (int i = 0; i < n; i++)
	{
		if (format == CLI_OUT_TSV)
		{
			printf("%s", file);
			for (int c = 0; c < N_RESULT_COLUMNS; c++)
				printf("\t%s", PQgetisnull(r, i, c) ? "" : PQgetvalue(r, i, c));
			printf("\n");
		}
		else
		{
			printf("%-24s recording %-8s query %6s-%-6s s  reference %7s-%-7s s  %s segments, "
				   "coverage %s, similarity %s", file, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
				   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
				   PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), PQgetvalue(r, i, 7));
			if (!PQgetisnull(r, i, 9))
				printf(", pitch %s st, tempo %s", PQgetvalue(r, i, 9), PQgetvalue(r, i, 10));
			printf("\n");
		}
	}
}

/*
 * One file: decode, embed with content flags (each copy of lo .. hi
 * semitones when that is not 0 .. 0), ask the server, print.
 */
static int
identify_file(PGconn *conn, sid_embedder *e, const identify_options *o, int lo, int hi,
			  const char *file)
{
	sid_embed_result q;
	uint8_t    *content = NULL;
	int		   *semitones = NULL;
	PGresult   *r;

	if (lo == 0 && hi == 0 ? cli_embed_file("identify", e, file, &q, &content) != 0 :
		cli_embed_file_copies("identify", e, file, lo, hi, &q, &content, &semitones) != 0)
		return -1;
	r = cli_pq_identify(conn, "identify", o->catalogue, e->model->name, &q, content, semitones,
						o->min_similarity, o->min_coverage);
	if (r)
		print_result(file, r, o->format);
	PQclear(r);
	sid_embed_result_free(&q);
	free(content);
	free(semitones);
	return r ? 0 : -1;
}

int
cmd_identify(int argc, char **argv)
{
	identify_options o = {NULL, NULL, NULL, "segments", NULL, NULL, NULL,
	isatty(STDOUT_FILENO) ? CLI_OUT_TABLE : CLI_OUT_TSV};
	sid_model  *m;
	sid_embedder *e;
	sid_error	err;
	PGconn	   *conn;
	int			c,
				lo = 0,
				hi = 0,
				status = 0;

	while ((c = getopt_long(argc, argv, "", identify_opts, NULL)) != -1)
		switch (c)
		{
			case 'd':
				o.dsn = optarg;
				break;
			case 'm':
				o.model_spec = optarg;
				break;
			case 'D':
				o.dir_opt = optarg;
				break;
			case 'c':
				o.catalogue = optarg;
				break;
			case 's':
				o.min_similarity = optarg;
				break;
			case 'C':
				o.min_coverage = optarg;
				break;
			case 'S':
				o.semitones = optarg;
				break;
			case 'j':
				o.format = CLI_OUT_JSON;
				break;
			case 't':
				o.format = CLI_OUT_TSV;
				break;
			case 'h':
				return cli_usage(identify_usage, 1);
			default:
				return cli_usage(identify_usage, 0);
		}
	if (!o.dsn || optind >= argc)
		return cli_usage(identify_usage, 0);
	if (!(m = cli_load_model(o.model_spec, o.dir_opt)))
		return 1;
	if (cli_semitones_option("identify", o.semitones, m, &lo, &hi) != 0)
	{
		sid_model_free(m);
		return cli_usage(identify_usage, 0);
	}
	if (!(e = sid_embedder_create(m, 0.0, 16, &err)))
	{
		fprintf(stderr, "sampleid identify: %s\n", err.msg);
		sid_model_free(m);
		return 1;
	}
	if (!(conn = cli_pq_connect("identify", o.dsn)) ||
		cli_pq_check_model(conn, "identify", o.catalogue, m->name, m->sha256) != 0)
		status = 1;
	for (int i = optind; conn && status != 1 && i < argc; i++)
		if (identify_file(conn, e, &o, lo, hi, argv[i]) != 0)
			status = PQstatus(conn) == CONNECTION_OK ? 3 : 1;	/* 3: go on with the next file */
	status = status == 3 ? 1 : status;
	PQfinish(conn);
	sid_embedder_free(e);
	sid_model_free(m);
	return status;
}
