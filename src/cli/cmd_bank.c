/*
 * cmd_bank.c - `sampleid bank`: precompute the transposed and stretched
 * copies of a split's tracks for the sample recipe (corpus/sid_bank.h),
 * one file per track, resumable: tracks whose file is complete are kept.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "core/sid_clock.h"
#include "corpus/sid_bank.h"
#include "corpus/sid_corpus.h"

typedef struct bank_options
{
	const char *manifest,
			   *data_dir,
			   *out,
			   *split;
	sid_bank_variant v[SID_BANK_MAX_VARIANTS];
	int			nv;
	int			max_tracks;
	sid_stretch_engine engine;
} bank_options;

static const struct option bank_opts[] = {
	{"manifest", required_argument, NULL, 'm'},
	{"data-dir", required_argument, NULL, 'd'},
	{"out", required_argument, NULL, 'o'},
	{"split", required_argument, NULL, 's'},
	{"semitones", required_argument, NULL, 'p'},
	{"stretch", required_argument, NULL, 't'},
	{"engine", required_argument, NULL, 'e'},
	{"max-tracks", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
bank_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid bank --manifest TSV --data-dir DIR --out DIR [--split NAME]\n"
			"                     [--semitones LIST] [--stretch LIST] [--engine faster|finer]\n"
			"                     [--max-tracks N]\n"
			"\n"
			"Writes, for every track of the split (default train), one file in --out with\n"
			"the track shifted by each of --semitones (default -3,-2,-1,1,2,3; tempo kept)\n"
			"and stretched by each time ratio of --stretch (default 0.7,0.8,0.9,1.1,1.25,1.5;\n"
			"pitch kept), at 16 kHz, 16-bit.  A track whose file is complete with these\n"
			"variants is skipped, so an interrupted run is resumed by running it again.\n"
			"Prints per track and in total the CPU seconds per second of audio.\n");
}

/* "a,b,c" of numbers within [lo, hi] into v[] (pitch or ratio); -1 if bad. */
static int
parse_variants(const char *s, int pitch, double lo, double hi, bank_options *o)
{
	const char *p = s;

	while (*p)
	{
		char	   *end;
		double		x = strtod(p, &end);

		if (end == p || !(x >= lo && x <= hi) || (*end && *end != ',') ||
			o->nv == SID_BANK_MAX_VARIANTS)
			return -1;
		o->v[o->nv].semitones = pitch ? (float) x : 0;
		o->v[o->nv++].time_ratio = pitch ? 1 : (float) x;
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int
parse_bank_options(int argc, char **argv, bank_options *o)
{
	const char *semis = "-3,-2,-1,1,2,3",
			   *ratios = "0.7,0.8,0.9,1.1,1.25,1.5";
	int			c;

	memset(o, 0, sizeof(*o));
	o->split = "train";
	o->engine = SID_STRETCH_FASTER;
	while ((c = getopt_long(argc, argv, "", bank_opts, NULL)) != -1)
		switch (c)
		{
			case 'm': o->manifest = optarg; break;
			case 'd': o->data_dir = optarg; break;
			case 'o': o->out = optarg; break;
			case 's': o->split = optarg; break;
			case 'p': semis = optarg; break;
			case 't': ratios = optarg; break;
			case 'e':
				if (strcmp(optarg, "faster") && strcmp(optarg, "finer"))
					return cli_usage(bank_usage, 0);
				o->engine = strcmp(optarg, "finer") == 0 ? SID_STRETCH_FINER : SID_STRETCH_FASTER;
				break;
			case 'n': o->max_tracks = atoi(optarg); break;
			case 'h': return cli_usage(bank_usage, 1);
			default: return cli_usage(bank_usage, 0);
		}
	if (!o->manifest || !o->data_dir || !o->out || optind != argc || o->max_tracks < 0)
		return cli_usage(bank_usage, 0);
	if (parse_variants(semis, 1, -SID_STRETCH_MAX_SEMITONES, SID_STRETCH_MAX_SEMITONES, o) != 0 ||
		parse_variants(ratios, 0, SID_STRETCH_MIN_RATIO, SID_STRETCH_MAX_RATIO, o) != 0 || o->nv == 0)
	{
		fprintf(stderr, "sampleid bank: --semitones within +-%g and --stretch within %g .. %g, %d in all\n",
				SID_STRETCH_MAX_SEMITONES, SID_STRETCH_MIN_RATIO, SID_STRETCH_MAX_RATIO,
				SID_BANK_MAX_VARIANTS);
		return 2;
	}
	return -1;
}

/* Make one track's bank; adds its audio and CPU seconds. */
static int
bank_track(const bank_options *o, const char *path, const char *file, double *audio_s,
		   double *cpu_s)
{
	sid_pcm		pcm;
	sid_error	err;
	double		t0 = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID),
				t;

	if (sid_corpus_decode(o->data_dir, path, 16000, NULL, &pcm, &err) != SID_OK ||
		sid_bank_write_track(file, pcm.samples, (size_t) pcm.n_samples, 16000, o->v, o->nv,
							 o->engine, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid bank: %s: %s\n", path, err.msg);
		sid_pcm_free(&pcm);
		return -1;
	}
	t = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - t0;
	printf("%s\t%.1f s\t%.1f CPU s\t%.4f CPU s per audio s per variant\n", path,
		   pcm.n_samples / 16000.0, t, t / (pcm.n_samples / 16000.0) / o->nv);
	fflush(stdout);
	*audio_s += pcm.n_samples / 16000.0;
	*cpu_s += t;
	sid_pcm_free(&pcm);
	return 0;
}

int
cmd_bank(int argc, char **argv)
{
	bank_options o;
	sid_manifest m;
	sid_error	err;
	size_t	   *idx;
	int			rc = parse_bank_options(argc, argv, &o),
				made = 0,
				kept = 0,
				failed = 0;
	int32_t		n;
	double		audio_s = 0,
				cpu_s = 0;

	if (rc >= 0)
		return rc;
	if (mkdir(o.out, 0755) != 0 && errno != EEXIST)
	{
		fprintf(stderr, "sampleid bank: cannot create %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	sid_manifest_init(&m);
	if (sid_manifest_read(o.manifest, &m, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid bank: %s\n", err.msg);
		return 1;
	}
	idx = malloc((m.n ? m.n : 1) * sizeof(size_t));
	n = idx ? sid_corpus_select(&m, o.split, o.max_tracks, 0, idx) : 0;
	for (int32_t i = 0; i < n; i++)
	{
		const char *path = m.entries[idx[i]].path;
		char		file[4096];

		sid_bank_file_name(file, sizeof(file), o.out, path, 16000);
		if (sid_bank_complete(file, 16000, o.v, o.nv))
			kept++;
		else if (bank_track(&o, path, file, &audio_s, &cpu_s) == 0)
			made++;
		else
			failed++;
	}
	printf("# %d tracks made, %d kept, %d failed; %d variants; %.1f s of audio in %.1f CPU s "
		   "(%.4f CPU s per audio s per variant)\n", made, kept, failed, o.nv, audio_s, cpu_s,
		   audio_s > 0 ? cpu_s / audio_s / o.nv : 0);
	free(idx);
	sid_manifest_free(&m);
	return failed ? 1 : n == 0 ? (fprintf(stderr, "sampleid bank: no track in split %s\n", o.split), 1) : 0;
}
