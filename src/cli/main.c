/*
 * main.c - `sampleid SUBCOMMAND ...`: dispatch to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
	{"device", "which compute device the tool would use, and why", cmd_device},
	{"embed", "fingerprints of every segment of audio files (TSV or .npy)", cmd_embed},
	{"models", "the models the tool can load, with their configurations", cmd_models},
	{"init-model", "write a randomly initialised, UNTRAINED model file", cmd_init_model},
	{"manifest", "measure corpus files and assign the seeded by-track split", cmd_manifest},
	{"eval", "identification hit rates of a model on degraded queries", cmd_eval},
	{"train", "train the fingerprint encoder from a configuration file", cmd_train},
	{"ingest", "fingerprint audio files into a server's catalogue tables (COPY)", cmd_ingest},
	{"delete", "remove recordings and their segments from a catalogue", cmd_delete},
	{"report", "the rights report of a matches table, as CSV and an HTML page", cmd_report},
	{"bank", "precompute transposed and stretched tracks for the sample recipe", cmd_bank},
	{"identify", "identify audio files against a catalogue in a database (libpq)", cmd_identify},
	{"match", "write every use of catalogue recordings in new works into a matches table", cmd_match},
	{"dedupe", "list the recordings of a catalogue that are the same audio", cmd_dedupe},
	{"monitor", "identify a live PCM stream on stdin, logging each use with wall-clock times", cmd_monitor},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

#ifndef SAMPLEID_VERSION
#define SAMPLEID_VERSION "unknown"
#endif

static void
usage(FILE *out)
{
	fprintf(out, "usage: sampleid COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`sampleid help COMMAND` or `sampleid COMMAND --help` describes a command;\n"
			"`sampleid --version` prints the version.\n");
}

int
main(int argc, char **argv)
{
	char	   *help_argv[4];

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		(strcmp(argv[1], "help") == 0 && argc == 2))
		return cli_usage(usage, argc >= 2);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)
	{
		printf("sampleid %s\n", SAMPLEID_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0)
	{
		/* `sampleid help CMD` is `sampleid CMD --help` */
		help_argv[0] = argv[0];
		help_argv[1] = argv[2];
		help_argv[2] = "--help";
		help_argv[3] = NULL;
		argv = help_argv;
		argc = 3;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
		{
			cli_command_name = commands[i].name;
			return commands[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "sampleid: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
