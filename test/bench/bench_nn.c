/*
 * bench_nn.c - speed of the neural engine, each figure next to this
 * machine's sgemm peak measured in the same run (the comparison ratio).
 *
 *   build/bench/bench_nn [inference_seconds] [train_steps] [batch]
 *
 * With batch, only the 1-thread sgemm peak and the encoder at that batch are
 * measured: a run to profile (perf record) that holds nothing else.
 *
 * 1. sgemm GFLOP/s (1024^3, OpenBLAS) on 1 and on 2 threads;
 * 2. inference of the default model on 1 thread: encoder only (batch 32 and
 *    batch 1) and the whole path from 16 kHz PCM (log-mel + encoder), as
 *    segments/s, multiple of real time at a 0.5 s hop, and fraction of the
 *    1-thread sgemm peak (model FLOPs from sid_encoder_flops);
 * Wall-clock figures are inflated when other processes hold the cores (this
 * machine is shared), so each is also given per CPU-second of this thread
 * (inference) or process (training).
 * 3. one training step at 256 pairs (512 windows) on 2 cores, both as two
 *    data-parallel workers and as one worker with 2 OpenBLAS threads:
 *    seconds per step and fraction of the 2-thread peak, counting a step as
 *    3x the forward FLOPs (backward ~ 2x forward).
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_clock.h"
#include "core/sid_rng.h"
#include "model/sid_embed.h"
#include "train/sid_train_step.h"

static sid_rng data_rng;		/* seeded in main */

static float
frand(void)						/* uniform in [0, 1) */
{
	return sid_rng_uniform(&data_rng);
}

static double sgemm_cpu_gflops;	/* 1 thread, per CPU-second */

static double
sgemm_gflops(int threads, double seconds)
{
	double		c0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);
	const int	n = 1024;
	float	   *a = malloc(sizeof(float) * n * n),
			   *b = malloc(sizeof(float) * n * n),
			   *c = malloc(sizeof(float) * n * n);
	double		t0,
				t;
	int			reps = 0;

	for (int i = 0; i < n * n; i++)
	{
		a[i] = frand();
		b[i] = frand();
	}
	sid_nn_set_threads(threads);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	do
	{
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		reps++;
	} while ((t = sid_clock_seconds(CLOCK_MONOTONIC) - t0) < seconds);
	if (threads == 1)
		sgemm_cpu_gflops = 2.0 * n * n * n * (reps + 1) / (sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - c0) / 1e9;
	free(a);
	free(b);
	free(c);
	return 2.0 * n * n * n * reps / t / 1e9;
}

/* What every figure of one run is set against, measured in that run. */
typedef struct bench_ref
{
	sid_model  *model;
	double		peak1,			/* sgemm GFLOP/s, wall clock, on 1 and 2 threads */
				peak2;
	double		flops;			/* per window */
	size_t		win;			/* floats per window */
	double		secs;			/* measuring time per inference figure */
} bench_ref;

static void
bench_encoder_only(const bench_ref *r, int B)
{
	const sid_encoder_config *cfg = &r->model->enc->cfg;
	sid_encoder_acts acts;
	sid_error	err;
	float	   *in = malloc(sizeof(float) * r->win * B),
			   *emb = malloc(sizeof(float) * B * cfg->embed_dim);
	double		t0,
				t,
				c0;
	long		segs = 0;

	for (size_t i = 0; i < r->win * B; i++)
		in[i] = -60.0f + 40.0f * frand();
	sid_encoder_acts_alloc(&acts, cfg, B, 0, &err);
	sid_encoder_forward(r->model->enc, SID_DEVICE_CPU, &acts, in, B, emb, NULL, &err);
	c0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	do
	{
		sid_encoder_forward(r->model->enc, SID_DEVICE_CPU, &acts, in, B, emb, NULL, &err);
		segs += B;
	} while ((t = sid_clock_seconds(CLOCK_MONOTONIC) - t0) < r->secs);
	c0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
	printf("inference, encoder only, batch %d, 1 thread: %.0f segments/s = %.0fx real time at 0.5 s hop; "
		   "%.2f GFLOP/s = %.1f%% of 1-thread sgemm peak | per CPU-second: %.0f segments = %.0fx real time, "
		   "%.1f%% of sgemm per CPU-second\n",
		   B, segs / t, segs / t * 0.5, r->flops * segs / t / 1e9, 100.0 * r->flops * segs / t / 1e9 / r->peak1,
		   segs / c0, segs / c0 * 0.5, 100.0 * r->flops * segs / c0 / 1e9 / sgemm_cpu_gflops);
	sid_encoder_acts_free(&acts);
	free(in);
	free(emb);
}

