/*
 * cli_catalogue.h - the column names of a user's catalogue tables, for the
 * commands that write or read them (ingest, delete, dedupe): the names of the
 * tables `sampleid ingest --create` makes, each of which --column
 * LOGICAL=ACTUAL may rename for an existing table.
 */
#ifndef SAMPLEID_CLI_CATALOGUE_H
#define SAMPLEID_CLI_CATALOGUE_H

#include <getopt.h>

#include <libpq-fe.h>

typedef enum cli_column
{
	/* the recordings table */
	CLI_COL_ID, CLI_COL_TITLE, CLI_COL_ARTIST, CLI_COL_RIGHTS_HOLDER, CLI_COL_AUDIO_PATH,
	CLI_COL_CONTENT_SHA256, CLI_COL_DURATION_S, CLI_COL_MODEL, CLI_COL_MODEL_SHA256,
	/* the segments table */
	CLI_COL_RECORDING_ID, CLI_COL_SEG, CLI_COL_T_START, CLI_COL_FP,
	CLI_N_COLUMNS
} cli_column;

typedef struct cli_columns
{
	const char *name[CLI_N_COLUMNS];	/* as the user's tables spell them */
	char		quoted[CLI_N_COLUMNS][140]; /* as SQL identifiers, after cli_columns_quote */
	int			renamed;		/* some --column was given */
} cli_columns;

void		cli_columns_default(cli_columns *c);
/* "audio_path=file" renames one; -1 having said why (unknown logical name, bad form). */
int			cli_columns_set(cli_columns *c, const char *cmd, const char *spec);
/* Quotes every name for conn; -1 when one is too long. */
int			cli_columns_quote(cli_columns *c, PGconn *conn);
/*
 * The quoted names of columns first..last, ", "-separated, into out; with
 * assign "a = $1, b = $2, ..." for an UPDATE.  out should hold
 * CLI_COLUMNS_JOIN_LEN bytes.
 */
#define CLI_COLUMNS_JOIN_LEN 2048
void		cli_columns_join(const cli_columns *c, cli_column first, cli_column last, int assign,
							 char *out, size_t len);

/*
 * The options of the commands that read a catalogue's tables (delete,
 * dedupe): --dsn, --recordings, --segments, --column, as getopt_long's
 * 'd', 'r', 's', 'C'.
 */
typedef struct cli_catalogue_args
{
	const char *dsn;
	const char *recordings;
	const char *segments;
	cli_columns col;
} cli_catalogue_args;

/* Their getopt_long table, with --help as 'h'. */
extern const struct option cli_catalogue_options[];

void		cli_catalogue_args_default(cli_catalogue_args *a);
/* Option c with its argument: 1 taken, 0 not one of these, -1 a bad --column (said). */
int			cli_catalogue_arg(cli_catalogue_args *a, const char *cmd, int c, const char *arg);

/* The logical names, comma-separated, for usage messages. */
const char *cli_columns_list(void);

#endif
