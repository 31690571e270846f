/*
 * test_nn_encoder.c - the whole encoder: geometry and budgets of the default
 * model, batch independence, and the full backward pass against central
 * finite differences on a small encoder (every parameter).
 */
#include <stdlib.h>
#include <string.h>

#include "nn_testutil.h"
#include "nn/sid_encoder.h"
#include "tap.h"

static void
small_config(sid_encoder_config *cfg)
{
	sid_encoder_default_config(cfg);
	cfg->n_mels = 16;
	cfg->n_frames = 13;			/* 4 time nodes of 3 frames, one frame unused */
	cfg->patch_freq = 4;
	cfg->patch_time = 3;
	cfg->n_stages = 2;
	cfg->channels[0] = 6;
	cfg->channels[1] = 8;
	cfg->blocks[0] = 1;
	cfg->blocks[1] = 1;
	cfg->freq_merge = 2;
	cfg->knn_k = 3;
	cfg->ffn_ratio = 2;
	cfg->head_hidden = 10;
	cfg->embed_dim = 5;
}

static void
test_default_budget(void)
{
	sid_encoder_config cfg;
	sid_error	err;
	size_t		np;
	double		fl;

	sid_encoder_default_config(&cfg);
	CHECK(sid_encoder_check_config(&cfg, &err) == SID_OK, "default configuration is valid");
	np = sid_encoder_num_params(&cfg);
	fl = sid_encoder_flops(&cfg);
	printf("# default model: %zu parameters, %.2f MFLOPs per window, nodes %d/%d/%d\n",
		   np, fl / 1e6, sid_encoder_nodes(&cfg, 0), sid_encoder_nodes(&cfg, 1),
		   sid_encoder_nodes(&cfg, 2));
	CHECK(np <= 3000000, "default model has at most 3 M parameters (%zu)", np);
	CHECK(fl <= 25e6, "default model needs at most 25 MFLOPs per 1 s window (%.2f M)", fl / 1e6);
	CHECK(sid_encoder_nodes(&cfg, 0) == 120 && sid_encoder_nodes(&cfg, 2) == 30,
		  "default geometry: 120 nodes, merged to 30 in the last stage");

	cfg.knn_k = 200;
	CHECK(sid_encoder_check_config(&cfg, &err) == SID_EFORMAT && strstr(err.msg, "neighbours"),
		  "k larger than the node count is refused: %s", err.msg);
	sid_encoder_default_config(&cfg);
	cfg.patch_freq = 7;
	CHECK(sid_encoder_check_config(&cfg, &err) == SID_EFORMAT, "a patch that does not tile the mels is refused");
}

/* ---- finite differences over the whole encoder ---- */
static struct
{
	sid_encoder *enc;
	sid_encoder_acts acts;
	float	   *input, *wy;
	int			B, nblocks;
	int32_t    *knn_ref, *am_ref;	/* discrete structure at the unperturbed point */
	size_t		knn_n[SID_MAX_BLOCKS], am_n[SID_MAX_BLOCKS];
	int			structure_changed;
} E;

static void
snapshot_structure(int save)
{
	size_t		ko = 0,
				ao = 0;

	for (int i = 0; i < E.nblocks; i++)
	{
		if (save)
		{
			memcpy(E.knn_ref + ko, E.acts.blocks[i].knn, sizeof(int32_t) * E.knn_n[i]);
			memcpy(E.am_ref + ao, E.acts.blocks[i].g_argmax, sizeof(int32_t) * E.am_n[i]);
		}
		else if (memcmp(E.knn_ref + ko, E.acts.blocks[i].knn, sizeof(int32_t) * E.knn_n[i]) ||
				 memcmp(E.am_ref + ao, E.acts.blocks[i].g_argmax, sizeof(int32_t) * E.am_n[i]))
			E.structure_changed = 1;
		ko += E.knn_n[i];
		ao += E.am_n[i];
	}
}

static double
encoder_loss(void)
{
	sid_encoder_forward_cpu(E.enc, &E.acts, E.input, E.B);
	snapshot_structure(0);
	return test_dot(E.wy, E.acts.embed, (size_t) E.B * E.enc->cfg.embed_dim);
}

