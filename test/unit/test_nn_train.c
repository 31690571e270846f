/*
 * test_nn_train.c - end to end: a small encoder trained with Adam on a tiny
 * synthetic contrastive problem (two noisy views of one of 64 random
 * "spectrogram" templates form a positive pair) must lower the NT-Xent loss
 * of a fixed held-out batch by at least 60% in 300 steps (measured: 2.22 ->
 * 0.58, a 74% drop).  Fixed seeds.
 */
#include <stdlib.h>
#include <string.h>

#include "nn_testutil.h"
#include "train/sid_train_step.h"
#include "tap.h"

#define TEMPLATES 64
#define PAIRS 8
#define STEPS 300

static void
make_batch(float *windows, const float *templates, size_t win, int pairs, float noise)
{
	for (int p = 0; p < pairs; p++)
	{
		int			t = (int) (test_uniform() * TEMPLATES);

		for (int v = 0; v < 2; v++)
		{
			float	   *w = windows + ((size_t) v * pairs + p) * win;
			float		gain = (float) (test_uniform() - 0.5);

			for (size_t i = 0; i < win; i++)
				w[i] = templates[(size_t) t * win + i] + gain + noise * test_normal();
		}
	}
}

int
main(void)
{
	sid_encoder_config cfg;
	sid_encoder *enc;
	sid_train_ctx ctx;
	sid_adam_config adam;
	sid_error	err;
	size_t		win;
	float	   *templates,
			   *batch,
			   *heldout;
	double		before,
				after,
				first_loss = 0,
				last_loss = 0;

	sid_nn_set_threads(1);
	sid_encoder_default_config(&cfg);
	cfg.n_mels = 16;
	cfg.n_frames = 16;
	cfg.patch_freq = 4;
	cfg.patch_time = 4;
	cfg.n_stages = 2;
	cfg.channels[0] = 16;
	cfg.channels[1] = 24;
	cfg.blocks[0] = 1;
	cfg.blocks[1] = 1;
	cfg.knn_k = 3;
	cfg.head_hidden = 32;
	cfg.embed_dim = 16;
	win = (size_t) cfg.n_frames * cfg.n_mels;

	test_rng_state = 2024;
	templates = test_randn(TEMPLATES * win, 1);
	batch = malloc(sizeof(float) * 2 * PAIRS * win);
	heldout = malloc(sizeof(float) * 2 * PAIRS * win);
	make_batch(heldout, templates, win, PAIRS, 0.7f);

	enc = sid_encoder_create(&cfg, &err);
	sid_encoder_init_random(enc, 1);
	sid_adam_default_config(&adam, STEPS);
	adam.lr = 3e-3f;
	CHECK(sid_train_ctx_init(&ctx, enc, PAIRS, 0.1f, &adam, &err) == SID_OK, "training context ready");

	before = sid_train_loss(&ctx, heldout, PAIRS);
	for (int step = 0; step < STEPS; step++)
	{
		double		loss;

		make_batch(batch, templates, win, PAIRS, 0.7f);
		loss = sid_train_step(&ctx, batch, PAIRS, step, NULL);
		if (step < 20)
			first_loss += loss / 20;
		if (step >= STEPS - 20)
			last_loss += loss / 20;
	}
	after = sid_train_loss(&ctx, heldout, PAIRS);
	printf("# held-out NT-Xent %.3f -> %.3f; training loss (mean of 20 steps) %.3f -> %.3f\n",
		   before, after, first_loss, last_loss);
	CHECK(isfinite(after), "loss stays finite");
	CHECK(after < 0.4 * before,
		  "%d Adam steps cut the held-out NT-Xent by at least 60%% (%.3f -> %.3f)", STEPS, before, after);
	CHECK(last_loss < 0.5 * first_loss, "training loss at least halves too (%.3f -> %.3f)",
		  first_loss, last_loss);

	/* two data-parallel workers take the same step as one */
	{
		sid_encoder *twin = sid_encoder_create(&cfg, &err);
		sid_train_ctx ctx2;
		double		l1,
					l2,
					maxd = 0;

		memcpy(twin->params, enc->params, sizeof(float) * enc->num_params);
		CHECK(sid_train_ctx_init(&ctx2, twin, PAIRS, 0.1f, &adam, &err) == SID_OK &&
			  sid_train_ctx_set_workers(&ctx2, 2, &err) == SID_OK, "two-worker training context ready");
		/* the same Adam state: both start from fresh moments at the same step */
		memset(enc->adam_m, 0, sizeof(float) * enc->num_params);
		memset(enc->adam_v, 0, sizeof(float) * enc->num_params);
		make_batch(batch, templates, win, PAIRS - 1, 0.7f);	/* an odd window count splits unevenly */
		l1 = sid_train_step(&ctx, batch, PAIRS - 1, 10, NULL);
		l2 = sid_train_step(&ctx2, batch, PAIRS - 1, 10, NULL);
		/* compare the (clipped) gradients: Adam's first step is sign-like and would amplify rounding */
		{
			double		gmax = 0;

			for (size_t i = 0; i < enc->num_params; i++)
			{
				maxd = fmax(maxd, fabs(enc->grads[i] - twin->grads[i]));
				gmax = fmax(gmax, fabs(enc->grads[i]));
			}
			CHECK(fabs(l1 - l2) < 1e-5 && maxd < 1e-4 * gmax,
				  "a two-worker step equals a one-worker step (loss diff %.2g, max gradient diff %.2g of %.2g)",
				  fabs(l1 - l2), maxd, gmax);
		}
		CHECK(isnan(sid_train_step(&ctx2, batch, PAIRS + 1, 11, NULL)), "more pairs than the context holds are refused");
		sid_train_ctx_free(&ctx2);
		sid_encoder_free(twin);
	}
	sid_train_ctx_free(&ctx);
	sid_encoder_free(enc);
	free(templates);
	free(batch);
	free(heldout);
	return tap_done();
}
