/*
 * sid_train_step.c - one contrastive training step of the encoder:
 * forward 2P windows, NT-Xent, backward, AdamW.  The trainer, the benchmark
 * and the end-to-end unit test all go through here.
 */
#include "sid_train_step.h"

#include <stdlib.h>
#include <string.h>

sid_status
sid_train_ctx_init(sid_train_ctx *ctx, sid_encoder *enc, int max_pairs, float temperature,
				   const sid_adam_config *adam, sid_error *err)
{
	sid_status	st;

	memset(ctx, 0, sizeof(*ctx));
	if (max_pairs < 1)
		return sid_fail(err, SID_EINVAL, "a training batch needs at least one pair");
	if (!(temperature > 0.0f))
		return sid_fail(err, SID_EINVAL, "temperature must be positive");
	if ((st = sid_encoder_enable_training(enc, err)) != SID_OK)
		return st;
	if ((st = sid_encoder_acts_alloc(&ctx->acts, &enc->cfg, 2 * max_pairs, 1, err)) != SID_OK)
		return st;
	ctx->loss_scratch = malloc(sizeof(float) * sid_ntxent_scratch_floats(max_pairs));
	ctx->d_embed = malloc(sizeof(float) * (size_t) 2 * max_pairs * enc->cfg.embed_dim);
	if (!ctx->loss_scratch || !ctx->d_embed)
	{
		sid_train_ctx_free(ctx);
		return sid_fail(err, SID_ENOMEM, "out of memory for the training step");
	}
	ctx->enc = enc;
	ctx->max_pairs = max_pairs;
	ctx->temperature = temperature;
	ctx->adam = *adam;
	return SID_OK;
}

void
sid_train_ctx_free(sid_train_ctx *ctx)
{
	sid_encoder_acts_free(&ctx->acts);
	free(ctx->loss_scratch);
	free(ctx->d_embed);
	memset(ctx, 0, sizeof(*ctx));
}

double
sid_train_loss(sid_train_ctx *ctx, const float *windows, int pairs)
{
	sid_encoder *enc = ctx->enc;

	sid_encoder_forward_cpu(enc, &ctx->acts, windows, 2 * pairs);
	return sid_ntxent(NULL, ctx->loss_scratch, ctx->acts.embed, pairs, enc->cfg.embed_dim,
					  ctx->temperature);
}

double
sid_train_step(sid_train_ctx *ctx, const float *windows, int pairs, int step, float *grad_norm)
{
	sid_encoder *enc = ctx->enc;
	double		loss;
	float		norm;

	sid_encoder_forward_cpu(enc, &ctx->acts, windows, 2 * pairs);
	loss = sid_ntxent(ctx->d_embed, ctx->loss_scratch, ctx->acts.embed, pairs,
					  enc->cfg.embed_dim, ctx->temperature);
	memset(enc->grads, 0, sizeof(float) * enc->num_params);
	sid_encoder_backward(enc, &ctx->acts, ctx->d_embed, 2 * pairs);
	norm = sid_adam_step(enc->params, enc->grads, enc->adam_m, enc->adam_v, enc->num_params,
						 &ctx->adam, step);
	if (grad_norm)
		*grad_norm = norm;
	return loss;
}
