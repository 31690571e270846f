/*
 * sid_encoder_device.c - the encoder forward as a sequence of device
 * operators (see sid_encoder_device.h): the same computation as
 * sid_encoder_forward_cpu, with only the buffers inference needs.
 *
 * Buffer plan for a chunk of Bc windows (maxNC = max over stages of Ns*Cs,
 * maxNH the same of Ns*Hs, all floats unless said):
 *   in [Bc][T][M], cols [Bc][N0][3*pt*pf]
 *   x, x2 [Bc*maxNC]   stage features; a block writes its output over its
 *                      input (x is dead once g_out = x + ... exists), the
 *                      down-sampling goes to the other buffer
 *   ln, h, g_act, g_out [Bc*maxNC], mr [Bc*2*maxNC], f_act [Bc*maxNH]
 *   idx [Bc*max Ns*k] int32; taken and given back inside the operators: the
 *   kNN distance matrix [Bc*max Ns*Ns] and the window statistics [Bc][2]
 *   head: pool, head_ln [Bc][C_last], head_act [Bc][head_hidden],
 *         head_out, embed [Bc][embed_dim]
 */
#include "nn/sid_encoder_device.h"

#include <string.h>

#define ALLOC_SLACK 256			/* per allocation: the arena aligns to 256 bytes */
#define N_ALLOCS 24

typedef struct plan
{
	int			maxNC,
				maxNH,
				maxNk,
				maxNN;
} plan;

static plan
make_plan(const sid_encoder_config *cfg)
{
	plan		p = {0, 0, 1, 1};

	for (int s = 0; s < cfg->n_stages; s++)
	{
		int			N = sid_encoder_nodes(cfg, s),
					C = cfg->channels[s];

		if (N * C > p.maxNC)
			p.maxNC = N * C;
		if (N * C * cfg->ffn_ratio > p.maxNH)
			p.maxNH = N * C * cfg->ffn_ratio;
		if (cfg->blocks[s] > 0 && N * cfg->knn_k > p.maxNk)
			p.maxNk = N * cfg->knn_k;
		if (cfg->blocks[s] > 0 && N * N > p.maxNN)
			p.maxNN = N * N;
	}
	return p;
}

size_t
sid_encoder_device_bytes(const sid_encoder_config *cfg, int chunk)
{
	plan		p = make_plan(cfg);
	int			N0 = sid_encoder_nodes(cfg, 0);
	size_t		CL = (size_t) cfg->channels[cfg->n_stages - 1];
	size_t		per = 0;

	per += (size_t) cfg->n_frames * cfg->n_mels;	/* in */
	per += (size_t) N0 * 3 * cfg->patch_time * cfg->patch_freq;	/* cols */
	per += (size_t) 6 * p.maxNC;	/* x, x2, ln, h, g_act, g_out */
	per += (size_t) 2 * p.maxNC;	/* mr */
	per += (size_t) p.maxNH;	/* f_act */
	per += (size_t) p.maxNk;	/* idx (int32, same size as float) */
	per += (size_t) p.maxNN;	/* kNN distances */
	per += 2;					/* window mean and scale (patches) */
	per += 2 * CL + cfg->head_hidden + 2 * (size_t) cfg->embed_dim;
	return per * sizeof(float) * (size_t) chunk + (size_t) ALLOC_SLACK * N_ALLOCS;
}

sid_status
sid_encoder_device_load(const sid_dev_ops *ops, void *dev, const sid_encoder *enc,
						sid_encoder_params *dp, float **d_params, sid_error *err)
{
	size_t		bytes = enc->num_params * sizeof(float);
	float	   *d = ops->alloc(dev, bytes, err);

	if (d == NULL)
		return err ? err->code : SID_ENOMEM;
	sid_encoder_params_bind(dp, &enc->cfg, d);
	if (d_params)
		*d_params = d;
	return ops->upload(dev, d, enc->params, bytes, err);
}

typedef struct bufs
{
	float	   *in,
			   *cols,
			   *x,
			   *x2,
			   *ln,
			   *h,
			   *mr,
			   *g_act,
			   *g_out,
			   *f_act,
			   *pool,
			   *head_ln,
			   *head_act,
			   *head_out,
			   *embed;
	int32_t    *idx;
} bufs;

