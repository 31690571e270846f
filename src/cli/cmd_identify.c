/*
 * cmd_identify.c - `sampleid identify --dsn DSN [--model M] [--catalogue T]
 * [--json | --tsv] FILE...`: each file is decoded and fingerprinted here,
 * and only its fingerprints, start times and content flags go to the server,
 * to the fingerprint form of sampleid_identify.  A terminal gets a table;
 * --tsv and --json are for programs.  A file without a match prints no row
 * (the table says "no match").
 *
 * The libpq code is in small functions (connect, check the model, run the
 * query) so that one connection helper can serve every subcommand that
 * talks to a server.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cli.h"
#include "cli_model.h"
#include "audio/sid_audio.h"
#include "model/sid_content_gate.h"
#include "model/sid_embed.h"

typedef enum output_format
{
	OUT_TABLE, OUT_TSV, OUT_JSON
} output_format;

typedef struct identify_options
{
	const char *dsn;
	const char *model_spec;
	const char *dir_opt;
	const char *catalogue;
	output_format format;
} identify_options;

static const struct option identify_opts[] = {
	{"dsn", required_argument, NULL, 'd'},
	{"model", required_argument, NULL, 'm'},
	{"model-dir", required_argument, NULL, 'D'},
	{"catalogue", required_argument, NULL, 'c'},
	{"json", no_argument, NULL, 'j'},
	{"tsv", no_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

#define N_RESULT_COLUMNS 9
static const char *const result_columns[N_RESULT_COLUMNS] = {
	"recording_id", "query_start", "query_end", "ref_start", "ref_end",
	"segments", "coverage", "similarity", "probability"
};

static void
identify_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid identify --dsn DSN [--model M] [--model-dir DIR] [--catalogue TABLE]\n"
			"                         [--json | --tsv] FILE...\n"
			"Identifies each audio FILE against the catalogue table (default \"segments\")\n"
			"of the database DSN (a libpq connection string).  The file is fingerprinted\n"
			"here with the model (default: the installed \"fp\"), which must be the one\n"
			"that fingerprinted the catalogue; the server searches and decides.\n"
			"Output: a table on a terminal, else --tsv (file, then %s, ...) or\n"
			"--json (one object per file with its matches).\n", result_columns[0]);
}

static PGconn *
db_connect(const char *dsn)
{
	PGconn	   *conn = PQconnectdb(dsn);

	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "sampleid identify: could not connect: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * The catalogue's registered model must be this file: the server cannot
 * see which file a client embedded with, so the client compares digests.
 */
static int
db_check_model(PGconn *conn, const char *catalogue, const sid_model *m)
{
	const char *params[1] = {catalogue};
	PGresult   *r = PQexecParams(conn,
								 "SELECT model, model_sha256 FROM sampleid_catalogues "
								 "WHERE catalogue = $1::regclass", 1, NULL, params, NULL, NULL, 0);
	int			ok = PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "sampleid identify: %s", PQerrorMessage(conn));
	else if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), m->sha256) != 0)
	{
		fprintf(stderr, "sampleid identify: catalogue %s was fingerprinted with model \"%s\" "
				"(sha256 %.12s), not this \"%s\" (sha256 %.12s)\n", catalogue,
				PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), m->name, m->sha256);
		ok = 0;
	}
	PQclear(r);
	return ok;
}

/* The query's arrays as PostgreSQL text literals. */
static int
array_literals(const sid_embed_result *q, const uint8_t *content, char **fps, char **times,
			   char **flags)
{
	size_t		fp_len = (size_t) q->n_segments * (q->dim * 18 + 8) + 3;
	char	   *f = malloc(fp_len),
			   *t = malloc((size_t) q->n_segments * 24 + 3),
			   *c = malloc((size_t) q->n_segments * 2 + 3);
	size_t		nf = 0,
				nt = 0,
				nc = 0;

	if (!f || !t || !c)
	{
		free(f), free(t), free(c);
		return -1;
	}
	f[nf++] = '{', t[nt++] = '{', c[nc++] = '{';
	for (int64_t s = 0; s < q->n_segments; s++)
	{
		const float *v = q->fp + (size_t) s * q->dim;

		nf += snprintf(f + nf, fp_len - nf, "%s\"[", s ? "," : "");
		for (int i = 0; i < q->dim; i++)
			nf += snprintf(f + nf, fp_len - nf, i ? ",%.9g" : "%.9g", (double) v[i]);
		nf += snprintf(f + nf, fp_len - nf, "]\"");
		nt += sprintf(t + nt, "%s%.6f", s ? "," : "", q->t_start[s]);
		nc += sprintf(c + nc, "%s%c", s ? "," : "", content[s] ? 't' : 'f');
	}
	strcpy(f + nf, "}"), strcpy(t + nt, "}"), strcpy(c + nc, "}");
	*fps = f, *times = t, *flags = c;
	return 0;
}

