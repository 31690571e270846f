/*
 * cmd_manifest.c - `sampleid manifest`: measure corpus files with libsndfile
 * and assign the seeded by-track split (used by scripts/corpus.sh).
 *
 * Reads "package<TAB>path" lines (paths relative to --root) on stdin and
 * writes the manifest TSV (see sid_manifest.h) to stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "audio/sid_audio.h"
#include "corpus/sid_manifest.h"

#define MAX_SPLITS 8
#define MAX_FORCED 32

static void
manifest_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid manifest --root DIR [--seed N] [--splits NAME=FRACTION,...]\n"
			"                         [--force PACKAGE=SPLIT]... [--min-seconds S]\n"
			"                         [--decode-check] [--prefix P] < LIST\n"
			"\n"
			"LIST has one \"package<TAB>path\" line per file, path relative to DIR.\n"
			"Each file is measured with libsndfile; files shorter than --min-seconds are\n"
			"left out (and named on stderr).  Each package's files are shuffled with the\n"
			"seed and cut into the splits in the order given; the last split takes the\n"
			"remainder.  Default splits: reference=0.2,validation=0.1,train.\n"
			"--decode-check decodes every file completely and leaves out those the\n"
			"project's decoder refuses, AFTER the split is assigned, so the other files\n"
			"keep their splits; they are listed in comment lines at the end.\n"
			"--prefix is put before every path written.\n");
}

/* A file left out because it does not decode, and why. */
typedef struct dropped_file
{
	char	   *path;
	char		why[sizeof(((sid_error *) 0)->msg)];
} dropped_file;

static int
is_dropped(const dropped_file *d, int n, const char *path)
{
	for (int i = 0; i < n; i++)
		if (strcmp(d[i].path, path) == 0)
			return 1;
	return 0;
}

/* "a=0.2,b=0.1,c" into names/fractions (modifies spec). */
static int
parse_splits(char *spec, sid_split_share *shares, int max)
{
	int			n = 0;

	for (char *tok = strtok(spec, ","); tok; tok = strtok(NULL, ","))
	{
		char	   *eq = strchr(tok, '=');
		char	   *end;

		if (n == max)
			return -1;
		shares[n].name = tok;
		shares[n].fraction = 0;
		if (eq)
		{
			*eq = '\0';
			shares[n].fraction = strtod(eq + 1, &end);
			if (*end || eq == tok)
				return -1;
		}
		n++;
	}
	return n;
}