/* rate_1t: the 1-thread wall-clock segments/s, for the speed-up */
static void
bench_pcm_two_threads(const bench_ref *r, sid_embedder *e, const float *pcm, int64_t n,
					  double rate_1t)
{
	sid_error	err;
	sid_embedder *es[2] = {e, sid_embedder_create(r->model, 0.0, 32, &err)};
	sid_embed_result res;
	double		t0,
				t,
				c0;
	long		segs = 0;
	int			runs = 0;

	c0 = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	do
	{
		sid_embed_pcm_parallel(es, 2, SID_DEVICE_CPU, pcm, n, &res, &err);
		segs += res.n_segments;
		sid_embed_result_free(&res);
		runs++;
	} while ((t = sid_clock_seconds(CLOCK_MONOTONIC) - t0) < r->secs);
	c0 = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("inference from 16 kHz PCM, 2 embedding threads: %.0f segments/s = %.0fx real time "
		   "(%.2fx the 1-thread wall-clock rate) | %.0f segments per CPU-second\n",
		   segs / t, runs * 60.0 / t, (segs / t) / rate_1t, segs / c0);
	sid_embedder_free(es[1]);
}

static void
bench_pcm(const bench_ref *r, const sid_feature_config *feat)
{
	int64_t		n = (int64_t) 60 * feat->sample_rate;
	float	   *pcm = malloc(sizeof(float) * n);
	sid_error	err;
	sid_embedder *e = sid_embedder_create(r->model, 0.0, 32, &err);
	sid_embed_result res;
	double		t0,
				t,
				c0;
	long		segs = 0;
	int			runs = 0;

	for (int64_t i = 0; i < n; i++)
		pcm[i] = 0.3f * sinf(0.05f * i) * (frand() - 0.5f) + 0.1f * sinf(0.0137f * i);
	c0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	do
	{
		sid_embed_pcm(e, SID_DEVICE_CPU, pcm, n, &res, &err);
		segs += res.n_segments;
		sid_embed_result_free(&res);
		runs++;
	} while ((t = sid_clock_seconds(CLOCK_MONOTONIC) - t0) < r->secs);
	c0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
	printf("inference from 16 kHz PCM (log-mel + encoder), batch 32, 1 thread: %.0f segments/s = "
		   "%.0fx real time at 0.5 s hop (%.1f min of audio in %.2f s); %.1f%% of 1-thread sgemm peak"
		   " | per CPU-second: %.0f segments = %.0fx real time\n",
		   segs / t, runs * 60.0 / t, runs * 1.0, t, 100.0 * r->flops * segs / t / 1e9 / r->peak1,
		   segs / c0, runs * 60.0 / c0);
	/* the same on two threads (sampleid embed --threads 2) */
	bench_pcm_two_threads(r, e, pcm, n, segs / t);
	sid_embedder_free(e);
	free(pcm);
}

