/*
 * sid_train_step.h - one contrastive training step of the encoder.
 *
 * A batch is 2P windows [2P][T][M]: windows i and i + P are two views of the
 * same audio (a positive pair); every other window in the batch is a
 * negative.  Loss: NT-Xent at the given temperature.
 *
 * With several workers (sid_train_ctx_set_workers) the step is data
 * parallel: each worker thread runs forward and backward on a contiguous
 * slice of the 2P windows with its own activations and gradient buffer and
 * one OpenBLAS thread; the loss sees all 2P embeddings; gradients are summed
 * before the Adam update.  The result equals the one-worker step up to
 * float summation order.
 */
#ifndef SID_TRAIN_STEP_H
#define SID_TRAIN_STEP_H

#include "nn/sid_encoder.h"

#define SID_TRAIN_MAX_WORKERS 8

typedef struct sid_train_worker
{
	sid_encoder_acts acts;
	float	   *grads;			/* worker 0 uses enc->grads */
	sid_encoder_params g;
	int			first, count;	/* the slice of windows of the current step */
} sid_train_worker;

typedef struct sid_train_ctx
{
	sid_encoder *enc;			/* not owned */
	int			n_workers;
	sid_train_worker workers[SID_TRAIN_MAX_WORKERS];
	float	   *embed;			/* [2P][D] all embeddings of the step */
	float	   *loss_scratch;
	float	   *d_embed;		/* [2P][D] */
	int			max_pairs;
	float		temperature;
	sid_adam_config adam;
	/* the step being run, read by the worker threads */
	const float *windows;
} sid_train_ctx;

/* One worker; OpenBLAS keeps whatever thread count the caller set. */
sid_status	sid_train_ctx_init(sid_train_ctx *ctx, sid_encoder *enc, int max_pairs,
							   float temperature, const sid_adam_config *adam, sid_error *err);
/* Use n data-parallel worker threads (1..SID_TRAIN_MAX_WORKERS), each with one BLAS thread. */
sid_status	sid_train_ctx_set_workers(sid_train_ctx *ctx, int n, sid_error *err);
void		sid_train_ctx_free(sid_train_ctx *ctx);

/*
 * pairs must be within 1..max_pairs (NaN otherwise).
 * NT-Xent of a batch without updating anything (validation).
 */
double		sid_train_loss(sid_train_ctx *ctx, const float *windows, int pairs);

/*
 * Forward, loss, backward and one Adam update (step is 0-based, drives the
 * learning-rate schedule).  Returns the loss before the update; grad_norm
 * (may be NULL) receives the gradient norm before clipping.
 */
double		sid_train_step(sid_train_ctx *ctx, const float *windows, int pairs, int step,
						   float *grad_norm);

#endif
