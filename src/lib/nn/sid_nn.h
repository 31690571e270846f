/*
 * sid_nn.h - neural-network operators of the encoder, forward and backward
 * side by side (llm.c style), on the CPU with OpenBLAS.
 *
 * Conventions shared by every operator (the CUDA twins in cuda/ match them):
 *  - all tensors are float32, row-major, contiguous, no padding;
 *  - "rows" is the flattened leading dimension (rows = B * N for node
 *    features laid out [B][N][C]);
 *  - a linear weight is stored [out][in] (PyTorch order), y = x W^T + b;
 *  - backward functions ACCUMULATE (+=) into parameter gradients and, unless
 *    said otherwise, also into input gradients; the caller zeroes gradient
 *    buffers once per step;
 *  - forward functions never allocate: the caller supplies every buffer,
 *    including what is saved for backward (mean/rstd, arg-max, ...).
 * None of these functions fails: shapes are the caller's responsibility
 * (the encoder checks its configuration once).
 */
#ifndef SID_NN_H
#define SID_NN_H

#include <stddef.h>
#include <stdint.h>

/* Activation kinds stored in model files: values are part of the format. */
typedef enum sid_activation
{
	SID_ACT_GELU = 1,			/* 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))) */
	SID_ACT_RELU = 2,
	SID_ACT_ELU = 3				/* u > 0 ? u : exp(u) - 1 */
} sid_activation;

/* OpenBLAS threads for this process (1 in a backend, 2 for training). */
void		sid_nn_set_threads(int nthreads);

/* ---- linear: x [rows][in] -> y [rows][out]; w [out][in]; b [out] or NULL */
void		sid_linear_forward(float *y, const float *x, const float *w, const float *b,
							   int rows, int in, int out);
/* dx may be NULL (no input gradient); db may be NULL when b was. */
void		sid_linear_backward(float *dx, float *dw, float *db, const float *dy,
								const float *x, const float *w, int rows, int in, int out);

/*
 * ---- layer norm over the last dimension: x [rows][dim] -> y [rows][dim].
 * Saved for backward: mean [rows], rstd [rows] (1/sqrt(var + 1e-5)), biased
 * variance.  No running statistics: training and inference compute the same.
 */
#define SID_LN_EPS 1e-5f
void		sid_layernorm_forward(float *y, float *mean, float *rstd, const float *x,
								  const float *gamma, const float *beta, int rows, int dim);
void		sid_layernorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
								   const float *x, const float *mean, const float *rstd,
								   const float *gamma, int rows, int dim);

/*
 * ---- element-wise activation: y = act(x), n elements.  Backward uses x and,
 * when y (the forward output) is given, reuses it instead of recomputing the
 * exponential (GELU: sigmoid = y / x; ELU: exp(x) = y + 1); y may be NULL.
 */
void		sid_act_forward(sid_activation act, float *y, const float *x, size_t n);
void		sid_act_backward(sid_activation act, float *dx, const float *dy, const float *x,
							 const float *y, size_t n);

/*
 * ---- dynamic k-nearest-neighbour graph (no gradient).
 * x [B][N][C]; idx [B][N][k] int32 node indices within the same batch
 * element (0..N-1), EXCLUDING the node itself, ordered by increasing squared
 * Euclidean distance (ranked by |xj|^2 - 2 xi.xj, |xi|^2 being common to
 * the row), ties broken by the smaller index.  Requires
 * k < N and k <= SID_KNN_MAX_K.  Distances are computed as
 * |xi|^2 + |xj|^2 - 2 xi.xj from one Gram-matrix sgemm per batch element, so
 * a device twin may order near-ties differently.
 * scratch: sid_knn_scratch_floats() floats (N*N + 9N, one batch element at
 * a time).
 */
#define SID_KNN_MAX_K 64
size_t		sid_knn_scratch_floats(int B, int N);
void		sid_knn_forward(int32_t *idx, float *scratch, const float *x, int B, int N, int C,
							int k);

/*
 * ---- max-relative aggregation.
 * x [B][N][C], idx [B][N][k] -> y [B][N][2C] with
 *   y[b][i][c]     = x[b][i][c]
 *   y[b][i][C + c] = max_j x[b][idx[b][i][j]][c] - x[b][i][c]
 * Saved for backward: argmax [B][N][C] int32, the node index (0..N-1) that
 * attained the max (first j in idx order on ties); argmax may be NULL when
 * no backward follows (inference).
 * Backward accumulates into dx: the x_i half and -dy of the relative half to
 * node i, +dy of the relative half to node argmax.
 */
void		sid_maxrel_forward(float *y, int32_t *argmax, const float *x, const int32_t *idx,
							   int B, int N, int C, int k);
void		sid_maxrel_backward(float *dx, const float *dy, const int32_t *argmax,
								int B, int N, int C);

/* ---- mean over nodes: x [B][N][C] -> y [B][C]; backward accumulates. */
void		sid_meanpool_forward(float *y, const float *x, int B, int N, int C);
void		sid_meanpool_backward(float *dx, const float *dy, int B, int N, int C);

/*
 * ---- L2 normalisation of rows: x [rows][dim] -> y = x / max(|x|, 1e-12).
 * Saved: norm [rows].  Backward accumulates into dx.
 */
void		sid_l2norm_forward(float *y, float *norm, const float *x, int rows, int dim);
void		sid_l2norm_backward(float *dx, const float *dy, const float *y, const float *norm,
								int rows, int dim);

/* ---- inner product of two n-vectors (float accumulation, in order). */
float		sid_dot(const float *a, const float *b, int n);

