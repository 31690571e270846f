/*
 * sid_encoder.c - the fingerprint encoder: configuration, the single
 * parameter buffer, activations allocated once, forward and backward.
 * Architecture and layouts are described in sid_encoder.h.
 */
#include "nn/sid_encoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_rng.h"
#include "nn/sid_cuda_module.h"

void
sid_encoder_default_config(sid_encoder_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->n_mels = 64;
	cfg->n_frames = 63;			/* 1 + 16000 / 256, as sid_mel_frames_per_segment */
	cfg->patch_freq = 8;
	cfg->patch_time = 4;
	cfg->n_stages = 3;
	cfg->channels[0] = 32;
	cfg->channels[1] = 64;
	cfg->channels[2] = 128;
	cfg->blocks[0] = 1;
	cfg->blocks[1] = 2;
	cfg->blocks[2] = 1;
	cfg->freq_merge = 2;
	cfg->knn_k = 9;
	cfg->ffn_ratio = 2;
	cfg->head_hidden = 256;
	cfg->embed_dim = 128;
	cfg->activation = SID_ACT_GELU;
}

int
sid_encoder_time_nodes(const sid_encoder_config *cfg)
{
	return cfg->n_frames / cfg->patch_time;
}

int
sid_encoder_freq_nodes(const sid_encoder_config *cfg, int stage)
{
	int			f = cfg->n_mels / cfg->patch_freq;

	for (int s = 0; s < stage; s++)
		f /= cfg->freq_merge;
	return f;
}

int
sid_encoder_nodes(const sid_encoder_config *cfg, int stage)
{
	return sid_encoder_time_nodes(cfg) * sid_encoder_freq_nodes(cfg, stage);
}

int
sid_encoder_total_blocks(const sid_encoder_config *cfg)
{
	int			n = 0;

	for (int s = 0; s < cfg->n_stages; s++)
		n += cfg->blocks[s];
	return n;
}

sid_status
sid_encoder_check_config(const sid_encoder_config *cfg, sid_error *err)
{
	int			f;

	if (cfg->n_mels < 1 || cfg->n_mels > 1024 || cfg->n_frames < 2 || cfg->n_frames > 100000)
		return sid_fail(err, SID_EFORMAT, "encoder input %d mels x %d frames is out of range",
						cfg->n_mels, cfg->n_frames);
	if (cfg->patch_freq < 1 || cfg->patch_time < 1 || cfg->n_mels % cfg->patch_freq != 0 ||
		cfg->patch_time > cfg->n_frames)
		return sid_fail(err, SID_EFORMAT, "patch %d bands x %d frames does not tile %d x %d",
						cfg->patch_freq, cfg->patch_time, cfg->n_mels, cfg->n_frames);
	if ((int64_t) (cfg->n_mels / cfg->patch_freq) * (cfg->n_frames / cfg->patch_time) > SID_MAX_NODES)
		return sid_fail(err, SID_EFORMAT, "%d x %d patches exceed %d nodes (the kNN graph costs nodes^2)",
						cfg->n_mels / cfg->patch_freq, cfg->n_frames / cfg->patch_time, SID_MAX_NODES);
	if (cfg->n_stages < 1 || cfg->n_stages > SID_MAX_STAGES)
		return sid_fail(err, SID_EFORMAT, "encoder has %d stages (1 to %d allowed)",
						cfg->n_stages, SID_MAX_STAGES);
	if (cfg->freq_merge < 1 || cfg->freq_merge > 8)
		return sid_fail(err, SID_EFORMAT, "frequency merge factor %d is out of range",
						cfg->freq_merge);
	f = cfg->n_mels / cfg->patch_freq;
	for (int s = 0; s < cfg->n_stages; s++)
	{
		if (cfg->channels[s] < 1 || cfg->channels[s] > 4096 ||
			cfg->blocks[s] < 0 || cfg->blocks[s] > SID_MAX_BLOCKS)
			return sid_fail(err, SID_EFORMAT, "stage %d has %d channels and %d blocks",
							s, cfg->channels[s], cfg->blocks[s]);
		if (s > 0)
		{
			if (f % cfg->freq_merge != 0)
				return sid_fail(err, SID_EFORMAT,
								"%d frequency nodes at stage %d are not divisible by merge factor %d",
								f, s - 1, cfg->freq_merge);
			f /= cfg->freq_merge;
		}
		if (cfg->blocks[s] > 0 &&
			(cfg->knn_k < 1 || cfg->knn_k > SID_KNN_MAX_K ||
			 cfg->knn_k >= f * sid_encoder_time_nodes(cfg)))
			return sid_fail(err, SID_EFORMAT, "k = %d neighbours impossible with %d nodes at stage %d",
							cfg->knn_k, f * sid_encoder_time_nodes(cfg), s);
	}
	if (sid_encoder_total_blocks(cfg) > SID_MAX_BLOCKS)
		return sid_fail(err, SID_EFORMAT, "encoder has %d blocks (at most %d)",
						sid_encoder_total_blocks(cfg), SID_MAX_BLOCKS);
	if (cfg->ffn_ratio < 1 || cfg->ffn_ratio > 16 || cfg->head_hidden < 1 ||
		cfg->head_hidden > 8192 || cfg->embed_dim < 1 || cfg->embed_dim > 4096)
		return sid_fail(err, SID_EFORMAT, "ffn ratio %d, head %d or embedding %d out of range",
						cfg->ffn_ratio, cfg->head_hidden, cfg->embed_dim);
	if (cfg->activation != SID_ACT_GELU && cfg->activation != SID_ACT_RELU &&
		cfg->activation != SID_ACT_ELU)
		return sid_fail(err, SID_EFORMAT, "unknown activation %d", cfg->activation);
	return SID_OK;
}

