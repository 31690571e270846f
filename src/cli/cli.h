/*
 * cli.h - the sampleid command-line tool: one file per subcommand
 * (cmd_NAME.c), main.c to dispatch, and what the subcommands share.
 */
#ifndef SAMPLEID_CLI_H
#define SAMPLEID_CLI_H

#include <signal.h>
#include <stdio.h>

typedef struct cli_command
{
	const char *name;
	const char *summary;
	int			(*run) (int argc, char **argv);	/* argv[0] is the subcommand */
} cli_command;

/* Subcommands; each returns the process exit status. */
int			cmd_device(int argc, char **argv);
int			cmd_embed(int argc, char **argv);
int			cmd_models(int argc, char **argv);
int			cmd_init_model(int argc, char **argv);
int			cmd_manifest(int argc, char **argv);
int			cmd_eval(int argc, char **argv);
/* `sampleid eval --open-set`, against a server (cmd_eval_openset.c) */
int			cmd_eval_openset(int argc, char **argv);
int			cmd_train(int argc, char **argv);
int			cmd_ingest(int argc, char **argv);
int			cmd_delete(int argc, char **argv);
int			cmd_report(int argc, char **argv);
int			cmd_bank(int argc, char **argv);
int			cmd_identify(int argc, char **argv);
int			cmd_match(int argc, char **argv);
int			cmd_dedupe(int argc, char **argv);
int			cmd_monitor(int argc, char **argv);

/* cli_options.c: what the subcommands' option parsing shares. */

/* The subcommand running ("embed"), for messages from shared helpers; main sets it. */
extern const char *cli_command_name;

/*
 * Prints a subcommand's usage and returns its exit status: on stdout with 0
 * when it was asked for (--help), on stderr with 2 for a usage error.
 */
int			cli_usage(void (*usage) (FILE *out), int asked);

/*
 * An integer option's value in [min, max]: 0, or -1 having printed
 * "sampleid CMD: --OPT wants an integer from MIN to MAX, not \"4x\"" (junk
 * after the digits, or none, is refused, unlike atoi).
 */
int			cli_int_option(const char *cmd, const char *opt, const char *s, long min, long max,
						   int *out);

/* The same for a number of seconds or other real value, in (min, max]. */
int			cli_double_option(const char *cmd, const char *opt, const char *s, double min,
							  double max, double *out);

/* Arguments from argv[first] on that a command takes none of: -1 having named the first, else 0. */
int			cli_stray_arguments(const char *cmd, int argc, char **argv, int first);

/* How identify and monitor print what they find: a table for people, TSV or JSON for programs. */
typedef enum cli_output_format
{
	CLI_OUT_TABLE, CLI_OUT_TSV, CLI_OUT_JSON
} cli_output_format;

/* The signal (SIGINT or SIGTERM) that asked the command to stop, 0 until one did. */
extern volatile sig_atomic_t cli_stop_signal;

/*
 * Catches SIGINT and SIGTERM into cli_stop_signal.  restart: blocked calls
 * resume (ingest checks between files); without it a blocked read returns
 * EINTR (monitor, waiting on a feed, stops at once).
 */
void		cli_catch_stop_signals(int restart);

/* "32,64,128" -> values; returns the count or -1 when malformed. */
int			cli_parse_int_list(const char *s, int *out, int max);

#endif
