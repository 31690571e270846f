/*
 * bench_content_gate.c - the measurement behind SID_CONTENT_GATE_THRESHOLD:
 * the gate's score (largest inner product with a null fingerprint) for every
 * segment of the music files named on the command line, and for the held-out
 * null signals (set 1), with the share of each gated at several thresholds;
 * and the audio test (level, modulation) per window.  One line per window
 * ("null KIND ..." and "music ...") is printed for further analysis.
 *
 *   build/bench/bench_content_gate models/fp.sidm FILE...
 */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sid_audio.h"
#include "model/sid_content_gate.h"
#include "model/sid_embed.h"
#include "model/sid_model.h"

static const float thresholds[] = {0.80f, 0.85f, 0.90f, 0.93f, 0.95f, 0.97f};
#define N_THR (int) (sizeof(thresholds) / sizeof(thresholds[0]))

/* Embeds pcm a batch at a time; gate score, level and flux per window. */
static int64_t
measure(sid_embedder *e, const sid_content_gate *g, const float *x, int64_t n,
		float *score, float *level, float *flux, int64_t max)
{
	int64_t		S = sid_embed_count(e, n),
				k = 0;
	int			D = e->model->enc->cfg.embed_dim,
				T = e->model->enc->cfg.n_frames,
				M = e->model->enc->cfg.n_mels;
	float	   *fp = malloc(sizeof(float) * e->batch * D);
	double	   *t = malloc(sizeof(double) * e->batch);
	sid_error	err;

	for (int64_t first = 0; first < S && k < max; first += e->batch)
	{
		int			c = (int) (S - first < e->batch ? S - first : e->batch);

		if (sid_embed_batch(e, SID_DEVICE_CPU, x, n, first, c, fp, t, &err) != SID_OK)
			exit((fprintf(stderr, "%s\n", err.msg), 1));
		for (int i = 0; i < c && k < max; i++, k++)
		{
			score[k] = sid_content_gate_score(g, fp + i * D);
			sid_content_window_measure(e->windows + (size_t) i * T * M, T, M, &level[k], &flux[k]);
		}
	}
	free(fp), free(t);
	return k;
}

static int
cmp_float(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return (x > y) - (x < y);
}

static void
report(const char *what, float *s, int64_t n)
{
	qsort(s, n, sizeof(float), cmp_float);
	printf("%-22s n=%-6lld min %.3f p1 %.3f p50 %.3f p99 %.3f max %.3f | gated at",
		   what, (long long) n, s[0], s[n / 100], s[n / 2], s[n - 1 - n / 100], s[n - 1]);
	for (int k = 0; k < N_THR; k++)
	{
		int64_t		g = 0;

		for (int64_t i = 0; i < n; i++)
			g += s[i] >= thresholds[k];
		printf(" %.2f:%.1f%%", thresholds[k], 100.0 * g / n);
	}
	printf("\n");
}

int
main(int argc, char **argv)
{
	sid_error	err;
	sid_model  *m;
	sid_embedder *e;
	sid_content_gate *g;
	sid_audio_limits lim;
	float	   *music[3] = {NULL, NULL, NULL};
	int64_t		n_music = 0;

	if (argc < 2)
	{
		fprintf(stderr, "usage: %s MODEL.sidm [MUSIC_FILE...]\n", argv[0]);
		return 2;
	}
	if (!(m = sid_model_load(argv[1], &err)) || !(e = sid_embedder_create(m, 0, 16, &err)) ||
		!(g = sid_content_gate_create(e, SID_CONTENT_GATE_THRESHOLD, &err)))
	{
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	printf("null set 0: %d fingerprints\n", g->n_null);
	{
		int32_t		rate = e->features.sample_rate;
		int64_t		n = 2 * rate;
		int			count = sid_content_null_signal(1, -1, NULL, 0, rate, NULL);
		float	   *x = malloc(sizeof(float) * n),
				   *s = malloc(sizeof(float) * count * 12);
		int64_t		k = 0;

		for (int i = 0; i < count; i++)
		{
			const char *kind;
			int64_t		got;

			sid_content_null_signal(1, i, x, n, rate, &kind);
			got = measure(e, g, x, n, s + k, s + count * 4 + k, s + count * 8 + k, 3);
			for (int64_t j = 0; j < got; j++)
				printf("null %-7s score %.3f level %7.1f modulation %.2f\n", kind, s[k + j],
					   s[count * 4 + k + j], s[count * 8 + k + j]);
			k += got;
		}
		report("held-out null score", s, k);
		free(x), free(s);
	}
	sid_audio_limits_default(&lim);
	for (int a = 2; a < argc; a++)
	{
		sid_pcm		pcm;
		int64_t		S;

		if (sid_audio_decode_file(argv[a], e->features.sample_rate, &lim, NULL, &pcm, &err) != SID_OK)
			return fprintf(stderr, "%s: %s\n", argv[a], err.msg), 1;
		S = sid_embed_count(e, pcm.n_samples);
		for (int v = 0; v < 3; v++)
			music[v] = realloc(music[v], sizeof(float) * (n_music + S));
		n_music += measure(e, g, pcm.samples, pcm.n_samples, music[0] + n_music,
						   music[1] + n_music, music[2] + n_music, S);
		sid_pcm_free(&pcm);
	}
	if (n_music)
	{
		int64_t		audio = 0,
					either = 0;

		for (int64_t i = 0; i < n_music; i++)
			printf("music score %.3f level %7.1f modulation %.2f\n", music[0][i], music[1][i], music[2][i]);
		for (int64_t i = 0; i < n_music; i++)
		{
			int			a = !sid_content_window_has_content(music[1][i], music[2][i]);

			audio += a;
			either += a || music[0][i] >= SID_CONTENT_GATE_THRESHOLD;
		}
		printf("music: %lld segments; without content by the audio test (level < %.0f dB or "
			   "modulation < %.2f dB): %lld (%.2f%%), by it or the fingerprint gate: %lld (%.2f%%)\n",
			   (long long) n_music, SID_CONTENT_MIN_LEVEL_DB, SID_CONTENT_MIN_MODULATION_DB,
			   (long long) audio, 100.0 * audio / n_music, (long long) either, 100.0 * either / n_music);
		report("music gate score", music[0], n_music);
		report("music modulation dB", music[2], n_music);
	}
	return 0;
}