/* ---- parameter layout --------------------------------------------------- */

static float *
bind_linear(sid_linear *l, float *at, int in, int out)
{
	l->in = in;
	l->out = out;
	l->w = at;
	l->b = at + (size_t) in * out;
	return l->b + out;
}

static float *
bind_ln(sid_layernorm *l, float *at, int dim)
{
	l->dim = dim;
	l->gamma = at;
	l->beta = at + dim;
	return at + 2 * dim;
}

/* Walks the layout; with buf NULL only counts (pointers are offsets from 0). */
static size_t
layout(sid_encoder_params *p, const sid_encoder_config *cfg, float *buf)
{
	float	   *at = buf;
	int			blk = 0;
	int			C;

	at = bind_linear(&p->patch, at, 3 * cfg->patch_time * cfg->patch_freq, cfg->channels[0]);
	for (int s = 0; s < cfg->n_stages; s++)
	{
		C = cfg->channels[s];
		for (int i = 0; i < cfg->blocks[s]; i++, blk++)
		{
			sid_block_params *b = &p->blocks[blk];

			b->stage = s;
			at = bind_ln(&b->g_ln, at, C);
			at = bind_linear(&b->g_fc_in, at, C, C);
			at = bind_linear(&b->g_fc_mr, at, 2 * C, C);
			at = bind_linear(&b->g_fc_out, at, C, C);
			at = bind_ln(&b->f_ln, at, C);
			at = bind_linear(&b->f_fc1, at, C, cfg->ffn_ratio * C);
			at = bind_linear(&b->f_fc2, at, cfg->ffn_ratio * C, C);
		}
		if (s + 1 < cfg->n_stages)
			at = bind_linear(&p->down[s], at, cfg->freq_merge * C, cfg->channels[s + 1]);
	}
	C = cfg->channels[cfg->n_stages - 1];
	at = bind_ln(&p->head_ln, at, C);
	at = bind_linear(&p->head1, at, C, cfg->head_hidden);
	at = bind_linear(&p->head2, at, cfg->head_hidden, cfg->embed_dim);
	return (size_t) (at - buf);
}

size_t
sid_encoder_num_params(const sid_encoder_config *cfg)
{
	sid_encoder_params p;
	static float origin[1];

	/* pointer arithmetic from a real object; only the difference is used */
	return layout(&p, cfg, origin);
}

void
sid_encoder_params_bind(sid_encoder_params *p, const sid_encoder_config *cfg, float *buf)
{
	memset(p, 0, sizeof(*p));
	layout(p, cfg, buf);
}

double
sid_encoder_flops(const sid_encoder_config *cfg)
{
	double		fl = 0.0;
	int			N0 = sid_encoder_nodes(cfg, 0);
	int			CL = cfg->channels[cfg->n_stages - 1];

	fl += 2.0 * N0 * 3 * cfg->patch_time * cfg->patch_freq * cfg->channels[0];
	for (int s = 0; s < cfg->n_stages; s++)
	{
		double		N = sid_encoder_nodes(cfg, s),
					C = cfg->channels[s],
					H = (double) cfg->ffn_ratio * C;

		for (int i = 0; i < cfg->blocks[s]; i++)
		{
			fl += 2.0 * N * C * C;	/* fc_in */
			fl += 2.0 * N * N * C + 3.0 * N * N;	/* kNN Gram matrix + distances */
			fl += (double) cfg->knn_k * N * C;	/* max-relative */
			fl += 2.0 * N * 2 * C * C + 2.0 * N * C * C;	/* fc_mr, fc_out */
			fl += 4.0 * N * C * H;	/* FFN */
			fl += 2 * 8.0 * N * C;	/* two layer norms */
		}
		if (s + 1 < cfg->n_stages)
			fl += 2.0 * sid_encoder_nodes(cfg, s + 1) * cfg->freq_merge * C * cfg->channels[s + 1];
	}
	fl += sid_encoder_nodes(cfg, cfg->n_stages - 1) * (double) CL;	/* pool */
	fl += 2.0 * CL * cfg->head_hidden + 2.0 * cfg->head_hidden * cfg->embed_dim;
	return fl;
}

