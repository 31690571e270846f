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

#endif
