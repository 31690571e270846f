/*
 * bench_resample_fp.c - how far the resampler moves fingerprints: each
 * segment's fingerprint through the library's path (decode, mixdown, libsoxr
 * to 16 kHz) against the old path (the same decoded mono signal at its own
 * rate through one libsamplerate src_simple(SINC_MEDIUM) call) and, for
 * scale, against SINC_BEST.
 *
 *   make bench && build/bench/bench_resample_fp MODEL.sidm FILE...
 *   (e.g. models/fp.sidm /usr/share/games/wesnoth/1.16/data/core/music/battle.ogg)
 *
 * Prints per file and over all files the mean and minimum cosine between the
 * paths' fingerprints of the same segment (same start time, same model).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <samplerate.h>

#include "audio/sid_audio.h"
#include "model/sid_embed.h"

static void
die(const char *what, const sid_error *err)
{
	fprintf(stderr, "bench_resample_fp: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

/* fingerprints of the mono pcm at 16 kHz; exits on failure */
static sid_embed_result
embed(sid_embedder *e, const float *pcm, int64_t n, const char *what)
{
	sid_embed_result res;
	sid_error	err;

	if (sid_embed_pcm(e, SID_DEVICE_CPU, pcm, n, &res, &err) != SID_OK)
		die(what, &err);
	return res;
}

/* the old path's conversion: the whole signal in one src_simple call */
static float *
src_convert(const sid_pcm *native, int converter, int64_t *n_out)
{
	int64_t		cap = (int64_t) ceil(native->n_samples * 16000.0 / native->sample_rate) + 16;
	float	   *out = malloc(sizeof(float) * (size_t) cap);
	SRC_DATA	d = {0};
	int			rc;

	if (out == NULL)
		die("out of memory", NULL);
	d.data_in = native->samples;
	d.input_frames = native->n_samples;
	d.data_out = out;
	d.output_frames = cap;
	d.src_ratio = 16000.0 / native->sample_rate;
	if ((rc = src_simple(&d, converter, 1)) != 0)
	{
		fprintf(stderr, "bench_resample_fp: src_simple: %s\n", src_strerror(rc));
		exit(1);
	}
	*n_out = d.output_frames_gen;
	return out;
}

typedef struct cosine_stats
{
	double		sum,
				min;
	int64_t		n;
} cosine_stats;

/* cosine of every segment both results hold (the fingerprints are unit vectors) */
static void
compare(const sid_embed_result *a, const sid_embed_result *b, cosine_stats *file, cosine_stats *all)
{
	int64_t		n = a->n_segments < b->n_segments ? a->n_segments : b->n_segments;

	for (int64_t s = 0; s < n; s++)
	{
		double		dot = 0;

		for (int c = 0; c < a->dim; c++)
			dot += (double) a->fp[s * a->dim + c] * b->fp[s * b->dim + c];
		file->sum += dot;
		all->sum += dot;
		file->min = fmin(file->min, dot);
		all->min = fmin(all->min, dot);
		file->n++;
		all->n++;
	}
}

int
main(int argc, char **argv)
{
	sid_error	err;
	sid_model  *model;
	sid_embedder *e;
	sid_audio_limits lim;
	cosine_stats all_medium = {0, INFINITY, 0},
				all_best = {0, INFINITY, 0};

	if (argc < 3)
	{
		fprintf(stderr, "usage: bench_resample_fp MODEL.sidm FILE...\n");
		return 2;
	}
	if ((model = sid_model_load(argv[1], &err)) == NULL)
		die(argv[1], &err);
	if ((e = sid_embedder_create(model, 0, 32, &err)) == NULL)
		die("embedder", &err);
	sid_audio_limits_default(&lim);
	printf("%-40s %8s %14s %14s %14s %14s\n", "file", "segments", "MEDIUM mean", "MEDIUM min",
		   "BEST mean", "BEST min");
	for (int i = 2; i < argc; i++)
	{
		sid_audio_info info;
		sid_pcm		native,
					soxr;
		float	   *medium,
				   *best;
		int64_t		n_medium,
					n_best;
		sid_embed_result r_soxr,
					r_medium,
					r_best;
		cosine_stats f_medium = {0, INFINITY, 0},
					f_best = {0, INFINITY, 0};
		const char *base = argv[i];

		if (sid_audio_probe_file(argv[i], &lim, &info, &err) != SID_OK ||
			sid_audio_decode_file(argv[i], info.sample_rate, &lim, NULL, &native, &err) != SID_OK ||
			sid_audio_decode_file(argv[i], 16000, &lim, NULL, &soxr, &err) != SID_OK)
			die(argv[i], &err);
		medium = src_convert(&native, SRC_SINC_MEDIUM_QUALITY, &n_medium);
		best = src_convert(&native, SRC_SINC_BEST_QUALITY, &n_best);
		r_soxr = embed(e, soxr.samples, soxr.n_samples, argv[i]);
		r_medium = embed(e, medium, n_medium, argv[i]);
		r_best = embed(e, best, n_best, argv[i]);
		compare(&r_soxr, &r_medium, &f_medium, &all_medium);
		compare(&r_soxr, &r_best, &f_best, &all_best);
		for (const char *p = argv[i]; *p; p++)
			if (*p == '/')
				base = p + 1;
		printf("%-40s %8lld %14.5f %14.5f %14.5f %14.5f\n", base, (long long) f_medium.n,
			   f_medium.sum / f_medium.n, f_medium.min, f_best.sum / f_best.n, f_best.min);
		sid_embed_result_free(&r_soxr);
		sid_embed_result_free(&r_medium);
		sid_embed_result_free(&r_best);
		sid_pcm_free(&native);
		sid_pcm_free(&soxr);
		free(medium);
		free(best);
	}
	printf("%-40s %8lld %14.5f %14.5f %14.5f %14.5f\n", "all", (long long) all_medium.n,
		   all_medium.sum / all_medium.n, all_medium.min, all_best.sum / all_best.n, all_best.min);
	printf("(cosine of each segment's fingerprint: " SID_AUDIO_RESAMPLER_NAME
		   " path against libsamplerate SINC_MEDIUM, the old path, and SINC_BEST)\n");
	sid_embedder_free(e);
	sid_model_free(model);
	return 0;
}