/* ---- creation and initialisation ---------------------------------------- */

sid_encoder *
sid_encoder_create(const sid_encoder_config *cfg, sid_error *err)
{
	sid_encoder *enc;

	if (sid_encoder_check_config(cfg, err) != SID_OK)
		return NULL;
	enc = calloc(1, sizeof(*enc));
	if (!enc)
	{
		sid_fail(err, SID_ENOMEM, "out of memory for the encoder");
		return NULL;
	}
	enc->cfg = *cfg;
	enc->num_params = sid_encoder_num_params(cfg);
	enc->params = calloc(enc->num_params, sizeof(float));
	if (!enc->params)
	{
		free(enc);
		sid_fail(err, SID_ENOMEM, "out of memory for %zu encoder parameters", sid_encoder_num_params(cfg));
		return NULL;
	}
	sid_encoder_params_bind(&enc->p, cfg, enc->params);
	return enc;
}

sid_status
sid_encoder_enable_training(sid_encoder *enc, sid_error *err)
{
	if (enc->grads)
		return SID_OK;
	enc->grads = calloc(enc->num_params, sizeof(float));
	enc->adam_m = calloc(enc->num_params, sizeof(float));
	enc->adam_v = calloc(enc->num_params, sizeof(float));
	if (!enc->grads || !enc->adam_m || !enc->adam_v)
	{
		free(enc->grads);
		free(enc->adam_m);
		free(enc->adam_v);
		enc->grads = enc->adam_m = enc->adam_v = NULL;
		return sid_fail(err, SID_ENOMEM, "out of memory for training buffers");
	}
	sid_encoder_params_bind(&enc->g, &enc->cfg, enc->grads);
	return SID_OK;
}

void
sid_encoder_free(sid_encoder *enc)
{
	if (!enc)
		return;
	if (enc->device_state && sid_cuda_module_loaded())
		sid_cuda_module_loaded()->encoder_release(enc);
	free(enc->params);
	free(enc->grads);
	free(enc->adam_m);
	free(enc->adam_v);
	free(enc);
}

/* rng is a SplitMix64 state (sid_rng.h), advanced once per value */
static void
init_linear(sid_linear *l, uint64_t *rng, float gain)
{
	float		bound = gain / sqrtf((float) l->in);

	for (size_t i = 0; i < (size_t) l->in * l->out; i++)
		l->w[i] = (2.0f * sid_uniform_from_bits(sid_splitmix64(rng)) - 1.0f) * bound;
	for (int i = 0; i < l->out; i++)
		l->b[i] = (2.0f * sid_uniform_from_bits(sid_splitmix64(rng)) - 1.0f) * bound;
}

static void
init_ln(sid_layernorm *l)
{
	for (int i = 0; i < l->dim; i++)
	{
		l->gamma[i] = 1.0f;
		l->beta[i] = 0.0f;
	}
}

void
sid_encoder_init_random(sid_encoder *enc, uint64_t seed)
{
	/* one SplitMix64 stream through the layers in order, not an sid_rng:
	 * every model made with init-model --seed keeps the weights it had */
	uint64_t	rng = seed;
	int			nb = sid_encoder_total_blocks(&enc->cfg);
	sid_encoder_params *p = &enc->p;

	/* uniform(+-sqrt(3/in)) keeps unit variance through each linear */
	init_linear(&p->patch, &rng, sqrtf(3.0f));
	for (int i = 0; i < nb; i++)
	{
		sid_block_params *b = &p->blocks[i];

		init_ln(&b->g_ln);
		init_linear(&b->g_fc_in, &rng, sqrtf(3.0f));
		init_linear(&b->g_fc_mr, &rng, sqrtf(3.0f));
		/* residual branches start small so the identity path dominates */
		init_linear(&b->g_fc_out, &rng, 0.5f);
		init_ln(&b->f_ln);
		init_linear(&b->f_fc1, &rng, sqrtf(3.0f));
		init_linear(&b->f_fc2, &rng, 0.5f);
	}
	for (int s = 0; s + 1 < enc->cfg.n_stages; s++)
		init_linear(&p->down[s], &rng, sqrtf(3.0f));
	init_ln(&p->head_ln);
	init_linear(&p->head1, &rng, sqrtf(3.0f));
	init_linear(&p->head2, &rng, sqrtf(3.0f));
}

