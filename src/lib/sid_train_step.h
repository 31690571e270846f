/*
 * sid_train_step.h - one contrastive training step of the encoder.
 *
 * A batch is 2P windows [2P][T][M]: windows i and i + P are two views of the
 * same audio (a positive pair); every other window in the batch is a
 * negative.  Loss: NT-Xent at the given temperature.
 */
#ifndef SID_TRAIN_STEP_H
#define SID_TRAIN_STEP_H

#include "sid_encoder.h"

typedef struct sid_train_ctx
{
	sid_encoder *enc;			/* not owned */
	sid_encoder_acts acts;		/* for 2 * max_pairs windows */
	float	   *loss_scratch;
	float	   *d_embed;
	int			max_pairs;
	float		temperature;
	sid_adam_config adam;
} sid_train_ctx;

sid_status	sid_train_ctx_init(sid_train_ctx *ctx, sid_encoder *enc, int max_pairs,
							   float temperature, const sid_adam_config *adam, sid_error *err);
void		sid_train_ctx_free(sid_train_ctx *ctx);

/* NT-Xent of a batch without updating anything (validation). */
double		sid_train_loss(sid_train_ctx *ctx, const float *windows, int pairs);

/*
 * Forward, loss, backward and one Adam update (step is 0-based, drives the
 * learning-rate schedule).  Returns the loss before the update; grad_norm
 * (may be NULL) receives the gradient norm before clipping.
 */
double		sid_train_step(sid_train_ctx *ctx, const float *windows, int pairs, int step,
						   float *grad_norm);

#endif