int
cmd_manifest(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"seed", required_argument, NULL, 's'},
		{"splits", required_argument, NULL, 'p'},
		{"force", required_argument, NULL, 'f'},
		{"min-seconds", required_argument, NULL, 'm'},
		{"decode-check", no_argument, NULL, 'd'},
		{"prefix", required_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *root = NULL;
	unsigned long long seed = 5;
	char		default_splits[] = "reference=0.2,validation=0.1,train";
	char	   *splits_spec = default_splits;
	sid_split_share shares[MAX_SPLITS];
	int			nshares;
	const char *forced_pkg[MAX_FORCED];
	const char *forced_split[MAX_FORCED];
	int			nforced = 0;
	double		min_seconds = 0;
	sid_manifest m;
	sid_error	err;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			failures = 0;
	int			c;
	sid_audio_limits limits;
	int			decode_check = 0;
	const char *prefix = "";
	dropped_file *dropped = NULL;
	int			ndropped = 0;
	sid_manifest out;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'r':
				root = optarg;
				break;
			case 's':
				seed = strtoull(optarg, NULL, 0);
				break;
			case 'p':
				splits_spec = optarg;
				break;
			case 'f':
				{
					char	   *eq = strchr(optarg, '=');

					if (!eq || nforced == MAX_FORCED)
					{
						fprintf(stderr, "sampleid manifest: bad --force \"%s\"\n", optarg);
						return 2;
					}
					*eq = '\0';
					forced_pkg[nforced] = optarg;
					forced_split[nforced++] = eq + 1;
					break;
				}
			case 'm':
				min_seconds = strtod(optarg, NULL);
				break;
			case 'd':
				decode_check = 1;
				break;
			case 'x':
				prefix = optarg;
				break;
			case 'h':
				manifest_usage(stdout);
				return 0;
			default:
				manifest_usage(stderr);
				return 2;
		}
	}
	if (!root || optind != argc)
	{
		manifest_usage(stderr);
		return 2;
	}
	nshares = parse_splits(splits_spec, shares, MAX_SPLITS);
	if (nshares < 1)
	{
		fprintf(stderr, "sampleid manifest: bad --splits\n");
		return 2;
	}

	sid_audio_limits_default(&limits);
	sid_manifest_init(&m);
	while ((len = getline(&line, &cap, stdin)) >= 0)
	{
		char	   *tab;
		char		full[4096];
		sid_audio_info info;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		tab = strchr(line, '\t');
		if (!tab)
		{
			fprintf(stderr, "sampleid manifest: expected \"package<TAB>path\", got \"%s\"\n", line);
			failures++;
			continue;
		}
		*tab = '\0';
		snprintf(full, sizeof(full), "%s/%s", root, tab + 1);
		if (sid_audio_probe_file(full, &limits, &info, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid manifest: %s\n", err.msg);
			failures++;
			continue;
		}
		if (info.duration_seconds < min_seconds)
		{
			fprintf(stderr, "sampleid manifest: left out %s (%.2f s < %.2f s)\n", tab + 1,
					info.duration_seconds, min_seconds);
			continue;
		}
		if (sid_manifest_add(&m, line, tab + 1, info.duration_seconds, info.sample_rate,
							 info.channels, "", &err) != SID_OK)
		{
			fprintf(stderr, "sampleid manifest: %s\n", err.msg);
			failures++;
			continue;
		}
		if (decode_check)
		{
			sid_pcm		pcm;

			/* at the file's own rate: only the decoder is under test */
			if (sid_audio_decode_file(full, info.sample_rate, &limits, NULL, &pcm, &err) == SID_OK)
				sid_pcm_free(&pcm);
			else
			{
				dropped_file *grown = realloc(dropped, (ndropped + 1) * sizeof(*dropped));

				if (!grown || !(grown[ndropped].path = strdup(tab + 1)))
				{
					fprintf(stderr, "sampleid manifest: out of memory\n");
					return 1;
				}
				dropped = grown;
				snprintf(dropped[ndropped].why, sizeof(dropped[ndropped].why), "%s", err.msg);
				fprintf(stderr, "sampleid manifest: left out %s (does not decode: %s)\n", tab + 1, err.msg);
				ndropped++;
			}
		}
	}
	free(line);

	/* splits first, over every readable file, so a file the decoder refuses
	 * today does not move the others when it is accepted tomorrow */
	sid_manifest_init(&out);
	if (sid_manifest_assign_splits(&m, seed, shares, nshares, forced_pkg, forced_split,
								   nforced, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid manifest: %s\n", err.msg);
		sid_manifest_free(&m);
		return 1;
	}
	for (size_t i = 0; i < m.n; i++)
	{
		const sid_manifest_entry *e = &m.entries[i];
		char		path[4096];

		if (is_dropped(dropped, ndropped, e->path))
			continue;
		snprintf(path, sizeof(path), "%s%s", prefix, e->path);
		if (sid_manifest_add(&out, e->package, path, e->duration_s, e->sample_rate,
							 e->channels, e->split, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid manifest: %s\n", err.msg);
			failures++;
			break;
		}
	}
	if (sid_manifest_write(stdout, &out, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid manifest: %s\n", err.msg);
		failures++;
	}
	for (int i = 0; i < ndropped; i++)
	{
		printf("# left out, the decoder refuses it: %s%s: %s\n", prefix, dropped[i].path, dropped[i].why);
		free(dropped[i].path);
	}
	free(dropped);
	for (int s = 0; s < nshares; s++)
	{
		double		secs;
		size_t		n = sid_manifest_count(&out, shares[s].name, &secs);

		fprintf(stderr, "sampleid manifest: %-10s %4zu files %8.1f s\n", shares[s].name, n, secs);
	}
	sid_manifest_free(&m);
	sid_manifest_free(&out);
	if (failures)
		fprintf(stderr, "sampleid manifest: %d file(s) could not be read\n", failures);
	return failures ? 1 : 0;
}