/* ---- activations -------------------------------------------------------- */

/*
 * Two passes over the same plan: the first (base NULL) sums sizes, the
 * second hands out pointers into one allocation.
 */
typedef struct arena
{
	char	   *base;
	size_t		used;
} arena;

static void *
take(arena *ar, size_t bytes)
{
	void	   *p = ar->base ? ar->base + ar->used : NULL;

	ar->used += (bytes + 63) & ~(size_t) 63;
	return p;
}

#define TAKE_F(ar, n) ((float *) take(ar, sizeof(float) * (size_t) (n)))
#define TAKE_I(ar, n) ((int32_t *) take(ar, sizeof(int32_t) * (size_t) (n)))

/*
 * Inference sizes its one set of block buffers, and training its backward
 * scratch, for the largest stage, so the maxima are taken before any block.
 */
typedef struct act_maxima
{
	size_t		grad;			/* backward scratch */
	size_t		knn;			/* kNN scratch */
	/* one block's buffer sizes, B*N, B*N*C and B*N*H: in inference every block shares them */
	size_t		n,
				nc,
				nh;
} act_maxima;

static void
stage_maxima(const sid_encoder_config *cfg, int B, act_maxima *mx)
{
	memset(mx, 0, sizeof(*mx));
	for (int s = 0; s < cfg->n_stages; s++)
	{
		size_t		BN = (size_t) B * sid_encoder_nodes(cfg, s),
					C = cfg->channels[s],
					H = (size_t) cfg->ffn_ratio * C;

		mx->grad = mx->grad > BN * 2 * C ? mx->grad : BN * 2 * C;
		mx->grad = mx->grad > BN * H ? mx->grad : BN * H;
		mx->nc = mx->nc > BN * C ? mx->nc : BN * C;
		mx->n = mx->n > BN ? mx->n : BN;
		mx->nh = mx->nh > BN * H ? mx->nh : BN * H;
		if (sid_knn_scratch_floats(B, (int) (BN / B)) > mx->knn)
			mx->knn = sid_knn_scratch_floats(B, (int) (BN / B));
	}
}

static void
plan_stage_outputs(sid_encoder_acts *a, const sid_encoder_config *cfg, int B, arena *ar)
{
	int			N0 = sid_encoder_nodes(cfg, 0);

	a->patch_cols = TAKE_F(ar, (size_t) B * N0 * 3 * cfg->patch_time * cfg->patch_freq);
	a->patch_out = TAKE_F(ar, (size_t) B * N0 * cfg->channels[0]);
	for (int s = 0; s + 1 < cfg->n_stages; s++)
		a->down_out[s] = TAKE_F(ar, (size_t) B * sid_encoder_nodes(cfg, s + 1) * cfg->channels[s + 1]);
}

/* n, nc, nh: buffer sizes in elements, B*N, B*N*C and B*N*H (H = ffn_ratio * C) */
static void
plan_block(sid_block_acts *b, const sid_encoder_config *cfg, size_t n, size_t nc, size_t nh,
		   int for_training, arena *ar)
{
	b->g_ln = TAKE_F(ar, nc);
	b->g_mean = TAKE_F(ar, n);
	b->g_rstd = TAKE_F(ar, n);
	b->g_h = TAKE_F(ar, nc);
	b->knn = TAKE_I(ar, n * cfg->knn_k);
	b->g_mr = TAKE_F(ar, 2 * nc);
	b->g_argmax = for_training ? TAKE_I(ar, nc) : NULL;	/* backward only */
	b->g_pre = TAKE_F(ar, nc);
	b->g_act = TAKE_F(ar, nc);
	b->g_out = TAKE_F(ar, nc);
	b->f_ln = TAKE_F(ar, nc);
	b->f_mean = TAKE_F(ar, n);
	b->f_rstd = TAKE_F(ar, n);
	b->f_pre = TAKE_F(ar, nh);
	b->f_act = TAKE_F(ar, nh);
	b->f_out = TAKE_F(ar, nc);
}

