/*
 * cli.h - the sampleid command-line tool: one file per subcommand
 * (cmd_NAME.c), main.c to dispatch, and what the subcommands share.
 */
#ifndef SAMPLEID_CLI_H
#define SAMPLEID_CLI_H

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
int			cmd_train(int argc, char **argv);
int			cmd_identify(int argc, char **argv);

/* cli_options.c: what the subcommands' option parsing shares. */

/*
 * Prints a subcommand's usage and returns its exit status: on stdout with 0
 * when it was asked for (--help), on stderr with 2 for a usage error.
 */
int			cli_usage(void (*usage) (FILE *out), int asked);

/* "32,64,128" -> values; returns the count or -1 when malformed. */
int			cli_parse_int_list(const char *s, int *out, int max);

#endif
