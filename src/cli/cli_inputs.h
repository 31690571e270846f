/*
 * cli_inputs.h - the audio files a client command is given: files, folders
 * (searched recursively for audio by extension), glob patterns, a list file,
 * or "-" for paths on stdin.  Used by `sampleid ingest` and `sampleid delete`.
 *
 * A list file has one path a line, optionally followed by tab-separated
 * title, artist and rights holder; empty lines and lines starting with '#'
 * are ignored.  Paths are made absolute (realpath) so that a later run
 * recognises the same file however it was named, sorted, and made unique.
 * What cannot be found stays in the list with its error, so the command
 * reports it as a failed file and goes on with the rest.
 */
#ifndef SAMPLEID_CLI_INPUTS_H
#define SAMPLEID_CLI_INPUTS_H

#include <stddef.h>

/* At most this many inputs per run: every path is held in memory. */
#define CLI_INPUTS_MAX 1000000

typedef struct cli_input
{
	char	   *path;			/* absolute when it exists, else as given */
	char	   *title;			/* NULL: from the list file's columns when given */
	char	   *artist;
	char	   *rights_holder;
	char	   *error;			/* not NULL: why this input is unusable */
} cli_input;

typedef struct cli_inputs
{
	cli_input  *v;
	size_t		n;
	size_t		cap;
} cli_inputs;

/*
 * Collects args (and list_file's lines when not NULL; "-" is stdin) into out;
 * returns 0, or -1 having printed "sampleid CMD: ..." (out of memory, an
 * unreadable list file, more than CLI_INPUTS_MAX inputs).
 */
int			cli_inputs_collect(const char *cmd, char *const *args, int n_args,
							   const char *list_file, cli_inputs *out);
void		cli_inputs_free(cli_inputs *in);

#endif