/* two_workers: 2 data-parallel workers x 1 BLAS thread, else 1 worker on 2 BLAS threads */
static int
bench_train_step(const bench_ref *r, int two_workers, int train_steps)
{
	sid_train_ctx ctx;
	sid_adam_config adam;
	sid_error	err;
	int			P = 256;
	float	   *batch = malloc(sizeof(float) * r->win * 2 * P);
	double		t0,
				t,
				c0,
				loss = 0;

	for (size_t i = 0; i < r->win * 2 * P; i++)
		batch[i] = -60.0f + 40.0f * frand();
	sid_nn_set_threads(2);
	sid_adam_default_config(&adam, 1000);
	if (sid_train_ctx_init(&ctx, r->model->enc, P, 0.05f, &adam, &err) != SID_OK ||
		(two_workers && sid_train_ctx_set_workers(&ctx, 2, &err) != SID_OK))
	{
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	sid_train_step(&ctx, batch, P, 0, NULL);	/* warm-up: first touch of the buffers */
	c0 = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	for (int s = 1; s <= train_steps; s++)
		loss = sid_train_step(&ctx, batch, P, s, NULL);
	t = (sid_clock_seconds(CLOCK_MONOTONIC) - t0) / train_steps;
	c0 = (sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / train_steps;
	printf("training step, 256 pairs (512 windows), %s: %.3f s/step (%d steps, loss %.3f); "
		   "%.2f GFLOP/s counting 3x forward = %.1f%% of 2-thread sgemm peak | %.2f CPU-seconds/step, "
		   "%.1f%% of sgemm per CPU-second\n",
		   two_workers ? "2 data-parallel workers x 1 BLAS thread" : "1 worker, OpenBLAS on 2 threads",
		   t, train_steps, loss, 3.0 * r->flops * 2 * P / t / 1e9,
		   100.0 * 3.0 * r->flops * 2 * P / t / 1e9 / r->peak2, c0,
		   100.0 * 3.0 * r->flops * 2 * P / c0 / 1e9 / sgemm_cpu_gflops);
	sid_train_ctx_free(&ctx);
	free(batch);
	return 0;
}

int
main(int argc, char **argv)
{
	double		secs = argc > 1 ? atof(argv[1]) : 5.0;
	int			train_steps = argc > 2 ? atoi(argv[2]) : 3;
	sid_encoder_config cfg;
	sid_feature_config feat;
	sid_error	err;
	bench_ref	r = {.secs = secs};

	int			only_batch = argc > 3 ? atoi(argv[3]) : 0;

	sid_rng_init(&data_rng, 99, 0);
	r.peak1 = sgemm_gflops(1, 2.0);
	r.peak2 = only_batch > 0 ? 0 : sgemm_gflops(2, 2.0);
	printf("sgemm 1024^3: %.1f GFLOP/s on 1 thread (%.1f per CPU-second), %.1f GFLOP/s on 2 threads\n",
		   r.peak1, sgemm_cpu_gflops, r.peak2);

	sid_encoder_default_config(&cfg);
	sid_features_default(&feat);
	r.model = sid_model_new_untrained("bench", &cfg, &feat, 1, &err);
	if (!r.model)
	{
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	cfg = r.model->enc->cfg;
	r.flops = sid_encoder_flops(&cfg);
	r.win = (size_t) cfg.n_frames * cfg.n_mels;
	printf("default model: %zu parameters, %.2f MFLOPs per window (%d x %d)\n",
		   r.model->enc->num_params, r.flops / 1e6, cfg.n_frames, cfg.n_mels);

	/* ---- inference, encoder only, one thread ---- */
	sid_nn_set_threads(1);
	if (only_batch > 0)
	{
		bench_encoder_only(&r, only_batch);
		sid_model_free(r.model);
		return 0;
	}
	bench_encoder_only(&r, 32);
	bench_encoder_only(&r, 1);

	/* ---- inference from PCM (log-mel + encoder), one thread ---- */
	bench_pcm(&r, &feat);

	/* ---- training step, 256 pairs, two cores: two ways to use them ---- */
	for (int mode = 0; mode < 2 && train_steps > 0; mode++)
		if (bench_train_step(&r, mode == 0, train_steps) != 0)
			return 1;
	sid_model_free(r.model);
	return 0;
}
