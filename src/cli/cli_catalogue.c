/*
 * cli_catalogue.c - catalogue column names (cli_catalogue.h).
 */
#include "cli_catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const logical_names[CLI_N_COLUMNS] = {
	"id", "title", "artist", "rights_holder", "audio_path", "content_sha256", "duration_s",
	"model", "model_sha256", "recording_id", "seg", "t_start", "fp"
};

void
cli_columns_default(cli_columns *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < CLI_N_COLUMNS; i++)
		c->name[i] = logical_names[i];
}

const struct option cli_catalogue_options[] = {
	{"dsn", required_argument, NULL, 'd'},
	{"recordings", required_argument, NULL, 'r'},
	{"segments", required_argument, NULL, 's'},
	{"column", required_argument, NULL, 'C'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

void
cli_catalogue_args_default(cli_catalogue_args *a)
{
	a->dsn = NULL;
	a->recordings = "recordings";
	a->segments = "segments";
	cli_columns_default(&a->col);
}

int
cli_catalogue_arg(cli_catalogue_args *a, const char *cmd, int c, const char *arg)
{
	if (c == 'd')
		a->dsn = arg;
	else if (c == 'r')
		a->recordings = arg;
	else if (c == 's')
		a->segments = arg;
	else if (c == 'C')
		return cli_columns_set(&a->col, cmd, arg) == 0 ? 1 : -1;
	else
		return 0;
	return 1;
}

int
cli_columns_set(cli_columns *c, const char *cmd, const char *spec)
{
	const char *eq = strchr(spec, '=');

	if (eq && eq[1])
		for (int i = 0; i < CLI_N_COLUMNS; i++)
			if (strlen(logical_names[i]) == (size_t) (eq - spec) &&
				strncmp(spec, logical_names[i], (size_t) (eq - spec)) == 0)
			{
				c->name[i] = eq + 1;
				c->renamed = 1;
				return 0;
			}
	fprintf(stderr, "sampleid %s: --column wants LOGICAL=ACTUAL with LOGICAL one of %s, not \"%s\"\n",
			cmd, cli_columns_list(), spec);
	return -1;
}

int
cli_columns_quote(cli_columns *c, PGconn *conn)
{
	for (int i = 0; i < CLI_N_COLUMNS; i++)
	{
		char	   *q = PQescapeIdentifier(conn, c->name[i], strlen(c->name[i]));
		int			n = q ? snprintf(c->quoted[i], sizeof(c->quoted[i]), "%s", q) : -1;

		PQfreemem(q);
		if (n < 0 || (size_t) n >= sizeof(c->quoted[i]))
			return -1;
	}
	return 0;
}

const char *
cli_columns_list(void)
{
	static char list[256];

	if (!list[0])
		for (int i = 0; i < CLI_N_COLUMNS; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
					 logical_names[i]);
	return list;
}

void
cli_columns_join(const cli_columns *c, cli_column first, cli_column last, int assign, char *out,
				 size_t len)
{
	size_t		n = 0;

	out[0] = '\0';
	for (int i = first; i <= (int) last && n < len; i++)
	{
		int			k = assign
			? snprintf(out + n, len - n, "%s%s = $%d", i > (int) first ? ", " : "", c->quoted[i],
					   i - (int) first + 1)
			: snprintf(out + n, len - n, "%s%s", i > (int) first ? ", " : "", c->quoted[i]);

		n += k > 0 ? (size_t) k : 0;
	}
}
