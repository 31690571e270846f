/*
 * sid_train_step.c - one contrastive training step of the encoder:
 * forward 2P windows, NT-Xent, backward, AdamW; data parallel over worker
 * threads.  The trainer, the benchmark and the end-to-end unit test all go
 * through here.
 */
#include "train/sid_train_step.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void
free_workers(sid_train_ctx *ctx)
{
	for (int w = 0; w < SID_TRAIN_MAX_WORKERS; w++)
	{
		sid_encoder_acts_free(&ctx->workers[w].acts);
		if (w > 0)
			free(ctx->workers[w].grads);
	}
	memset(ctx->workers, 0, sizeof(ctx->workers));
	ctx->n_workers = 0;
}

static sid_status
alloc_workers(sid_train_ctx *ctx, int n, sid_error *err)
{
	sid_encoder *enc = ctx->enc;
	int			windows = 2 * ctx->max_pairs;
	sid_status	st;

	for (int w = 0; w < n; w++)
	{
		sid_train_worker *wk = &ctx->workers[w];
		int			share = (windows + n - 1) / n;

		if ((st = sid_encoder_acts_alloc(&wk->acts, &enc->cfg, share, 1, err)) != SID_OK)
			return st;
		if (w == 0)
			wk->grads = enc->grads;
		else if (!(wk->grads = calloc(enc->num_params, sizeof(float))))
			return sid_fail(err, SID_ENOMEM, "out of memory for worker gradients");
		sid_encoder_params_bind(&wk->g, &enc->cfg, wk->grads);
	}
	ctx->n_workers = n;
	return SID_OK;
}

sid_status
sid_train_ctx_init(sid_train_ctx *ctx, sid_encoder *enc, int max_pairs, float temperature,
				   const sid_adam_config *adam, sid_error *err)
{
	sid_status	st;
	size_t		emb = (size_t) 2 * max_pairs * enc->cfg.embed_dim;

	memset(ctx, 0, sizeof(*ctx));
	if (max_pairs < 1)
		return sid_fail(err, SID_EINVAL, "a training batch needs at least one pair");
	if (!(temperature > 0.0f))
		return sid_fail(err, SID_EINVAL, "temperature must be positive");
	if ((st = sid_encoder_enable_training(enc, err)) != SID_OK)
		return st;
	ctx->enc = enc;
	ctx->max_pairs = max_pairs;
	ctx->temperature = temperature;
	ctx->adam = *adam;
	ctx->loss_scratch = malloc(sizeof(float) * sid_ntxent_scratch_floats(max_pairs));
	ctx->d_embed = malloc(sizeof(float) * emb);
	ctx->embed = malloc(sizeof(float) * emb);
	if (!ctx->loss_scratch || !ctx->d_embed || !ctx->embed)
	{
		sid_train_ctx_free(ctx);
		return sid_fail(err, SID_ENOMEM, "out of memory for the training step");
	}
	if ((st = alloc_workers(ctx, 1, err)) != SID_OK)
	{
		sid_train_ctx_free(ctx);
		return st;
	}
	return SID_OK;
}

sid_status
sid_train_ctx_set_workers(sid_train_ctx *ctx, int n, sid_error *err)
{
	sid_status	st;

	if (n < 1 || n > SID_TRAIN_MAX_WORKERS)
		return sid_fail(err, SID_EINVAL, "%d training workers (1 to %d allowed)", n, SID_TRAIN_MAX_WORKERS);
	free_workers(ctx);
	if ((st = alloc_workers(ctx, n, err)) != SID_OK)
	{
		free_workers(ctx);
		alloc_workers(ctx, 1, NULL);
		return st;
	}
	if (n > 1)
		sid_nn_set_threads(1);	/* the workers are the parallelism */
	return SID_OK;
}

void
sid_train_ctx_free(sid_train_ctx *ctx)
{
	free_workers(ctx);
	free(ctx->loss_scratch);
	free(ctx->d_embed);
	free(ctx->embed);
	memset(ctx, 0, sizeof(*ctx));
}

/* ---- the phases each worker runs on its slice -------------------------- */