static void
plan_blocks(sid_encoder_acts *a, const sid_encoder_config *cfg, int B, int for_training,
			const act_maxima *mx, arena *ar)
{
	int			blk = 0;

	for (int s = 0; s < cfg->n_stages; s++)
	{
		size_t		BN = (size_t) B * sid_encoder_nodes(cfg, s),
					C = cfg->channels[s],
					H = (size_t) cfg->ffn_ratio * C;

		for (int i = 0; i < cfg->blocks[s]; i++, blk++)
		{
			if (!for_training && blk > 0)
			{
				/*
				 * Inference keeps nothing for backward: every block reuses the
				 * first block's buffers, sized for the largest stage.  f_out
				 * may overwrite the block's own input: x is last read by the
				 * residual into g_out, before f_out is written.
				 */
				a->blocks[blk] = a->blocks[0];
				continue;
			}
			/* element counts: this stage's, or for inference the largest of any stage */
			plan_block(&a->blocks[blk], cfg, for_training ? BN : mx->n,
					   for_training ? BN * C : mx->nc, for_training ? BN * H : mx->nh,
					   for_training, ar);
		}
	}
}

static void
plan_head(sid_encoder_acts *a, const sid_encoder_config *cfg, int B, int for_training,
		  const act_maxima *mx, arena *ar)
{
	int			CL = cfg->channels[cfg->n_stages - 1];

	a->pool = TAKE_F(ar, (size_t) B * CL);
	a->head_ln = TAKE_F(ar, (size_t) B * CL);
	a->head_mean = TAKE_F(ar, B);
	a->head_rstd = TAKE_F(ar, B);
	a->head_pre = TAKE_F(ar, (size_t) B * cfg->head_hidden);
	a->head_act = TAKE_F(ar, (size_t) B * cfg->head_hidden);
	a->head_out = TAKE_F(ar, (size_t) B * cfg->embed_dim);
	a->embed_norm = TAKE_F(ar, B);
	a->embed = TAKE_F(ar, (size_t) B * cfg->embed_dim);
	a->knn_scratch = TAKE_F(ar, mx->knn);
	if (for_training)
	{
		size_t		head_max = (size_t) B * (cfg->head_hidden > CL ? cfg->head_hidden : CL);
		size_t		grad_max = mx->grad;

		if (cfg->embed_dim * (size_t) B > head_max)
			head_max = cfg->embed_dim * (size_t) B;
		if (head_max > grad_max)
			grad_max = head_max;
		a->grad_a = TAKE_F(ar, grad_max);
		a->grad_b = TAKE_F(ar, grad_max);
		a->grad_c = TAKE_F(ar, grad_max);
	}
	else
		a->grad_a = a->grad_b = a->grad_c = NULL;
}

static void
plan_acts(sid_encoder_acts *a, const sid_encoder_config *cfg, int B, int for_training, arena *ar)
{
	act_maxima	mx;

	stage_maxima(cfg, B, &mx);
	plan_stage_outputs(a, cfg, B, ar);
	plan_blocks(a, cfg, B, for_training, &mx, ar);
	plan_head(a, cfg, B, for_training, &mx, ar);
}

sid_status
sid_encoder_acts_alloc(sid_encoder_acts *a, const sid_encoder_config *cfg,
					   int max_batch, int for_training, sid_error *err)
{
	arena		ar = {NULL, 0};

	memset(a, 0, sizeof(*a));
	if (max_batch < 1)
		return sid_fail(err, SID_EINVAL, "batch size %d must be positive", max_batch);
	plan_acts(a, cfg, max_batch, for_training, &ar);
	ar.base = malloc(ar.used);
	if (!ar.base)
		return sid_fail(err, SID_ENOMEM, "out of memory for %zu bytes of activations", ar.used);
	ar.used = 0;
	plan_acts(a, cfg, max_batch, for_training, &ar);
	a->block = ar.base;
	a->max_batch = max_batch;
	a->nodes = sid_encoder_total_blocks(cfg) > 0
		? a->blocks[sid_encoder_total_blocks(cfg) - 1].f_out
		: (cfg->n_stages > 1 ? a->down_out[cfg->n_stages - 2] : a->patch_out);
	return SID_OK;
}

void
sid_encoder_acts_free(sid_encoder_acts *a)
{
	free(a->block);
	memset(a, 0, sizeof(*a));
}

/* ---- forward ------------------------------------------------------------ */

/*
 * cols[b][n][(dt * pf + df) * 3 + ch], ch: standardised log-mel, t/(T-1),
 * m/(M-1).  Each window's log-mel values are standardised over the whole
 * window, (x - mean) / max(std, SID_INPUT_STD_FLOOR): a gain change is an
 * additive shift in dB, so the encoder is gain-invariant by construction.
 */
