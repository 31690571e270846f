/*
 * cli_pq.c - libpq helpers of the client commands (cli_pq.h).
 */
#include "cli_pq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_HEADER_LEN 19		/* signature (11), flags (4), extension length (4) */

PGconn *
cli_pq_connect(const char *cmd, const char *dsn)
{
	PGconn	   *conn = PQconnectdb(dsn ? dsn : "");

	if (PQstatus(conn) != CONNECTION_OK)
	{
		/* where it tried, from the parsed options: the DSN itself may hold a password */
		fprintf(stderr, "sampleid %s: cannot connect to database \"%s\" at %s port %s: %s\n", cmd,
				conn ? PQdb(conn) : "", conn && PQhost(conn) ? PQhost(conn) : "(default)",
				conn && PQport(conn) ? PQport(conn) : "(default)", cli_pq_error(conn));
		PQfinish(conn);
		return NULL;
	}
	/* notices (relation exists, skipping, ...) would interleave with our log lines; warnings stay */
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	return conn;
}

const char *
cli_pq_error(PGconn *conn)
{
	static __thread char line[1024];
	const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
	size_t		n;

	snprintf(line, sizeof(line), "%s", msg);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return line;
}

PGresult *
cli_pq_exec(PGconn *conn, const char *cmd, const char *sql, int n_params,
			const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, n_params, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	fprintf(stderr, "sampleid %s: %s\n", cmd, cli_pq_error(conn));
	PQclear(res);
	return NULL;
}

