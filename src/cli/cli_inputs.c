/*
 * cli_inputs.c - expanding a command's file arguments (cli_inputs.h).
 */
#include "cli_inputs.h"

#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* What a folder search picks up: the containers of the decoders' allow-list. */
static const char *const audio_extensions[] = {
	"wav", "wave", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff", "aifc", "au", "snd",
	"caf", "w64", "rf64", "m4a", "mp4", "webm", "mka", "wma", NULL
};

static int
is_audio_name(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return 0;
	for (int i = 0; audio_extensions[i]; i++)
		if (strcasecmp(dot + 1, audio_extensions[i]) == 0)
			return 1;
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* Appends one input; 0, or -1 when full or out of memory. */
static int
add_input(cli_inputs *in, const char *path, const char *const *meta, const char *error)
{
	char		abs[PATH_MAX];
	cli_input  *x;

	if (in->n >= CLI_INPUTS_MAX)
		return -1;
	if (in->n == in->cap)
	{
		size_t		cap = in->cap ? in->cap * 2 : 64;
		cli_input  *v = realloc(in->v, cap * sizeof(*v));

		if (!v)
			return -1;
		in->v = v;
		in->cap = cap;
	}
	x = &in->v[in->n];
	memset(x, 0, sizeof(*x));
	if (!error && !realpath(path, abs))
		error = strerror(errno);
	x->path = strdup(error ? path : abs);
	x->error = dup_or_null(error);
	if (meta)
	{
		x->title = dup_or_null(meta[0]);
		x->artist = dup_or_null(meta[1]);
		x->rights_holder = dup_or_null(meta[2]);
	}
	if (!x->path || (error && !x->error))
		return -1;
	in->n++;
	return 0;
}

/* nftw has no argument for its callback */
static cli_inputs *walk_target;
static int	walk_failed;
static size_t walk_found;

static int
walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void) st;
	(void) ftw;
	if (type == FTW_F && is_audio_name(path))
	{
		walk_found++;
		if (add_input(walk_target, path, NULL, NULL) != 0)
		{
			walk_failed = 1;
			return 1;
		}
	}
	return 0;
}

static int
add_folder(cli_inputs *in, const char *dir)
{
	walk_target = in;
	walk_failed = 0;
	walk_found = 0;
	if (nftw(dir, walk_one, 32, FTW_PHYS) != 0 && walk_failed)
		return -1;
	if (walk_found == 0)
		return add_input(in, dir, NULL, "the folder holds no audio files");
	return 0;
}

/* One argument or list line: a folder, a glob pattern, or a file. */
static int
add_argument(cli_inputs *in, const char *arg, const char *const *meta)
{
	struct stat st;
	glob_t		g;
	int			rc = 0;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		return add_folder(in, arg);
	if (stat(arg, &st) == 0 || !strpbrk(arg, "*?["))
		return add_input(in, arg, meta, NULL);
	if (glob(arg, 0, NULL, &g) != 0)
		return add_input(in, arg, meta, "no file matches the pattern");
	for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = stat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode)
			? add_folder(in, g.gl_pathv[i]) : add_input(in, g.gl_pathv[i], meta, NULL);
	globfree(&g);
	return rc;
}

/* Lines "path[\ttitle[\tartist[\trights holder]]]" of fp. */
static int
add_list(cli_inputs *in, FILE *fp)
{
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			rc = 0;

	while (rc == 0 && (len = getline(&line, &cap, fp)) >= 0)
	{
		const char *meta[3] = {NULL, NULL, NULL};
		char	   *save = NULL,
				   *path;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		path = strtok_r(line, "\t", &save);
		for (int i = 0; i < 3 && path; i++)
			meta[i] = strtok_r(NULL, "\t", &save);
		if (path)
			rc = add_argument(in, path, meta);
	}
	free(line);
	return rc;
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const cli_input *) a)->path, ((const cli_input *) b)->path);
}

static void
input_free(cli_input *x)
{
	free(x->path);
	free(x->title);
	free(x->artist);
	free(x->rights_holder);
	free(x->error);
}

/* Sorted by path, the first of each path kept: the order is the same whatever the arguments' */
static void
sort_unique(cli_inputs *in)
{
	size_t		k = 0;

	qsort(in->v, in->n, sizeof(cli_input), by_path);
	for (size_t i = 0; i < in->n; i++)
		if (k > 0 && strcmp(in->v[k - 1].path, in->v[i].path) == 0)
			input_free(&in->v[i]);
		else
			in->v[k++] = in->v[i];
	in->n = k;
}

int
cli_inputs_collect(const char *cmd, char *const *args, int n_args, const char *list_file,
				   cli_inputs *out)
{
	int			rc = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n_args && rc == 0; i++)
		rc = strcmp(args[i], "-") == 0 ? add_list(out, stdin) : add_argument(out, args[i], NULL);
	if (rc == 0 && list_file)
	{
		FILE	   *fp = strcmp(list_file, "-") == 0 ? stdin : fopen(list_file, "r");

		if (!fp)
		{
			fprintf(stderr, "sampleid %s: cannot read the list \"%s\": %s\n", cmd, list_file,
					strerror(errno));
			cli_inputs_free(out);
			return -1;
		}
		rc = add_list(out, fp);
		if (fp != stdin)
			fclose(fp);
	}
	if (rc != 0)
	{
		fprintf(stderr, "sampleid %s: more than %d inputs, or out of memory\n", cmd, CLI_INPUTS_MAX);
		cli_inputs_free(out);
		return -1;
	}
	sort_unique(out);
	return 0;
}

void
cli_inputs_free(cli_inputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		input_free(&in->v[i]);
	free(in->v);
	memset(in, 0, sizeof(*in));
}
