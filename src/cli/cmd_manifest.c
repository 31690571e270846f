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

/* What the options ask for. */
typedef struct manifest_options
{
	const char *root;
	unsigned long long seed;
	char		default_splits[64];
	char	   *splits_spec;
	sid_split_share shares[MAX_SPLITS];
	int			nshares;
	const char *forced_pkg[MAX_FORCED];
	const char *forced_split[MAX_FORCED];
	int			nforced;
	double		min_seconds;
	int			decode_check;
	const char *prefix;
} manifest_options;

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

/* What reading the listing found. */
typedef struct measured_files
{
	sid_manifest all;			/* every file that could be measured */
	dropped_file *dropped;		/* of those, the ones that do not decode */
	int			ndropped;
	int			failures;		/* lines and files that could not be read */
} measured_files;

static int
is_dropped(const measured_files *mf, const char *path)
{
	for (int i = 0; i < mf->ndropped; i++)
		if (strcmp(mf->dropped[i].path, path) == 0)
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

static const struct option manifest_opts[] = {
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

/* --force PACKAGE=SPLIT (modifies arg); returns 0, or 2 after saying why not. */
static int
add_forced(manifest_options *o, char *arg)
{
	char	   *eq = strchr(arg, '=');

	if (!eq || o->nforced == MAX_FORCED)
	{
		fprintf(stderr, "sampleid manifest: bad --force \"%s\"\n", arg);
		return 2;
	}
	*eq = '\0';
	o->forced_pkg[o->nforced] = arg;
	o->forced_split[o->nforced++] = eq + 1;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int
parse_manifest_options(int argc, char **argv, manifest_options *o)
{
	int			c;

	memset(o, 0, sizeof(*o));
	o->seed = 5;
	snprintf(o->default_splits, sizeof(o->default_splits), "reference=0.2,validation=0.1,train");
	o->splits_spec = o->default_splits;
	o->prefix = "";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", manifest_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'r':
				o->root = optarg;
				break;
			case 's':
				o->seed = strtoull(optarg, NULL, 0);
				break;
			case 'p':
				o->splits_spec = optarg;
				break;
			case 'f':
				if (add_forced(o, optarg) != 0)
					return 2;
				break;
			case 'm':
				/* the lower bound is exclusive: 0 seconds (keep every file) must pass */
				if (cli_double_option("manifest", "--min-seconds", optarg, -1e-300, 1e9, &o->min_seconds))
					return 2;
				break;
			case 'd':
				o->decode_check = 1;
				break;
			case 'x':
				o->prefix = optarg;
				break;
			default:
				return cli_usage(manifest_usage, c == 'h');
		}
	}
	if (cli_stray_arguments("manifest", argc, argv, optind) != 0)
		return 2;
	if (!o->root)
		return cli_usage(manifest_usage, 0);
	o->nshares = parse_splits(o->splits_spec, o->shares, MAX_SPLITS);
	if (o->nshares < 1)
	{
		fprintf(stderr, "sampleid manifest: bad --splits\n");
		return 2;
	}
	return -1;
}

/*
 * With --decode-check: decode the file at full (its own rate: only the
 * decoder is under test) and remember it when it does not decode.  Returns 0,
 * or -1 out of memory.
 */
static int
check_decodes(measured_files *mf, const char *full, const char *path, int sample_rate,
			  const sid_audio_limits *limits)
{
	sid_pcm		pcm;
	sid_error	err;
	dropped_file *grown;

	if (sid_audio_decode_file(full, sample_rate, limits, NULL, &pcm, &err) == SID_OK)
	{
		sid_pcm_free(&pcm);
		return 0;
	}
	grown = realloc(mf->dropped, (mf->ndropped + 1) * sizeof(*mf->dropped));
	if (!grown || !(grown[mf->ndropped].path = strdup(path)))
		return -1;
	mf->dropped = grown;
	snprintf(mf->dropped[mf->ndropped].why, sizeof(mf->dropped[mf->ndropped].why), "%s", err.msg);
	fprintf(stderr, "sampleid manifest: left out %s (does not decode: %s)\n", path, err.msg);
	mf->ndropped++;
	return 0;
}

/*
 * One "package<TAB>path" line (modified): measure the file and add it, or
 * count it as a failure.  Returns 0, or -1 out of memory.
 */
static int
measure_line(const manifest_options *o, char *line, const sid_audio_limits *limits,
			 measured_files *mf)
{
	char	   *tab = strchr(line, '\t');
	char		full[4096];
	sid_audio_info info;
	sid_error	err;

	if (!tab)
	{
		fprintf(stderr, "sampleid manifest: expected \"package<TAB>path\", got \"%s\"\n", line);
		mf->failures++;
		return 0;
	}
	*tab = '\0';
	snprintf(full, sizeof(full), "%s/%s", o->root, tab + 1);
	if (sid_audio_probe_file(full, limits, &info, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid manifest: %s\n", err.msg);
		mf->failures++;
		return 0;
	}
	if (info.duration_seconds < o->min_seconds)
	{
		fprintf(stderr, "sampleid manifest: left out %s (%.2f s < %.2f s)\n", tab + 1,
				info.duration_seconds, o->min_seconds);
		return 0;
	}
	if (sid_manifest_add(&mf->all, line, tab + 1, info.duration_seconds, info.sample_rate,
						 info.channels, "", &err) != SID_OK)
	{
		fprintf(stderr, "sampleid manifest: %s\n", err.msg);
		mf->failures++;
		return 0;
	}
	return o->decode_check ? check_decodes(mf, full, tab + 1, info.sample_rate, limits) : 0;
}

/* Every line of stdin; returns 0, or -1 out of memory. */
static int
measure_listing(const manifest_options *o, measured_files *mf)
{
	sid_audio_limits limits;
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;
	int			rc = 0;

	sid_audio_limits_default(&limits);
	while (rc == 0 && (len = getline(&line, &cap, stdin)) >= 0)
	{
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len > 0)
			rc = measure_line(o, line, &limits, mf);
	}
	free(line);
	return rc;
}

/*
 * Splits over every measured file, then the manifest without the files that
 * do not decode, the list of those, and a summary per split on stderr.
 * Returns 0, or 1 when the splits cannot be assigned.
 */
static int
write_manifest(const manifest_options *o, measured_files *mf)
{
	sid_manifest out;
	sid_error	err;

	/* splits first, over every readable file, so a file the decoder refuses
	 * today does not move the others when it is accepted tomorrow */
	sid_manifest_init(&out);
	if (sid_manifest_assign_splits(&mf->all, o->seed, o->shares, o->nshares, o->forced_pkg,
								   o->forced_split, o->nforced, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid manifest: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < mf->all.n; i++)
	{
		const sid_manifest_entry *e = &mf->all.entries[i];
		char		path[4096];

		if (is_dropped(mf, e->path))
			continue;
		snprintf(path, sizeof(path), "%s%s", o->prefix, e->path);
		if (sid_manifest_add(&out, e->package, path, e->duration_s, e->sample_rate,
							 e->channels, e->split, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid manifest: %s\n", err.msg);
			mf->failures++;
			break;
		}
	}
	if (sid_manifest_write(stdout, &out, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid manifest: %s\n", err.msg);
		mf->failures++;
	}
	for (int i = 0; i < mf->ndropped; i++)
		printf("# left out, the decoder refuses it: %s%s: %s\n", o->prefix, mf->dropped[i].path,
			   mf->dropped[i].why);
	for (int s = 0; s < o->nshares; s++)
	{
		double		secs;
		size_t		n = sid_manifest_count(&out, o->shares[s].name, &secs);

		fprintf(stderr, "sampleid manifest: %-10s %4zu files %8.1f s\n", o->shares[s].name, n, secs);
	}
	sid_manifest_free(&out);
	return 0;
}

int
cmd_manifest(int argc, char **argv)
{
	manifest_options o;
	measured_files mf;
	int			status = parse_manifest_options(argc, argv, &o);

	if (status >= 0)
		return status;
	memset(&mf, 0, sizeof(mf));
	sid_manifest_init(&mf.all);
	if (measure_listing(&o, &mf) != 0)
	{
		fprintf(stderr, "sampleid manifest: out of memory\n");
		return 1;
	}
	status = write_manifest(&o, &mf);
	for (int i = 0; i < mf.ndropped; i++)
		free(mf.dropped[i].path);
	free(mf.dropped);
	sid_manifest_free(&mf.all);
	if (status != 0)
		return status;
	if (mf.failures)
		fprintf(stderr, "sampleid manifest: %d file(s) could not be read\n", mf.failures);
	return mf.failures ? 1 : 0;
}
