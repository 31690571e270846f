/*
 * cli_options.c - what the subcommands' option parsing shares (cli.h).
 */
#include <stdlib.h>

#include "cli.h"

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
