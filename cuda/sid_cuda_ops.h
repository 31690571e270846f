/*
 * sid_cuda_ops.h - the CUDA operators of the encoder forward, callable from C.
 *
 * Only present in builds where nvcc was found (SAMPLEID_HAVE_CUDA); callers
 * guard with #ifdef.  Every function returns SID_OK or a negative
 * sid_status with err filled: argument errors are SID_EINVAL and are
 * detected before any CUDA call, every failing CUDA runtime or cuBLAS call
 * becomes SID_EDEVICE naming the call and the reason.  Nothing aborts or
 * prints.
 *
 * A sid_cuda_ctx owns one stream, one cuBLAS handle and one device arena:
 * a single cudaMalloc made when the context is created, handed out by a bump
 * pointer (sid_cuda_alloc) and rewound with sid_cuda_mark/sid_cuda_release,
 * so a forward pass does no allocation of its own (the whisper.cpp way).
 *
 * All operators take device pointers (from the arena) and are enqueued on
 * the context's stream; sid_cuda_download synchronises.  Shapes and layouts
 * are those of cuda/sid_cuda_kernels.h, all row-major.
 */
#ifndef SID_CUDA_OPS_H
#define SID_CUDA_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "core/sid_error.h"
#include "sid_cuda_kernels.h"

#ifdef __cplusplus
extern "C"
{
#endif

typedef struct sid_cuda_ctx sid_cuda_ctx;

/*
 * Index of the first GPU this build has code for (cuda/cuda_device.cu), or -1
 * with the reason in why.
 */
int			sid_cuda_pick_device(char *why, size_t why_len);

/* Select GPU `device`, create stream, cuBLAS handle and an arena of arena_bytes. */
sid_status	sid_cuda_ctx_create(sid_cuda_ctx **out, int device, size_t arena_bytes,
								sid_error *err);
void		sid_cuda_ctx_free(sid_cuda_ctx *ctx);

/* Arena: 256-byte aligned blocks; NULL + SID_ENOMEM when the arena is full. */
void	   *sid_cuda_alloc(sid_cuda_ctx *ctx, size_t bytes, sid_error *err);
size_t		sid_cuda_mark(const sid_cuda_ctx *ctx);
void		sid_cuda_release(sid_cuda_ctx *ctx, size_t mark);
size_t		sid_cuda_arena_size(const sid_cuda_ctx *ctx);

/* Host <-> device copies (download waits for all queued work). */
sid_status	sid_cuda_upload(sid_cuda_ctx *ctx, void *dev, const void *host, size_t bytes,
							sid_error *err);
sid_status	sid_cuda_download(sid_cuda_ctx *ctx, void *host, const void *dev, size_t bytes,
							  sid_error *err);
sid_status	sid_cuda_sync(sid_cuda_ctx *ctx, sid_error *err);

/*
 * Row-major single-precision GEMM with the meaning of
 * cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc):
 * C[M][N] = alpha * op(A)[M][K] * op(B)[K][N] + beta * C, trans_* nonzero = transposed.
 * (cuBLAS is column-major: a row-major C is a column-major C^T = op(B)^T op(A)^T,
 * so the call swaps the operands; see sid_cuda_ctx.cu.)
 */
sid_status	sid_cuda_gemm(sid_cuda_ctx *ctx, int trans_a, int trans_b, int M, int N, int K,
						  float alpha, const float *A, int lda, const float *B, int ldb,
						  float beta, float *C, int ldc, sid_error *err);

/*
 * Linear layer on rows: y[rows][out] = x[rows][in] * W^T + bias, then act.
 * W is [out][in] (PyTorch order, as sid_linear_forward); bias may be NULL;
 * residual, when not NULL, is [rows][out] and is added before the activation
 * (y may alias residual, not x).
 */
sid_status	sid_cuda_linear(sid_cuda_ctx *ctx, const float *x, int rows, int in,
							const float *W, const float *bias, int out, int act,
							const float *residual, float *y, sid_error *err);

/* d[B][N][N] of squared Euclidean distances between the nodes of each sample. */
sid_status	sid_cuda_sqdist(sid_cuda_ctx *ctx, const float *x, int B, int N, int C,
							float *d, sid_error *err);

/* idx[B][N][k]: the k nearest nodes of each node from d (ties to the lower index). */
sid_status	sid_cuda_topk(sid_cuda_ctx *ctx, const float *d, int B, int N, int k,
						  int include_self, int32_t *idx, sid_error *err);

/* sqdist + topk with the distance matrix taken from the arena and given back. */
sid_status	sid_cuda_knn(sid_cuda_ctx *ctx, const float *x, int B, int N, int C, int k,
						 int include_self, int32_t *idx, sid_error *err);

/* y[B][N][2C] = [ x_i | max over idx of (x_j - x_i) ]. */
sid_status	sid_cuda_maxrel(sid_cuda_ctx *ctx, const float *x, const int32_t *idx,
							int B, int N, int C, int k, float *y, sid_error *err);

/* Layer norm over the last dimension C; gamma/beta may be NULL (1 and 0). */
sid_status	sid_cuda_layernorm(sid_cuda_ctx *ctx, const float *x, int64_t rows, int C,
							   const float *gamma, const float *beta, float eps,
							   float *y, sid_error *err);

/*
 * y = act(x + bias[c] + residual) elementwise over [rows][C]; bias and residual
 * may be NULL; act is a sid_activation or SID_ACT_NONE.
 */
sid_status	sid_cuda_bias_act(sid_cuda_ctx *ctx, const float *x, int64_t rows, int C,
							  const float *bias, const float *residual, int act,
							  float *y, sid_error *err);

/* y[B][C] = mean over n of x[B][N][C]. */
sid_status	sid_cuda_meanpool(sid_cuda_ctx *ctx, const float *x, int B, int N, int C,
							  float *y, sid_error *err);

/* Each row of x[rows][D] divided by max(||row||, eps). */
sid_status	sid_cuda_l2norm(sid_cuda_ctx *ctx, const float *x, int64_t rows, int D,
							float eps, float *y, sid_error *err);

/*
 * cols[B][T0*F0][3*pt*pf] from log-mel windows input[B][T][M], each window
 * standardised first (layout in sid_cuda_kernels.h); 8*B arena bytes of
 * scratch are taken and given back.
 */
sid_status	sid_cuda_patches(sid_cuda_ctx *ctx, const float *input, const sid_patch_geom *g,
							 float *cols, sid_error *err);

#ifdef __cplusplus
}
#endif

#endif