static void
test_encoder_gradients(void)
{
	sid_encoder_config cfg;
	sid_error	err;
	size_t		np,
				total_k = 0,
				total_a = 0,
				skipped = 0,
				bad = 0;
	double		diff2 = 0,
				a2 = 0,
				f2 = 0;
	const float eps = 1e-4f;

	small_config(&cfg);
	E.enc = sid_encoder_create(&cfg, &err);
	CHECK(E.enc != NULL, "small encoder created");
	sid_encoder_init_random(E.enc, 7);
	CHECK(sid_encoder_enable_training(E.enc, &err) == SID_OK, "training buffers allocated");
	E.B = 3;
	CHECK(sid_encoder_acts_alloc(&E.acts, &cfg, E.B, 1, &err) == SID_OK, "activations allocated");
	E.input = test_randn((size_t) E.B * cfg.n_frames * cfg.n_mels, 1);
	E.wy = test_randn((size_t) E.B * cfg.embed_dim, 1);
	E.nblocks = sid_encoder_total_blocks(&cfg);
	for (int s = 0, i = 0; s < cfg.n_stages; s++)
		for (int j = 0; j < cfg.blocks[s]; j++, i++)
		{
			E.knn_n[i] = (size_t) E.B * sid_encoder_nodes(&cfg, s) * cfg.knn_k;
			E.am_n[i] = (size_t) E.B * sid_encoder_nodes(&cfg, s) * cfg.channels[s];
			total_k += E.knn_n[i];
			total_a += E.am_n[i];
		}
	E.knn_ref = malloc(sizeof(int32_t) * total_k);
	E.am_ref = malloc(sizeof(int32_t) * total_a);

	encoder_loss();
	snapshot_structure(1);
	memset(E.enc->grads, 0, sizeof(float) * E.enc->num_params);
	sid_encoder_backward(E.enc, &E.acts, E.wy, E.B);

	np = E.enc->num_params;
	/*
	 * Every parameter.  Where a perturbation changes the kNN graph or an
	 * arg-max the loss is not differentiable there; such parameters are
	 * skipped and counted.
	 */
	for (size_t i = 0; i < np; i++)
	{
		float		saved = E.enc->params[i];
		double		lp,
					lm,
					fd,
					an = E.enc->grads[i];

		E.structure_changed = 0;
		E.enc->params[i] = saved + eps;
		lp = encoder_loss();
		E.enc->params[i] = saved - eps;
		lm = encoder_loss();
		E.enc->params[i] = saved;
		if (E.structure_changed)
		{
			skipped++;
			continue;
		}
		fd = (lp - lm) / (2 * eps);
		diff2 += (fd - an) * (fd - an);
		a2 += an * an;
		f2 += fd * fd;
		if (fabs(fd - an) > 2e-2 * fmax(1.0, fabs(an)))
			bad++;
	}
	printf("# %zu parameters, %zu skipped (graph changed), %zu beyond 2e-2, relative error %.2g\n",
		   np, skipped, bad, sqrt(diff2) / (sqrt(a2) + sqrt(f2)));
	CHECK(skipped * 20 < np, "fewer than 5%% of perturbations change the graph (%zu of %zu)", skipped, np);
	CHECK(sqrt(diff2) / (sqrt(a2) + sqrt(f2)) < 5e-3,
		  "whole-encoder backward matches finite differences on every parameter (relative %.2g)",
		  sqrt(diff2) / (sqrt(a2) + sqrt(f2)));
	CHECK(bad == 0, "no single parameter gradient is off by more than 2%% (%zu are)", bad);

	/* batch independence: element 1 alone gives the same embedding */
	{
		float		full[64],
					one[64];
		size_t		D = cfg.embed_dim,
					win = (size_t) cfg.n_frames * cfg.n_mels;
		double		maxd = 0;

		sid_encoder_forward_cpu(E.enc, &E.acts, E.input, E.B);
		memcpy(full, E.acts.embed + D, sizeof(float) * D);
		sid_encoder_forward_cpu(E.enc, &E.acts, E.input + win, 1);
		memcpy(one, E.acts.embed, sizeof(float) * D);
		for (size_t i = 0; i < D; i++)
			maxd = fmax(maxd, fabs(full[i] - one[i]));
		CHECK(maxd < 1e-5, "a window's embedding does not depend on its batch (max diff %.2g)", maxd);
	}
	sid_encoder_acts_free(&E.acts);
	sid_encoder_free(E.enc);
	free(E.input);
	free(E.wy);
	free(E.knn_ref);
	free(E.am_ref);
}

