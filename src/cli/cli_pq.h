/*
 * cli_pq.h - what the commands that talk to a server share (libpq): connecting,
 * running statements with their errors said once, and encoding rows for
 * COPY ... FROM STDIN (FORMAT binary), the fastest way to send fingerprints.
 *
 *   PGconn *c = cli_pq_connect("ingest", dsn);
 *   cli_copy_buf b; cli_copy_init(&b);
 *   cli_copy_row(&b, 3); cli_copy_int8(&b, id); cli_copy_int4(&b, seg);
 *   cli_copy_fingerprint(&b, v, dim); ...
 *   cli_pq_copy(c, "ingest", "COPY segments (...) FROM STDIN (FORMAT binary)", &b);
 */
#ifndef SAMPLEID_CLI_PQ_H
#define SAMPLEID_CLI_PQ_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "model/sid_embed.h"

/* Connects; prints "sampleid CMD: cannot connect: ..." and returns NULL on failure. */
PGconn	   *cli_pq_connect(const char *cmd, const char *dsn);

/*
 * Runs sql with text parameters; returns the result when it succeeded
 * (PGRES_COMMAND_OK or PGRES_TUPLES_OK), else prints the server's message
 * prefixed by "sampleid CMD: " and returns NULL.  PQclear the result.
 */
PGresult   *cli_pq_exec(PGconn *conn, const char *cmd, const char *sql, int n_params,
						const char *const *params);

/* Statements without parameters (several may be given, ;-separated) whose result is not needed: 0 or -1. */
int			cli_pq_run(PGconn *conn, const char *cmd, const char *sql);

/* The server's last error as one line (no trailing newline), for messages. */
const char *cli_pq_error(PGconn *conn);

/* "schema.name" or "name" quoted as an SQL identifier into out; -1 if it does not fit. */
int			cli_pq_quote_name(PGconn *conn, const char *name, char *out, size_t out_len);

/* A COPY BINARY stream being built in memory. */
typedef struct cli_copy_buf
{
	unsigned char *data;
	size_t		len;
	size_t		cap;
	int			failed;			/* out of memory: every later call is a no-op */
} cli_copy_buf;

/* Starts a stream with the COPY BINARY signature and header. */
void		cli_copy_init(cli_copy_buf *b);
void		cli_copy_free(cli_copy_buf *b);
/* Drops the rows, keeping the header, to reuse the buffer. */
void		cli_copy_reset(cli_copy_buf *b);
void		cli_copy_row(cli_copy_buf *b, int n_fields);
void		cli_copy_null(cli_copy_buf *b);
void		cli_copy_int4(cli_copy_buf *b, int32_t v);
void		cli_copy_int8(cli_copy_buf *b, int64_t v);
void		cli_copy_float4(cli_copy_buf *b, float v);
void		cli_copy_text(cli_copy_buf *b, const char *s);
/* The fingerprint type's binary form (fingerprint_send): int16 dim, int16 0, float4s. */
void		cli_copy_fingerprint(cli_copy_buf *b, const float *v, int dim);

/*
 * Runs copy_sql (a COPY ... FROM STDIN (FORMAT binary)) and sends the rows
 * of b with the trailer; returns the rows copied, or -1 having said why.
 */
int64_t		cli_pq_copy(PGconn *conn, const char *cmd, const char *copy_sql, cli_copy_buf *b);

/*
 * The catalogue must have been registered with this model file (name,
 * SHA-256): the server cannot see which file a client embedded with, so the
 * client compares digests.  0, or -1 having said why.  An unregistered
 * catalogue passes here; the server refuses it.
 */
int			cli_pq_check_model(PGconn *conn, const char *cmd, const char *catalogue,
							   const char *model, const char *model_sha256);

/*
 * A fingerprinted query as text parameters for sampleid_identify's
 * fingerprints form ($::fingerprint[], $::real[], content => $::boolean[]).
 */
typedef struct cli_query_params
{
	char	   *fingerprints;
	char	   *t_start;
	char	   *content;
	char	   *semitones;		/* $::int[], each row's shift; NULL without */
} cli_query_params;

/*
 * 0, or -1 when out of memory; free with cli_query_params_free.  semitones
 * (NULL: none) is each row's shift, sample mode's copies.
 */
int			cli_query_params_make(const sid_embed_result *q, const uint8_t *content,
								  const int *semitones, cli_query_params *out);
void		cli_query_params_free(cli_query_params *p);

/*
 * The fingerprints form of sampleid_identify over q (its t_start are the
 * query's times) against catalogue with model: one row per recording heard,
 * columns recording_id, query_start, query_end, ref_start, ref_end,
 * segments, coverage, similarity, probability, semitones, tempo.
 * min_similarity and min_coverage are text or NULL for the function's
 * defaults; semitones (NULL: none) is each row's shift, for sample mode's
 * copies.  NULL having said why ("sampleid CMD: ...").
 */
PGresult   *cli_pq_identify(PGconn *conn, const char *cmd, const char *catalogue,
							const char *model, const sid_embed_result *q, const uint8_t *content,
							const int *semitones, const char *min_similarity,
							const char *min_coverage);

/*
 * The same call answering with every candidate (thresholds 0,
 * include_rejected => true) and the verifier's probability of each, as the
 * open-set benchmark scores them: columns recording_id, query_start,
 * ref_start, segments, coverage, similarity, probability, unrounded;
 * semitones as for cli_pq_identify.
 */
PGresult   *cli_pq_identify_all(PGconn *conn, const char *cmd, const char *catalogue,
								const char *model, const sid_embed_result *q,
								const uint8_t *content, const int *semitones);

#endif