static void
gather_patches(float *cols, const float *input, const sid_encoder_config *cfg, int B)
{
	int			M = cfg->n_mels,
				T = cfg->n_frames,
				pf = cfg->patch_freq,
				pt = cfg->patch_time;
	int			F0 = M / pf,
				T0 = T / pt;
	size_t		K = (size_t) 3 * pf * pt;
	size_t		win = (size_t) T * M;

	for (int b = 0; b < B; b++)
	{
		const float *xb = input + (size_t) b * win;
		double		sum = 0.0,
					ss = 0.0;
		float		mean,
					scale;

		for (size_t i = 0; i < win; i++)
			sum += xb[i];
		mean = (float) (sum / win);
		for (size_t i = 0; i < win; i++)
			ss += ((double) xb[i] - mean) * ((double) xb[i] - mean);
		scale = 1.0f / fmaxf((float) sqrt(ss / win), SID_INPUT_STD_FLOOR);

		for (int ti = 0; ti < T0; ti++)
			for (int fi = 0; fi < F0; fi++)
			{
				float	   *col = cols + (((size_t) b * T0 + ti) * F0 + fi) * K;

				for (int dt = 0; dt < pt; dt++)
				{
					int			t = ti * pt + dt;
					const float *frame = xb + (size_t) t * M;

					for (int df = 0; df < pf; df++)
					{
						int			m = fi * pf + df;
						float	   *c = col + ((size_t) dt * pf + df) * 3;

						c[0] = (frame[m] - mean) * scale;
						c[1] = (float) t / (float) (T - 1);
						c[2] = (float) m / (float) (M - 1);
					}
				}
			}
	}
}

static void
block_forward(const sid_encoder_config *cfg, const sid_block_params *p, sid_block_acts *a,
			  float *knn_scratch, const float *x, int B, int N, int C)
{
	int			BN = B * N;
	int			H = cfg->ffn_ratio * C;
	sid_activation act = (sid_activation) cfg->activation;

	/* Grapher */
	sid_layernorm_forward(a->g_ln, a->g_mean, a->g_rstd, x, p->g_ln.gamma, p->g_ln.beta, BN, C);
	sid_linear_forward(a->g_h, a->g_ln, p->g_fc_in.w, p->g_fc_in.b, BN, C, C);
	sid_knn_forward(a->knn, knn_scratch, a->g_h, B, N, C, cfg->knn_k);
	sid_maxrel_forward(a->g_mr, a->g_argmax, a->g_h, a->knn, B, N, C, cfg->knn_k);
	sid_linear_forward(a->g_pre, a->g_mr, p->g_fc_mr.w, p->g_fc_mr.b, BN, 2 * C, C);
	sid_act_forward(act, a->g_act, a->g_pre, (size_t) BN * C);
	sid_linear_forward(a->g_out, a->g_act, p->g_fc_out.w, p->g_fc_out.b, BN, C, C);
	sid_add_inplace(a->g_out, x, (size_t) BN * C);
	/* FFN */
	sid_layernorm_forward(a->f_ln, a->f_mean, a->f_rstd, a->g_out, p->f_ln.gamma, p->f_ln.beta, BN, C);
	sid_linear_forward(a->f_pre, a->f_ln, p->f_fc1.w, p->f_fc1.b, BN, C, H);
	sid_act_forward(act, a->f_act, a->f_pre, (size_t) BN * H);
	sid_linear_forward(a->f_out, a->f_act, p->f_fc2.w, p->f_fc2.b, BN, H, C);
	sid_add_inplace(a->f_out, a->g_out, (size_t) BN * C);
}

/* The input of stage s: the patch embedding or the previous down-sampling. */
static const float *
stage_input(const sid_encoder_acts *a, int s)
{
	return s == 0 ? a->patch_out : a->down_out[s - 1];
}