int
cli_pq_run(PGconn *conn, const char *cmd, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	PQclear(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	fprintf(stderr, "sampleid %s: %s\n", cmd, cli_pq_error(conn));
	return -1;
}

int
cli_pq_quote_name(PGconn *conn, const char *name, char *out, size_t out_len)
{
	const char *dot = strchr(name, '.');
	char	   *a,
			   *b = NULL;
	int			n;

	if (dot)
	{
		char	   *schema = strndup(name, (size_t) (dot - name));

		a = schema ? PQescapeIdentifier(conn, schema, strlen(schema)) : NULL;
		b = PQescapeIdentifier(conn, dot + 1, strlen(dot + 1));
		free(schema);
	}
	else
		a = PQescapeIdentifier(conn, name, strlen(name));
	if (!a || (dot && !b))
		n = -1;
	else
		n = snprintf(out, out_len, "%s%s%s", a, b ? "." : "", b ? b : "");
	PQfreemem(a);
	PQfreemem(b);
	return n >= 0 && (size_t) n < out_len ? 0 : -1;
}

/* ---------- COPY BINARY ---------- */

static void
put_bytes(cli_copy_buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 4096;
		unsigned char *d;

		while (cap < b->len + n)
			cap *= 2;
		if (!(d = realloc(b->data, cap)))
		{
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* network byte order, whatever the host's */
static void
put_be(cli_copy_buf *b, uint64_t v, int bytes)
{
	unsigned char o[8];

	for (int i = 0; i < bytes; i++)
		o[i] = (unsigned char) (v >> (8 * (bytes - 1 - i)));
	put_bytes(b, o, (size_t) bytes);
}

void
cli_copy_init(cli_copy_buf *b)
{
	memset(b, 0, sizeof(*b));
	put_bytes(b, "PGCOPY\n\377\r\n\0", 11);
	put_be(b, 0, 4);			/* flags: no OIDs */
	put_be(b, 0, 4);			/* no header extension */
}

void
cli_copy_free(cli_copy_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
cli_copy_reset(cli_copy_buf *b)
{
	if (b->len > COPY_HEADER_LEN)
		b->len = COPY_HEADER_LEN;
}

void
cli_copy_row(cli_copy_buf *b, int n_fields)
{
	put_be(b, (uint64_t) n_fields, 2);
}

void
cli_copy_null(cli_copy_buf *b)
{
	put_be(b, 0xffffffffu, 4);
}

void
cli_copy_int4(cli_copy_buf *b, int32_t v)
{
	put_be(b, 4, 4);
	put_be(b, (uint32_t) v, 4);
}

void
cli_copy_int8(cli_copy_buf *b, int64_t v)
{
	put_be(b, 8, 4);
	put_be(b, (uint64_t) v, 8);
}

void
cli_copy_float4(cli_copy_buf *b, float v)
{
	uint32_t	bits;

	memcpy(&bits, &v, sizeof(bits));
	put_be(b, 4, 4);
	put_be(b, bits, 4);
}

void
cli_copy_text(cli_copy_buf *b, const char *s)
{
	size_t		n = strlen(s);

	put_be(b, (uint64_t) n, 4);
	put_bytes(b, s, n);
}

void
cli_copy_fingerprint(cli_copy_buf *b, const float *v, int dim)
{
	put_be(b, 4 + 4 * (uint64_t) dim, 4);
	put_be(b, (uint64_t) dim, 2);
	put_be(b, 0, 2);
	for (int i = 0; i < dim; i++)
	{
		uint32_t	bits;

		memcpy(&bits, &v[i], sizeof(bits));
		put_be(b, bits, 4);
	}
}

int64_t
cli_pq_copy(PGconn *conn, const char *cmd, const char *copy_sql, cli_copy_buf *b)
{
	PGresult   *res;
	int64_t		rows = -1;

	if (b->failed)
	{
		fprintf(stderr, "sampleid %s: out of memory building the COPY data\n", cmd);
		return -1;
	}
	res = PQexec(conn, copy_sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		fprintf(stderr, "sampleid %s: %s\n", cmd, cli_pq_error(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	put_be(b, 0xffff, 2);		/* trailer: a row of -1 fields */
	if (b->failed || PQputCopyData(conn, (const char *) b->data, (int) b->len) != 1)
		PQputCopyEnd(conn, "the client could not send the data");
	else
		PQputCopyEnd(conn, NULL);
	b->len -= 2;
	while ((res = PQgetResult(conn)) != NULL)
	{
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			rows = strtoll(PQcmdTuples(res), NULL, 10);
		else
			fprintf(stderr, "sampleid %s: %s\n", cmd, cli_pq_error(conn));
		PQclear(res);
	}
	return rows;
}

int
cli_pq_check_model(PGconn *conn, const char *cmd, const char *catalogue, const char *model,
				   const char *model_sha256)
{
	const char *params[1] = {catalogue};
	PGresult   *r = cli_pq_exec(conn, cmd, "SELECT model, model_sha256 FROM sampleid_catalogues "
								"WHERE catalogue = $1::regclass", 1, params);
	int			ok = r != NULL;

	if (ok && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), model_sha256) != 0)
	{
		fprintf(stderr, "sampleid %s: catalogue %s was fingerprinted with model \"%s\" "
				"(sha256 %.12s), not this \"%s\" (sha256 %.12s)\n", cmd, catalogue,
				PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), model, model_sha256);
		ok = 0;
	}
	PQclear(r);
	return ok ? 0 : -1;
}

int
cli_query_params_make(const sid_embed_result *q, const uint8_t *content, const int *semitones,
					  cli_query_params *out)
{
	size_t		fp_len = (size_t) q->n_segments * (q->dim * 18 + 8) + 3;
	char	   *f = malloc(fp_len),
			   *t = malloc((size_t) q->n_segments * 24 + 3),
			   *c = malloc((size_t) q->n_segments * 2 + 3),
			   *sh = semitones ? malloc((size_t) q->n_segments * 12 + 3) : NULL;
	size_t		nf = 0,
				nt = 0,
				nc = 0,
				ns = 0;

	out->fingerprints = out->t_start = out->content = out->semitones = NULL;
	if (!f || !t || !c || (semitones && !sh))
	{
		free(f), free(t), free(c), free(sh);
		return -1;
	}
	f[nf++] = '{', t[nt++] = '{', c[nc++] = '{';
	if (sh)
		sh[ns++] = '{';
	for (int64_t s = 0; s < q->n_segments; s++)
	{
		const float *v = q->fp + (size_t) s * q->dim;

		nf += snprintf(f + nf, fp_len - nf, "%s\"[", s ? "," : "");
		for (int i = 0; i < q->dim; i++)
			nf += snprintf(f + nf, fp_len - nf, i ? ",%.9g" : "%.9g", (double) v[i]);
		nf += snprintf(f + nf, fp_len - nf, "]\"");
		nt += sprintf(t + nt, "%s%.6f", s ? "," : "", q->t_start[s]);
		nc += sprintf(c + nc, "%s%c", s ? "," : "", content[s] ? 't' : 'f');
		if (sh)
			ns += sprintf(sh + ns, "%s%d", s ? "," : "", semitones[s]);
	}
	strcpy(f + nf, "}"), strcpy(t + nt, "}"), strcpy(c + nc, "}");
	if (sh)
		strcpy(sh + ns, "}");
	out->fingerprints = f, out->t_start = t, out->content = c, out->semitones = sh;
	return 0;
}

void
cli_query_params_free(cli_query_params *p)
{
	free(p->fingerprints), free(p->t_start), free(p->content), free(p->semitones);
	p->fingerprints = p->t_start = p->content = p->semitones = NULL;
}

/*
 * The fingerprints form of sampleid_identify over q: select_list from it,
 * with the rows' shifts (semitones, NULL: none) as $6 and named arguments
 * beyond model, content and semitones in named_tail (its parameters from $7
 * on are extra[0 .. n_extra)).
 */
static PGresult *
identify_call(PGconn *conn, const char *cmd, const char *catalogue, const char *model,
			  const sid_embed_result *q, const uint8_t *content, const int *semitones,
			  const char *select_list, const char *named_tail, int n_extra,
			  const char *const *extra)
{
	cli_query_params p;
	const char *params[8];
	char		sql[1024];
	PGresult   *r;

	if (n_extra > 2 || cli_query_params_make(q, content, semitones, &p) != 0)
	{
		fprintf(stderr, "sampleid %s: out of memory\n", cmd);
		return NULL;
	}
	params[0] = p.fingerprints, params[1] = p.t_start, params[2] = catalogue, params[3] = model;
	params[4] = p.content, params[5] = p.semitones;
	for (int i = 0; i < n_extra; i++)
		params[6 + i] = extra[i];
	snprintf(sql, sizeof(sql),
			 "SELECT %s FROM sampleid_identify($1::fingerprint[], $2::real[], $3, model => $4, "
			 "content => $5::boolean[], semitones => $6::int[]%s)", select_list, named_tail);
	r = cli_pq_exec(conn, cmd, sql, 6 + n_extra, params);
	cli_query_params_free(&p);
	return r;
}

PGresult *
cli_pq_identify(PGconn *conn, const char *cmd, const char *catalogue, const char *model,
				const sid_embed_result *q, const uint8_t *content, const int *semitones,
				const char *min_similarity, const char *min_coverage)
{
	const char *extra[2];
	char		tail[160];
	int			n = 0,
				len = 0;

	tail[0] = '\0';
	if (min_similarity)
	{
		extra[n++] = min_similarity;
		len += snprintf(tail + len, sizeof(tail) - len, ", min_similarity => $%d::real", 6 + n);
	}
	if (min_coverage)
	{
		extra[n++] = min_coverage;
		snprintf(tail + len, sizeof(tail) - len, ", min_coverage => $%d::real", 6 + n);
	}
	return identify_call(conn, cmd, catalogue, model, q, content, semitones,
						 "recording_id, query_start, query_end, ref_start, ref_end, segments, "
						 "round(coverage::numeric, 3), round(similarity::numeric, 3), probability, "
						 "semitones, round(tempo::numeric, 3)",
						 tail, n, extra);
}

PGresult *
cli_pq_identify_all(PGconn *conn, const char *cmd, const char *catalogue, const char *model,
					const sid_embed_result *q, const uint8_t *content, const int *semitones)
{
	return identify_call(conn, cmd, catalogue, model, q, content, semitones,
						 "recording_id, query_start, ref_start, segments, coverage, similarity, "
						 "probability",
						 ", min_similarity => 0, min_coverage => 0, include_rejected => true", 0, NULL);
}