static void
test_device_route(void)
{
	sid_encoder_config cfg;
	sid_error	err;
	sid_encoder *enc;
	sid_encoder_acts acts;
	float	   *input,
				emb[3 * 5];
	double		len = 0;

	small_config(&cfg);
	cfg.blocks[1] = 2;			/* two blocks in a stage: a block's output overwrites its input */
	enc = sid_encoder_create(&cfg, &err);
	sid_encoder_init_random(enc, 3);
	sid_encoder_acts_alloc(&acts, &cfg, 2, 0, &err);
	input = test_randn((size_t) 3 * cfg.n_frames * cfg.n_mels, 1);
	CHECK(sid_encoder_forward(enc, SID_DEVICE_CPU, &acts, input, 3, emb, NULL, &err) == SID_ELIMIT,
		  "a batch larger than the activations is refused: %s", err.msg);
	CHECK(sid_encoder_forward(enc, SID_DEVICE_CPU, &acts, input, 2, emb, NULL, &err) == SID_OK,
		  "CPU forward through the device entry point");
	for (int i = 0; i < 5; i++)
		len += emb[i] * emb[i];
	CHECK_NEAR(len, 1.0, 1e-5, "embeddings are L2-normalised");
	{
		/* inference activations share one set of block buffers; training keeps all */
		sid_encoder_acts full;
		double		maxd = 0;
		size_t		nodes = (size_t) 2 * sid_encoder_nodes(&cfg, 1) * cfg.channels[1];
		float	   *nodes_inf = malloc(sizeof(float) * nodes);

		sid_encoder_forward(enc, SID_DEVICE_CPU, &acts, input, 2, emb, nodes_inf, &err);
		sid_encoder_acts_alloc(&full, &cfg, 2, 1, &err);
		sid_encoder_forward_cpu(enc, &full, input, 2);
		for (int i = 0; i < 2 * 5; i++)
			maxd = fmax(maxd, fabs(emb[i] - full.embed[i]));
		for (size_t i = 0; i < nodes; i++)
			maxd = fmax(maxd, fabs(nodes_inf[i] - full.nodes[i]));
		CHECK(maxd == 0.0, "inference (shared buffers) and training activations give identical embeddings and nodes");
		sid_encoder_acts_free(&full);
		free(nodes_inf);
	}
	sid_encoder_acts_free(&acts);
	sid_encoder_free(enc);
	free(input);
}

/* A gain change is an additive shift in dB: the standardised input makes it vanish. */
static void
test_gain_invariance(void)
{
	sid_encoder_config cfg;
	sid_error	err;
	sid_encoder *enc;
	sid_encoder_acts acts;
	size_t		win;
	float	   *input,
				a[128],
				b[128];
	double		maxd = 0,
				len = 0;
	int			finite = 1;

	sid_encoder_default_config(&cfg);
	enc = sid_encoder_create(&cfg, &err);
	sid_encoder_init_random(enc, 11);
	sid_encoder_acts_alloc(&acts, &cfg, 1, 0, &err);
	win = (size_t) cfg.n_frames * cfg.n_mels;
	input = test_randn(win, 15);
	for (size_t i = 0; i < win; i++)
		input[i] -= 40.0f;
	sid_encoder_forward_cpu(enc, &acts, input, 1);
	memcpy(a, acts.embed, sizeof(a));
	for (size_t i = 0; i < win; i++)
		input[i] += 12.0f;		/* +12 dB */
	sid_encoder_forward_cpu(enc, &acts, input, 1);
	memcpy(b, acts.embed, sizeof(b));
	for (int i = 0; i < 128; i++)
		maxd = fmax(maxd, fabs(a[i] - b[i]));
	CHECK(maxd < 1e-4, "a 12 dB gain change leaves the default model's fingerprint unchanged (max diff %.2g)", maxd);
	for (size_t i = 0; i < win; i++)
		input[i] = -100.0f;		/* digital silence */
	sid_encoder_forward_cpu(enc, &acts, input, 1);
	for (int i = 0; i < 128; i++)
	{
		finite &= isfinite(acts.embed[i]);
		len += acts.embed[i] * acts.embed[i];
	}
	CHECK(finite && fabs(len - 1) < 1e-5, "a silent window gives a finite unit fingerprint");
	sid_encoder_acts_free(&acts);
	sid_encoder_free(enc);
	free(input);
}

int
main(void)
{
	sid_nn_set_threads(1);
	test_default_budget();
	test_encoder_gradients();
	test_device_route();
	test_gain_invariance();
	return tap_done();
}
