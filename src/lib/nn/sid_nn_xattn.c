/*
 * sid_nn_xattn.c - the multi-head cross-attention layer (projections around
 * sid_attention), forward and backward.  Layout in sid_nn.h.
 */
#include "nn/sid_nn.h"

#include <string.h>

size_t
sid_xattn_num_params(int dq_in, int dkv_in, int heads, int head_dim, int d_out)
{
	size_t		D = (size_t) heads * head_dim;

	return D * dq_in + D + 2 * (D * dkv_in + D) + (size_t) d_out * D + d_out;
}

void
sid_xattn_bind(sid_xattn *p, float *buf, int dq_in, int dkv_in, int heads, int head_dim, int d_out)
{
	size_t		D = (size_t) heads * head_dim;

	p->dq_in = dq_in;
	p->dkv_in = dkv_in;
	p->heads = heads;
	p->head_dim = head_dim;
	p->d_out = d_out;
	p->wq = buf;
	p->bq = p->wq + D * dq_in;
	p->wk = p->bq + D;
	p->bk = p->wk + D * dkv_in;
	p->wv = p->bk + D;
	p->bv = p->wv + D * dkv_in;
	p->wo = p->bv + D;
	p->bo = p->wo + (size_t) d_out * D;
}

size_t
sid_xattn_acts_floats(const sid_xattn *p, int B, int Nq, int Nk)
{
	size_t		D = (size_t) p->heads * p->head_dim;

	return (size_t) B * (2 * Nq * D + 2 * Nk * D + (size_t) p->heads * Nq * Nk);
}

void
sid_xattn_acts_bind(sid_xattn_acts *a, float *buf, const sid_xattn *p, int B, int Nq, int Nk)
{
	size_t		D = (size_t) p->heads * p->head_dim;

	a->q = buf;
	a->k = a->q + (size_t) B * Nq * D;
	a->v = a->k + (size_t) B * Nk * D;
	a->ctx = a->v + (size_t) B * Nk * D;
	a->att = a->ctx + (size_t) B * Nq * D;
}

size_t
sid_xattn_scratch_floats(const sid_xattn *p, int B, int Nq, int Nk)
{
	size_t		D = (size_t) p->heads * p->head_dim;

	/* d ctx, dq, dk, dv, and the attention backward's Nq x Nk */
	return (size_t) B * (2 * Nq * D + 2 * Nk * D) + (size_t) Nq * Nk;
}

void
sid_xattn_forward(const sid_xattn *p, sid_xattn_acts *a, float *y, const float *xq,
				  const float *xkv, int B, int Nq, int Nk)
{
	int			D = p->heads * p->head_dim;

	sid_linear_forward(a->q, xq, p->wq, p->bq, B * Nq, p->dq_in, D);
	sid_linear_forward(a->k, xkv, p->wk, p->bk, B * Nk, p->dkv_in, D);
	sid_linear_forward(a->v, xkv, p->wv, p->bv, B * Nk, p->dkv_in, D);
	sid_attention_forward(a->ctx, a->att, a->q, a->k, a->v, B, Nq, Nk, p->heads, p->head_dim);
	sid_linear_forward(y, a->ctx, p->wo, p->bo, B * Nq, D, p->d_out);
}

void
sid_xattn_backward(const sid_xattn *p, const sid_xattn *g, const sid_xattn_acts *a,
				   float *dxq, float *dxkv, float *scratch, const float *dy,
				   const float *xq, const float *xkv, int B, int Nq, int Nk)
{
	size_t		D = (size_t) p->heads * p->head_dim;
	float	   *dctx = scratch;
	float	   *dq = dctx + (size_t) B * Nq * D;
	float	   *dk = dq + (size_t) B * Nq * D;
	float	   *dv = dk + (size_t) B * Nk * D;
	float	   *att_scratch = dv + (size_t) B * Nk * D;

	memset(scratch, 0, sizeof(float) * (size_t) B * (2 * Nq * D + 2 * Nk * D));
	sid_linear_backward(dctx, g->wo, g->bo, dy, a->ctx, p->wo, B * Nq, (int) D, p->d_out);
	sid_attention_backward(dq, dk, dv, att_scratch, dctx, a->att, a->q, a->k, a->v,
						   B, Nq, Nk, p->heads, p->head_dim);
	sid_linear_backward(dxq, g->wq, g->bq, dq, xq, p->wq, B * Nq, p->dq_in, (int) D);
	sid_linear_backward(dxkv, g->wk, g->bk, dk, xkv, p->wk, B * Nk, p->dkv_in, (int) D);
	sid_linear_backward(dxkv, g->wv, g->bv, dv, xkv, p->wv, B * Nk, p->dkv_in, (int) D);
}