void
sid_encoder_forward_cpu(sid_encoder *enc, sid_encoder_acts *a, const float *input, int B)
{
	const sid_encoder_config *cfg = &enc->cfg;
	const sid_encoder_params *p = &enc->p;
	int			N0 = sid_encoder_nodes(cfg, 0);
	int			blk = 0;
	int			CL = cfg->channels[cfg->n_stages - 1];
	int			NL = sid_encoder_nodes(cfg, cfg->n_stages - 1);
	const float *x;

	gather_patches(a->patch_cols, input, cfg, B);
	sid_linear_forward(a->patch_out, a->patch_cols, p->patch.w, p->patch.b,
					   B * N0, p->patch.in, p->patch.out);
	for (int s = 0; s < cfg->n_stages; s++)
	{
		int			N = sid_encoder_nodes(cfg, s),
					C = cfg->channels[s];

		x = stage_input(a, s);
		for (int i = 0; i < cfg->blocks[s]; i++, blk++)
		{
			block_forward(cfg, &p->blocks[blk], &a->blocks[blk], a->knn_scratch, x, B, N, C);
			x = a->blocks[blk].f_out;
		}
		if (s + 1 < cfg->n_stages)
			/* [B][T0][Fs][C] read as [B][T0][Fs/merge][merge*C]: the strided conv is one linear */
			sid_linear_forward(a->down_out[s], x, p->down[s].w, p->down[s].b,
							   B * sid_encoder_nodes(cfg, s + 1), p->down[s].in, p->down[s].out);
	}
	sid_meanpool_forward(a->pool, a->nodes, B, NL, CL);
	sid_layernorm_forward(a->head_ln, a->head_mean, a->head_rstd, a->pool,
						  p->head_ln.gamma, p->head_ln.beta, B, CL);
	sid_linear_forward(a->head_pre, a->head_ln, p->head1.w, p->head1.b, B, CL, cfg->head_hidden);
	sid_act_forward(SID_ACT_ELU, a->head_act, a->head_pre, (size_t) B * cfg->head_hidden);
	sid_linear_forward(a->head_out, a->head_act, p->head2.w, p->head2.b, B, cfg->head_hidden,
					   cfg->embed_dim);
	sid_l2norm_forward(a->embed, a->embed_norm, a->head_out, B, cfg->embed_dim);
}

sid_status
sid_encoder_forward(sid_encoder *enc, sid_device_kind device, sid_encoder_acts *a,
					const float *input, int B, float *embed_out, float *nodes_out, sid_error *err)
{
	const sid_encoder_config *cfg = &enc->cfg;

	if (B < 1)
		return SID_OK;
	if (device == SID_DEVICE_CUDA)
	{
		char		why[1024];
		const sid_cuda_api *api = sid_cuda_module(why, sizeof(why));

		if (api == NULL)
			return sid_fail(err, SID_EUNSUPPORTED, "%s", why);
		return api->encoder_forward(enc, input, B, embed_out, nodes_out, err);
	}
	if (B > a->max_batch)
		return sid_fail(err, SID_ELIMIT, "batch of %d exceeds the %d the activations hold",
						B, a->max_batch);
	for (int first = 0; first < B; first += SID_ENCODER_CPU_CHUNK)
	{
		int			n = B - first < SID_ENCODER_CPU_CHUNK ? B - first : SID_ENCODER_CPU_CHUNK;
		size_t		node_floats = (size_t) sid_encoder_nodes(cfg, cfg->n_stages - 1) *
			cfg->channels[cfg->n_stages - 1];

		sid_encoder_forward_cpu(enc, a, input + (size_t) first * cfg->n_frames * cfg->n_mels, n);
		memcpy(embed_out + (size_t) first * cfg->embed_dim, a->embed,
			   sizeof(float) * (size_t) n * cfg->embed_dim);
		if (nodes_out)
			memcpy(nodes_out + first * node_floats, a->nodes, sizeof(float) * n * node_floats);
	}
	return SID_OK;
}

/* ---- backward ----------------------------------------------------------- */

/*
 * On entry d holds d loss / d (block output); on return d loss / d (block
 * input) x.  t1, t2 are scratch of the size sid_encoder_acts gives them.
 */
static void
block_backward(const sid_encoder_config *cfg, const sid_block_params *p,
			   const sid_block_params *g, const sid_block_acts *a,
			   const float *x, float *d, float *t1, float *t2, int B, int N, int C)
{
	size_t		BN = (size_t) B * N;
	int			H = cfg->ffn_ratio * C;
	sid_activation act = (sid_activation) cfg->activation;

	/* FFN: f_out = g_out + fc2(act(fc1(LN(g_out)))) */
	memset(t1, 0, sizeof(float) * BN * H);
	sid_linear_backward(t1, g->f_fc2.w, g->f_fc2.b, d, a->f_act, p->f_fc2.w, BN, H, C);
	memset(t2, 0, sizeof(float) * BN * H);
	sid_act_backward(act, t2, t1, a->f_pre, a->f_act, BN * H);
	memset(t1, 0, sizeof(float) * BN * C);
	sid_linear_backward(t1, g->f_fc1.w, g->f_fc1.b, t2, a->f_ln, p->f_fc1.w, BN, C, H);
	sid_layernorm_backward(d, g->f_ln.gamma, g->f_ln.beta, t1, a->g_out, a->f_mean, a->f_rstd,
						   p->f_ln.gamma, BN, C);
	/* Grapher: g_out = x + fc_out(act(fc_mr(maxrel(fc_in(LN(x)))))) */
	memset(t1, 0, sizeof(float) * BN * C);
	sid_linear_backward(t1, g->g_fc_out.w, g->g_fc_out.b, d, a->g_act, p->g_fc_out.w, BN, C, C);
	memset(t2, 0, sizeof(float) * BN * C);
	sid_act_backward(act, t2, t1, a->g_pre, a->g_act, BN * C);
	memset(t1, 0, sizeof(float) * BN * 2 * C);
	sid_linear_backward(t1, g->g_fc_mr.w, g->g_fc_mr.b, t2, a->g_mr, p->g_fc_mr.w, BN, 2 * C, C);
	memset(t2, 0, sizeof(float) * BN * C);
	sid_maxrel_backward(t2, t1, a->g_argmax, B, N, C);	/* the kNN graph itself has no gradient */
	memset(t1, 0, sizeof(float) * BN * C);
	sid_linear_backward(t1, g->g_fc_in.w, g->g_fc_in.b, t2, a->g_ln, p->g_fc_in.w, BN, C, C);
	sid_layernorm_backward(d, g->g_ln.gamma, g->g_ln.beta, t1, x, a->g_mean, a->g_rstd,
						   p->g_ln.gamma, BN, C);
}