static PGresult *
db_identify(PGconn *conn, const char *catalogue, const char *model, const sid_embed_result *q,
			const uint8_t *content)
{
	char	   *fps,
			   *times,
			   *flags;
	const char *params[5];
	PGresult   *r;

	if (array_literals(q, content, &fps, &times, &flags) != 0)
	{
		fprintf(stderr, "sampleid identify: out of memory\n");
		return NULL;
	}
	params[0] = fps, params[1] = times, params[2] = catalogue, params[3] = model, params[4] = flags;
	r = PQexecParams(conn,
					 "SELECT recording_id, query_start, query_end, ref_start, ref_end, segments, "
					 "round(coverage::numeric, 3), round(similarity::numeric, 3), probability "
					 "FROM sampleid_identify($1::fingerprint[], $2::real[], $3, model => $4, "
					 "content => $5::boolean[])", 5, NULL, params, NULL, NULL, 0);
	free(fps), free(times), free(flags);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "sampleid identify: %s", PQerrorMessage(conn));
		PQclear(r);
		return NULL;
	}
	return r;
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
print_result(const char *file, const PGresult *r, output_format format)
{
	int			n = PQntuples(r);

	if (format == OUT_JSON)
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
	if (format == OUT_TABLE && n == 0)
		printf("%-24s no match\n", file);
	for (int i = 0; i < n; i++)
	{
		if (format == OUT_TSV)
		{
			printf("%s", file);
			for (int c = 0; c < N_RESULT_COLUMNS; c++)
				printf("\t%s", PQgetisnull(r, i, c) ? "" : PQgetvalue(r, i, c));
			printf("\n");
		}
		else
			printf("%-24s recording %-8s query %6s-%-6s s  reference %7s-%-7s s  %s segments, "
				   "coverage %s, similarity %s\n", file, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
				   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
				   PQgetvalue(r, i, 5), PQgetvalue(r, i, 6), PQgetvalue(r, i, 7));
	}
}

/* One file: decode, embed with content flags, ask the server, print. */
static int
identify_file(PGconn *conn, sid_embedder *e, const identify_options *o, const char *file)
{
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_embed_result q;
	uint8_t    *content = NULL;
	sid_error	err;
	PGresult   *r;

	sid_audio_limits_default(&lim);
	if (sid_audio_decode_file(file, e->features.sample_rate, &lim, NULL, &pcm, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid identify: %s: %s\n", file, err.msg);
		return -1;
	}
	if (sid_content_embed_pcm(e, SID_DEVICE_CPU, pcm.samples, pcm.n_samples, &q, &content, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid identify: %s: %s\n", file, err.msg);
		sid_pcm_free(&pcm);
		return -1;
	}
	sid_pcm_free(&pcm);
	r = q.n_segments > 0 ? db_identify(conn, o->catalogue, e->model->name, &q, content) : NULL;
	if (q.n_segments == 0)
		fprintf(stderr, "sampleid identify: %s: shorter than one segment\n", file);
	if (r)
		print_result(file, r, o->format);
	PQclear(r);
	sid_embed_result_free(&q);
	free(content);
	return r ? 0 : -1;
}

int
cmd_identify(int argc, char **argv)
{
	identify_options o = {NULL, NULL, NULL, "segments", isatty(STDOUT_FILENO) ? OUT_TABLE : OUT_TSV};
	sid_model  *m;
	sid_embedder *e;
	sid_error	err;
	PGconn	   *conn;
	int			c,
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
			case 'j':
				o.format = OUT_JSON;
				break;
			case 't':
				o.format = OUT_TSV;
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
	if (!(e = sid_embedder_create(m, 0.0, 16, &err)))
	{
		fprintf(stderr, "sampleid identify: %s\n", err.msg);
		sid_model_free(m);
		return 1;
	}
	if (!(conn = db_connect(o.dsn)) || !db_check_model(conn, o.catalogue, m))
		status = 1;
	for (int i = optind; conn && status != 1 && i < argc; i++)
		if (identify_file(conn, e, &o, argv[i]) != 0)
			status = PQstatus(conn) == CONNECTION_OK ? 3 : 1;	/* 3: go on with the next file */
	status = status == 3 ? 1 : status;
	PQfinish(conn);
	sid_embedder_free(e);
	sid_model_free(m);
	return status;
}
