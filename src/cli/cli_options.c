/*
 * cli_options.c - what the subcommands' option parsing shares (cli.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_command_name = "";

int
cli_usage(void (*usage) (FILE *out), int asked)
{
	usage(asked ? stdout : stderr);
	return asked ? 0 : 2;
}

int
cli_parse_int_list(const char *s, int *out, int max)
{
	int			n = 0;

	while (*s)
	{
		char	   *end;
		long		v = strtol(s, &end, 10);

		if (end == s || n >= max || v < 0 || v > 1000000)
			return -1;
		out[n++] = (int) v;
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return n;
}

int
cli_int_option(const char *cmd, const char *opt, const char *s, long min, long max, int *out)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max)
	{
		fprintf(stderr, "sampleid %s: %s wants an integer from %ld to %ld, not \"%s\"\n",
				cmd, opt, min, max, s);
		return -1;
	}
	*out = (int) v;
	return 0;
}

int
cli_double_option(const char *cmd, const char *opt, const char *s, double min, double max,
				  double *out)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || !(v > min) || v > max)
	{
		fprintf(stderr, "sampleid %s: %s wants a number above %g and at most %g, not \"%s\"\n",
				cmd, opt, min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

int
cli_stray_arguments(const char *cmd, int argc, char **argv, int first)
{
	if (first >= argc)
		return 0;
	fprintf(stderr, "sampleid %s: unexpected argument \"%s\" (see --help)\n", cmd, argv[first]);
	return -1;
}

volatile sig_atomic_t cli_stop_signal = 0;

static void
on_stop_signal(int signo)
{
	cli_stop_signal = signo;
}

void
cli_catch_stop_signals(int restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