static sid_status
alloc_bufs(const sid_dev_ops *ops, void *dev, const sid_encoder_config *cfg, int Bc,
		   bufs *b, sid_error *err)
{
	plan		p = make_plan(cfg);
	size_t		f = sizeof(float) * (size_t) Bc;
	size_t		CL = (size_t) cfg->channels[cfg->n_stages - 1];
	struct
	{
		void	  **at;
		size_t		bytes;
	}			want[] = {
		{(void **) &b->in, f * cfg->n_frames * cfg->n_mels},
		{(void **) &b->cols, f * sid_encoder_nodes(cfg, 0) * 3 * cfg->patch_time * cfg->patch_freq},
		{(void **) &b->x, f * p.maxNC},
		{(void **) &b->x2, f * p.maxNC},
		{(void **) &b->ln, f * p.maxNC},
		{(void **) &b->h, f * p.maxNC},
		{(void **) &b->mr, f * 2 * p.maxNC},
		{(void **) &b->g_act, f * p.maxNC},
		{(void **) &b->g_out, f * p.maxNC},
		{(void **) &b->f_act, f * p.maxNH},
		{(void **) &b->idx, f * p.maxNk},
		{(void **) &b->pool, f * CL},
		{(void **) &b->head_ln, f * CL},
		{(void **) &b->head_act, f * cfg->head_hidden},
		{(void **) &b->head_out, f * cfg->embed_dim},
		{(void **) &b->embed, f * cfg->embed_dim},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if ((*want[i].at = ops->alloc(dev, want[i].bytes, err)) == NULL)
			return err ? err->code : SID_ENOMEM;
	return SID_OK;
}

/* One Grapher + FFN block; the output replaces x (see the buffer plan). */
static sid_status
block_forward(const sid_dev_ops *ops, void *dev, const sid_encoder_config *cfg,
			  const sid_block_params *p, const bufs *b, float *x, int Bc, int N, int C,
			  sid_error *err)
{
	int			rows = Bc * N,
				H = cfg->ffn_ratio * C,
				k = cfg->knn_k,
				act = cfg->activation;
	sid_status	st;

	/* Grapher: g_out = x + fc_out(act(fc_mr(maxrel(h, knn(h))))), h = fc_in(LN(x)) */
	if ((st = ops->layernorm(dev, x, rows, C, p->g_ln.gamma, p->g_ln.beta, SID_LN_EPS, b->ln, err)) ||
		(st = ops->linear(dev, b->ln, rows, C, p->g_fc_in.w, p->g_fc_in.b, C, SID_ACT_NONE, NULL, b->h, err)) ||
		(st = ops->knn(dev, b->h, Bc, N, C, k, 0, b->idx, err)) ||
		(st = ops->maxrel(dev, b->h, b->idx, Bc, N, C, k, b->mr, err)) ||
		(st = ops->linear(dev, b->mr, rows, 2 * C, p->g_fc_mr.w, p->g_fc_mr.b, C, act, NULL, b->g_act, err)) ||
		(st = ops->linear(dev, b->g_act, rows, C, p->g_fc_out.w, p->g_fc_out.b, C, SID_ACT_NONE, x, b->g_out, err)))
		return st;
	/* FFN: x = g_out + fc2(act(fc1(LN(g_out)))) */
	if ((st = ops->layernorm(dev, b->g_out, rows, C, p->f_ln.gamma, p->f_ln.beta, SID_LN_EPS, b->ln, err)) ||
		(st = ops->linear(dev, b->ln, rows, C, p->f_fc1.w, p->f_fc1.b, H, act, NULL, b->f_act, err)) ||
		(st = ops->linear(dev, b->f_act, rows, H, p->f_fc2.w, p->f_fc2.b, C, SID_ACT_NONE, b->g_out, x, err)))
		return st;
	return SID_OK;
}

/* Forward of Bc windows already in b->in; leaves the last stage's nodes in *nodes. */
static sid_status
chunk_forward(const sid_dev_ops *ops, void *dev, const sid_encoder_config *cfg,
			  const sid_encoder_params *dp, const bufs *b, int Bc, float **nodes, sid_error *err)
{
	sid_patch_geom g = {Bc, cfg->n_frames, cfg->n_mels, cfg->patch_time, cfg->patch_freq};
	int			blk = 0;
	int			NL = sid_encoder_nodes(cfg, cfg->n_stages - 1),
				CL = cfg->channels[cfg->n_stages - 1];
	float	   *x = b->x,
			   *other = b->x2;
	sid_status	st;

	if ((st = ops->patches(dev, b->in, &g, b->cols, err)) ||
		(st = ops->linear(dev, b->cols, Bc * sid_encoder_nodes(cfg, 0), dp->patch.in,
						  dp->patch.w, dp->patch.b, dp->patch.out, SID_ACT_NONE, NULL, x, err)))
		return st;
	for (int s = 0; s < cfg->n_stages; s++)
	{
		int			N = sid_encoder_nodes(cfg, s),
					C = cfg->channels[s];

		for (int i = 0; i < cfg->blocks[s]; i++, blk++)
			if ((st = block_forward(ops, dev, cfg, &dp->blocks[blk], b, x, Bc, N, C, err)))
				return st;
		if (s + 1 < cfg->n_stages)
		{
			float	   *t;

			/* [Bc][T0][Fs][C] read as [Bc][T0][Fs/merge][merge*C]: one linear */
			if ((st = ops->linear(dev, x, Bc * sid_encoder_nodes(cfg, s + 1), dp->down[s].in,
								  dp->down[s].w, dp->down[s].b, dp->down[s].out,
								  SID_ACT_NONE, NULL, other, err)))
				return st;
			t = x;
			x = other;
			other = t;
		}
	}
	*nodes = x;
	if ((st = ops->meanpool(dev, x, Bc, NL, CL, b->pool, err)) ||
		(st = ops->layernorm(dev, b->pool, Bc, CL, dp->head_ln.gamma, dp->head_ln.beta,
							 SID_LN_EPS, b->head_ln, err)) ||
		(st = ops->linear(dev, b->head_ln, Bc, CL, dp->head1.w, dp->head1.b, cfg->head_hidden,
						  SID_ACT_ELU, NULL, b->head_act, err)) ||
		(st = ops->linear(dev, b->head_act, Bc, cfg->head_hidden, dp->head2.w, dp->head2.b,
						  cfg->embed_dim, SID_ACT_NONE, NULL, b->head_out, err)) ||
		(st = ops->l2norm(dev, b->head_out, Bc, cfg->embed_dim, 1e-12f, b->embed, err)))
		return st;
	return SID_OK;
}

sid_status
sid_encoder_device_forward(const sid_dev_ops *ops, void *dev, const sid_encoder_config *cfg,
						   const sid_encoder_params *dp, int chunk, const float *input, int B,
						   float *embed_out, float *nodes_out, sid_error *err)
{
	size_t		mark = ops->mark(dev);
	size_t		win = (size_t) cfg->n_frames * cfg->n_mels;
	size_t		node_floats = (size_t) sid_encoder_nodes(cfg, cfg->n_stages - 1) *
		cfg->channels[cfg->n_stages - 1];
	int			Bc = B < chunk ? B : chunk;
	bufs		b;
	sid_status	st;

	if (B < 1)
		return SID_OK;
	if (chunk < 1)
		return sid_fail(err, SID_EINVAL, "device forward: chunk of %d windows", chunk);
	memset(&b, 0, sizeof(b));
	st = alloc_bufs(ops, dev, cfg, Bc, &b, err);
	for (int b0 = 0; st == SID_OK && b0 < B; b0 += Bc)
	{
		int			n = B - b0 < Bc ? B - b0 : Bc;
		float	   *nodes = NULL;

		if ((st = ops->upload(dev, b.in, input + b0 * win, sizeof(float) * n * win, err)) ||
			(st = chunk_forward(ops, dev, cfg, dp, &b, n, &nodes, err)) ||
			(st = ops->download(dev, embed_out + (size_t) b0 * cfg->embed_dim, b.embed,
								sizeof(float) * n * cfg->embed_dim, err)))
			break;
		if (nodes_out &&
			(st = ops->download(dev, nodes_out + b0 * node_floats, nodes,
								sizeof(float) * n * node_floats, err)))
			break;
	}
	ops->release(dev, mark);
	return st;
}