void
sid_encoder_backward(sid_encoder *enc, sid_encoder_acts *a, const float *d_embed, int B)
{
	sid_encoder_backward_to(enc, &enc->g, a, d_embed, B);
}

void
sid_encoder_backward_to(const sid_encoder *enc, const sid_encoder_params *g, sid_encoder_acts *a,
						const float *d_embed, int B)
{
	const sid_encoder_config *cfg = &enc->cfg;
	const sid_encoder_params *p = &enc->p;
	int			CL = cfg->channels[cfg->n_stages - 1];
	int			NL = sid_encoder_nodes(cfg, cfg->n_stages - 1);
	int			Hh = cfg->head_hidden;
	int			blk = sid_encoder_total_blocks(cfg) - 1;
	float	   *d = a->grad_a,
			   *t1 = a->grad_b,
			   *t2 = a->grad_c;

	/* head, from the normalised embedding back to the pooled nodes */
	memset(t1, 0, sizeof(float) * (size_t) B * cfg->embed_dim);
	sid_l2norm_backward(t1, d_embed, a->embed, a->embed_norm, B, cfg->embed_dim);
	memset(t2, 0, sizeof(float) * (size_t) B * Hh);
	sid_linear_backward(t2, g->head2.w, g->head2.b, t1, a->head_act, p->head2.w, B, Hh, cfg->embed_dim);
	memset(t1, 0, sizeof(float) * (size_t) B * Hh);
	sid_act_backward(SID_ACT_ELU, t1, t2, a->head_pre, a->head_act, (size_t) B * Hh);
	memset(t2, 0, sizeof(float) * (size_t) B * CL);
	sid_linear_backward(t2, g->head1.w, g->head1.b, t1, a->head_ln, p->head1.w, B, CL, Hh);
	memset(t1, 0, sizeof(float) * (size_t) B * CL);
	sid_layernorm_backward(t1, g->head_ln.gamma, g->head_ln.beta, t2, a->pool, a->head_mean,
						   a->head_rstd, p->head_ln.gamma, B, CL);
	memset(d, 0, sizeof(float) * (size_t) B * NL * CL);
	sid_meanpool_backward(d, t1, B, NL, CL);

	for (int s = cfg->n_stages - 1; s >= 0; s--)
	{
		int			N = sid_encoder_nodes(cfg, s),
					C = cfg->channels[s];

		if (s + 1 < cfg->n_stages)
		{
			/* d holds d(down_out[s]); produce d(stage s output) */
			const float *xs = cfg->blocks[s] > 0 ? a->blocks[blk].f_out : stage_input(a, s);
			int			Nn = sid_encoder_nodes(cfg, s + 1);

			memset(t1, 0, sizeof(float) * (size_t) B * N * C);
			sid_linear_backward(t1, g->down[s].w, g->down[s].b, d, xs, p->down[s].w,
								B * Nn, p->down[s].in, p->down[s].out);
			memcpy(d, t1, sizeof(float) * (size_t) B * N * C);
		}
		for (int i = cfg->blocks[s] - 1; i >= 0; i--, blk--)
		{
			const float *x = i > 0 ? a->blocks[blk - 1].f_out : stage_input(a, s);

			block_backward(cfg, &p->blocks[blk], &g->blocks[blk], &a->blocks[blk], x, d, t1, t2,
						   B, N, C);
		}
	}
	sid_linear_backward(NULL, g->patch.w, g->patch.b, d, a->patch_cols, p->patch.w,
						B * sid_encoder_nodes(cfg, 0), p->patch.in, p->patch.out);
}