/* ---- residual: y += x (n elements); its backward is dx += dy. */
void		sid_add_inplace(float *y, const float *x, size_t n);

/*
 * ---- multi-head scaled dot-product attention (cross-attention core: the
 * projections are separate linear layers).
 * q [B][Nq][H*dh], k and v [B][Nk][H*dh] -> out [B][Nq][H*dh]; head h uses
 * columns h*dh .. h*dh+dh-1.  Saved: att [B][H][Nq][Nk] (softmax
 * probabilities of scale * q k^T, scale = 1/sqrt(dh)).
 * Backward accumulates into dq, dk, dv; scratch holds Nq*Nk floats.
 */
void		sid_attention_forward(float *out, float *att, const float *q, const float *k,
								  const float *v, int B, int Nq, int Nk, int H, int dh);
void		sid_attention_backward(float *dq, float *dk, float *dv, float *scratch,
								   const float *dout, const float *att, const float *q,
								   const float *k, const float *v,
								   int B, int Nq, int Nk, int H, int dh);

/*
 * ---- multi-head cross-attention layer: queries from one node set, keys and
 * values from another (the reranker's query segment vs candidate segment).
 *   q = xq Wq^T + bq, k = xkv Wk^T + bk, v = xkv Wv^T + bv   ([.][H*dh])
 *   ctx = attention(q, k, v);  y = ctx Wo^T + bo              ([B][Nq][d_out])
 * xq [B][Nq][dq_in], xkv [B][Nk][dkv_in].  Parameters in one buffer, in the
 * order wq, bq, wk, bk, wv, bv, wo, bo (sid_xattn_bind).  Saved: q, k, v,
 * att, ctx (caller-provided, sizes from sid_xattn_acts_floats).
 */
typedef struct sid_xattn
{
	int			dq_in, dkv_in, heads, head_dim, d_out;
	float	   *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
} sid_xattn;

typedef struct sid_xattn_acts
{
	float	   *q, *k, *v;		/* [B][Nq or Nk][H*dh] */
	float	   *att;			/* [B][H][Nq][Nk] */
	float	   *ctx;			/* [B][Nq][H*dh] */
} sid_xattn_acts;

size_t		sid_xattn_num_params(int dq_in, int dkv_in, int heads, int head_dim, int d_out);
void		sid_xattn_bind(sid_xattn *p, float *buf, int dq_in, int dkv_in, int heads,
						   int head_dim, int d_out);
/* Floats for the saved activations, and for backward's scratch. */
size_t		sid_xattn_acts_floats(const sid_xattn *p, int B, int Nq, int Nk);
size_t		sid_xattn_scratch_floats(const sid_xattn *p, int B, int Nq, int Nk);
/* Points a's buffers into buf (sid_xattn_acts_floats floats). */
void		sid_xattn_acts_bind(sid_xattn_acts *a, float *buf, const sid_xattn *p, int B, int Nq,
								int Nk);
void		sid_xattn_forward(const sid_xattn *p, sid_xattn_acts *a, float *y, const float *xq,
							  const float *xkv, int B, int Nq, int Nk);
/* g: gradients bound like p; dxq, dxkv may be NULL; accumulates. */
void		sid_xattn_backward(const sid_xattn *p, const sid_xattn *g, const sid_xattn_acts *a,
							   float *dxq, float *dxkv, float *scratch, const float *dy,
							   const float *xq, const float *xkv, int B, int Nq, int Nk);

/*
 * ---- NT-Xent (normalised temperature-scaled cross entropy).
 * z [2P][D] L2-normalised embeddings; rows i and i+P form a positive pair.
 * loss = mean over the 2P rows of -log( exp(s_ip/t) / sum_{j != i} exp(s_ij/t) ),
 * s = z z^T.  scratch: sid_ntxent_scratch_floats(P) = 8P^2 floats.
 * dz (may be NULL) receives, NOT accumulates, d loss / d z.
 */
size_t		sid_ntxent_scratch_floats(int P);
double		sid_ntxent(float *dz, float *scratch, const float *z, int P, int D,
					   float temperature);

/*
 * ---- binary cross-entropy on logits: mean over n of
 * max(x,0) - x*y + log(1 + exp(-|x|)).  dx (may be NULL) receives
 * (sigmoid(x) - y) / n.
 */
double		sid_bce_logits(float *dx, const float *logits, const float *targets, int n);

/*
 * ---- Adam (decoupled weight decay, AdamW) with cosine learning-rate decay
 * and global gradient-norm clipping.
 */
typedef struct sid_adam_config
{
	float		lr;				/* peak learning rate */
	float		lr_min;			/* floor reached at total_steps */
	int			warmup_steps;	/* linear warm-up from 0 */
	int			total_steps;	/* cosine period */
	float		beta1, beta2, eps;
	float		weight_decay;
	float		clip_norm;		/* <= 0: no clipping */
} sid_adam_config;

void		sid_adam_default_config(sid_adam_config *cfg, int total_steps);
/* Learning rate at step t (0-based). */
float		sid_adam_lr(const sid_adam_config *cfg, int t);
/* L2 norm of the whole gradient buffer. */
float		sid_grad_norm(const float *grad, size_t n);
/*
 * One step: clips grad in place to clip_norm, updates m, v (zeroed before the
 * first step) and params.  t is the 0-based step number.  Returns the
 * gradient norm before clipping.
 */
float		sid_adam_step(float *params, float *grad, float *m, float *v, size_t n,
						  const sid_adam_config *cfg, int t);

#endif
