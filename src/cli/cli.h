/*
 * cli.h - the sampleid command-line tool: one file per subcommand.
 */
#ifndef SAMPLEID_CLI_H
#define SAMPLEID_CLI_H

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

#endif