typedef struct phase_arg
{
	sid_train_ctx *ctx;
	int			worker;
	int			backward;
} phase_arg;

static void *
run_phase(void *p)
{
	phase_arg  *pa = p;
	sid_train_ctx *ctx = pa->ctx;
	sid_train_worker *wk = &ctx->workers[pa->worker];
	const sid_encoder_config *cfg = &ctx->enc->cfg;
	size_t		win = (size_t) cfg->n_frames * cfg->n_mels;
	int			D = cfg->embed_dim;

	if (wk->count == 0)
		return NULL;
	if (!pa->backward)
	{
		sid_encoder_forward_cpu(ctx->enc, &wk->acts, ctx->windows + (size_t) wk->first * win, wk->count);
		memcpy(ctx->embed + (size_t) wk->first * D, wk->acts.embed, sizeof(float) * (size_t) wk->count * D);
	}
	else
	{
		memset(wk->grads, 0, sizeof(float) * ctx->enc->num_params);
		sid_encoder_backward_to(ctx->enc, &wk->g, &wk->acts, ctx->d_embed + (size_t) wk->first * D,
								wk->count);
	}
	return NULL;
}

/* Runs a phase on every worker: the caller's thread is worker 0. */
static void
run_workers(sid_train_ctx *ctx, int backward)
{
	pthread_t	threads[SID_TRAIN_MAX_WORKERS];
	phase_arg	args[SID_TRAIN_MAX_WORKERS];
	int			started[SID_TRAIN_MAX_WORKERS] = {0};

	for (int w = 0; w < ctx->n_workers; w++)
	{
		args[w].ctx = ctx;
		args[w].worker = w;
		args[w].backward = backward;
	}
	for (int w = 1; w < ctx->n_workers; w++)
		started[w] = pthread_create(&threads[w], NULL, run_phase, &args[w]) == 0;
	/* a worker whose thread could not start runs here, serially */
	for (int w = 1; w < ctx->n_workers; w++)
		if (!started[w])
			run_phase(&args[w]);
	run_phase(&args[0]);
	for (int w = 1; w < ctx->n_workers; w++)
		if (started[w])
			pthread_join(threads[w], NULL);
}

static void
forward_all(sid_train_ctx *ctx, const float *windows, int pairs)
{
	int			total = 2 * pairs,
				n = ctx->n_workers,
				share = (total + n - 1) / n;

	for (int w = 0; w < n; w++)
	{
		int			first = w * share;

		ctx->workers[w].first = first < total ? first : total;
		ctx->workers[w].count = first + share <= total ? share : (first < total ? total - first : 0);
	}
	ctx->windows = windows;
	run_workers(ctx, 0);
}

double
sid_train_loss(sid_train_ctx *ctx, const float *windows, int pairs)
{
	if (pairs < 1 || pairs > ctx->max_pairs)
		return NAN;
	forward_all(ctx, windows, pairs);
	return sid_ntxent(NULL, ctx->loss_scratch, ctx->embed, pairs, ctx->enc->cfg.embed_dim,
					  ctx->temperature);
}

double
sid_train_step(sid_train_ctx *ctx, const float *windows, int pairs, int step, float *grad_norm)
{
	sid_encoder *enc = ctx->enc;
	double		loss;
	float		norm;

	if (pairs < 1 || pairs > ctx->max_pairs)
		return NAN;
	forward_all(ctx, windows, pairs);
	loss = sid_ntxent(ctx->d_embed, ctx->loss_scratch, ctx->embed, pairs, enc->cfg.embed_dim,
					  ctx->temperature);
	run_workers(ctx, 1);
	for (int w = 1; w < ctx->n_workers; w++)
		if (ctx->workers[w].count > 0)
			sid_add_inplace(enc->grads, ctx->workers[w].grads, enc->num_params);
	norm = sid_adam_step(enc->params, enc->grads, enc->adam_m, enc->adam_v, enc->num_params,
						 &ctx->adam, step);
	if (grad_norm)
		*grad_norm = norm;
	return loss;
}
