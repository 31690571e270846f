// sid_cuda_ops.cu - launchers for the encoder's CUDA operators.
//
// Each kernel runs one per-thread body from sid_cuda_kernels.h (the same code
// the unit tests run on the host), one thread per output element or row.
// Arguments are checked before anything is enqueued; launch failures come
// back as SID_EDEVICE.  Kernels are asynchronous on the context's stream.
#include <cstdint>

#include "sid_cuda_internal.h"

#define SID_THREADS 256
#define SID_MAX_GRID_BLOCKS 2147483647LL

// Launch a grid of n threads of kernel KERNEL(args..., n) on ctx's stream.
#define SID_LAUNCH(ctx, err, n, KERNEL, ...) \
	do { \
		int64_t sid_n_ = (n); \
		if (sid_n_ <= 0) \
			return SID_OK; \
		if ((sid_n_ + SID_THREADS - 1) / SID_THREADS > SID_MAX_GRID_BLOCKS) \
			return sid_fail((err), SID_ELIMIT, "%s: %lld threads exceed one CUDA grid", \
							__func__, (long long) sid_n_); \
		(void) cudaGetLastError();	/* drop a stale non-sticky error of an earlier call */ \
		KERNEL<<<(unsigned) ((sid_n_ + SID_THREADS - 1) / SID_THREADS), SID_THREADS, 0, \
			(ctx)->stream>>>(__VA_ARGS__, sid_n_); \
		cudaError_t sid_rc_ = cudaGetLastError(); \
		if (sid_rc_ != cudaSuccess) \
			return sid_fail((err), SID_EDEVICE, "CUDA: launching %s failed: %s", #KERNEL, \
							cudaGetErrorString(sid_rc_)); \
	} while (0)

// One GPU thread per index t < n, running the per-thread body `call`.
#define SID_EACH_THREAD_KERNEL(name, params, call) \
	__global__ void name params \
	{ \
		int64_t t = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; \
		if (t < n) \
			call; \
	}

SID_EACH_THREAD_KERNEL(k_sqdist, (const float *x, float *d, int N, int C, int64_t n),
					   sid_k_sqdist(x, d, N, C, t))
SID_EACH_THREAD_KERNEL(k_topk, (const float *d, int32_t *idx, int N, int k, int include_self, int64_t n),
					   sid_k_topk(d, idx, N, k, include_self, t))
SID_EACH_THREAD_KERNEL(k_maxrel, (const float *x, const int32_t *idx, float *y, int N, int C, int k, int64_t n),
					   sid_k_maxrel(x, idx, y, N, C, k, t))
SID_EACH_THREAD_KERNEL(k_layernorm, (const float *x, float *y, const float *gamma, const float *beta,
									 int C, float eps, int64_t n),
					   sid_k_layernorm(x, y, gamma, beta, C, eps, t))
SID_EACH_THREAD_KERNEL(k_bias_act, (const float *x, const float *bias, const float *residual, float *y,
									int C, int act, int64_t n),
					   sid_k_bias_act(x, bias, residual, y, C, act, t))
SID_EACH_THREAD_KERNEL(k_meanpool, (const float *x, float *y, int N, int C, int64_t n),
					   sid_k_meanpool(x, y, N, C, t))
SID_EACH_THREAD_KERNEL(k_l2norm, (const float *x, float *y, int D, float eps, int64_t n),
					   sid_k_l2norm(x, y, D, eps, t))
SID_EACH_THREAD_KERNEL(k_window_stats, (const float *input, float *stats, int64_t win, int64_t n),
					   sid_k_window_stats(input, stats, win, t))
SID_EACH_THREAD_KERNEL(k_patches, (const float *input, const float *stats, float *cols, sid_patch_geom g,
								   int64_t n),
					   sid_k_patches(input, stats, cols, g, t))

static sid_status
check_bnc(const char *fn, int B, int N, int C, sid_error *err)
{
	if (B <= 0 || N <= 0 || C <= 0)
		return sid_fail(err, SID_EINVAL, "%s: bad shape B %d N %d C %d", fn, B, N, C);
	return SID_OK;
}

static sid_status
check_k(const char *fn, int N, int k, int include_self, sid_error *err)
{
	int			candidates = include_self ? N : N - 1;

	if (k < 1 || k > SID_KNN_MAX_K || k > candidates)
		return sid_fail(err, SID_EINVAL,
						"%s: k = %d neighbours must be between 1 and min(%d, %d candidate nodes)",
						fn, k, SID_KNN_MAX_K, candidates);
	return SID_OK;
}

static int
act_valid(int act)
{
	return act == SID_ACT_NONE || act == SID_ACT_GELU || act == SID_ACT_RELU || act == SID_ACT_ELU;
}

extern "C" sid_status
sid_cuda_sqdist(sid_cuda_ctx *ctx, const float *x, int B, int N, int C, float *d,
				sid_error *err)
{
	sid_status	st;

	if ((st = check_bnc(__func__, B, N, C, err)))
		return st;
	SID_CUDA_NEED_CTX(ctx, err);
	SID_LAUNCH(ctx, err, (int64_t) B * N * N, k_sqdist, x, d, N, C);
	return SID_OK;
}

extern "C" sid_status
sid_cuda_topk(sid_cuda_ctx *ctx, const float *d, int B, int N, int k, int include_self,
			  int32_t *idx, sid_error *err)
{
	sid_status	st;

	if ((st = check_bnc(__func__, B, N, 1, err)) || (st = check_k(__func__, N, k, include_self, err)))
		return st;
	SID_CUDA_NEED_CTX(ctx, err);
	SID_LAUNCH(ctx, err, (int64_t) B * N, k_topk, d, idx, N, k, include_self);
	return SID_OK;
}

extern "C" sid_status
sid_cuda_knn(sid_cuda_ctx *ctx, const float *x, int B, int N, int C, int k, int include_self,
			 int32_t *idx, sid_error *err)
{
	sid_status	st;
	size_t		mark;
	float	   *d;

	if ((st = check_bnc(__func__, B, N, C, err)) || (st = check_k(__func__, N, k, include_self, err)))
		return st;
	SID_CUDA_NEED_CTX(ctx, err);
	mark = sid_cuda_mark(ctx);
	d = (float *) sid_cuda_alloc(ctx, sizeof(float) * B * N * N, err);
	if (d == NULL)
		return err ? err->code : SID_ENOMEM;
	// The arena block is given back before the kernels run: safe, because
	// everything on this stream runs in order, so a later user of the same
	// bytes is enqueued after top-k has read them.
	st = sid_cuda_sqdist(ctx, x, B, N, C, d, err);
	if (st == SID_OK)
		st = sid_cuda_topk(ctx, d, B, N, k, include_self, idx, err);
	sid_cuda_release(ctx, mark);
	return st;
}

extern "C" sid_status
sid_cuda_maxrel(sid_cuda_ctx *ctx, const float *x, const int32_t *idx, int B, int N, int C,
				int k, float *y, sid_error *err)
{
	sid_status	st;

	if ((st = check_bnc(__func__, B, N, C, err)))
		return st;
	if (k < 1 || k > N)
		return sid_fail(err, SID_EINVAL, "%s: k = %d out of range for %d nodes", __func__, k, N);
	SID_CUDA_NEED_CTX(ctx, err);
	SID_LAUNCH(ctx, err, (int64_t) B * N * C, k_maxrel, x, idx, y, N, C, k);
	return SID_OK;
}

extern "C" sid_status
sid_cuda_layernorm(sid_cuda_ctx *ctx, const float *x, int64_t rows, int C,
				   const float *gamma, const float *beta, float eps, float *y, sid_error *err)
{
	if (rows < 0 || C <= 0 || !(eps > 0.0f))
		return sid_fail(err, SID_EINVAL, "%s: bad arguments rows %lld C %d eps %g", __func__,
						(long long) rows, C, (double) eps);
	SID_CUDA_NEED_CTX(ctx, err);
	SID_LAUNCH(ctx, err, rows, k_layernorm, x, y, gamma, beta, C, eps);
	return SID_OK;
}

extern "C" sid_status
sid_cuda_bias_act(sid_cuda_ctx *ctx, const float *x, int64_t rows, int C,
				  const float *bias, const float *residual, int act, float *y, sid_error *err)
{
	if (rows < 0 || C <= 0 || !act_valid(act))
		return sid_fail(err, SID_EINVAL, "%s: bad arguments rows %lld C %d act %d", __func__,
						(long long) rows, C, act);
	SID_CUDA_NEED_CTX(ctx, err);
	SID_LAUNCH(ctx, err, rows * C, k_bias_act, x, bias, residual, y, C, act);
	return SID_OK;
}

extern "C" sid_status
sid_cuda_meanpool(sid_cuda_ctx *ctx, const float *x, int B, int N, int C, float *y,
				  sid_error *err)
{
	sid_status	st;

	if ((st = check_bnc(__func__, B, N, C, err)))
		return st;
	SID_CUDA_NEED_CTX(ctx, err);
	SID_LAUNCH(ctx, err, (int64_t) B * C, k_meanpool, x, y, N, C);
	return SID_OK;
}

extern "C" sid_status
sid_cuda_l2norm(sid_cuda_ctx *ctx, const float *x, int64_t rows, int D, float eps, float *y,
				sid_error *err)
{
	if (rows < 0 || D <= 0 || !(eps > 0.0f))
		return sid_fail(err, SID_EINVAL, "%s: bad arguments rows %lld D %d eps %g", __func__,
						(long long) rows, D, (double) eps);
	SID_CUDA_NEED_CTX(ctx, err);
	SID_LAUNCH(ctx, err, rows, k_l2norm, x, y, D, eps);
	return SID_OK;
}

extern "C" sid_status
sid_cuda_patches(sid_cuda_ctx *ctx, const float *input, const sid_patch_geom *g, float *cols,
				 sid_error *err)
{
	size_t		mark;
	float	   *stats;

	if (g->B <= 0 || g->pt < 1 || g->pf < 1 || g->T < 2 || g->M < 2 || g->pt > g->T ||
		g->M % g->pf != 0)
		return sid_fail(err, SID_EINVAL, "%s: %d windows of %d frames x %d mels do not tile "
						"into %d x %d patches", __func__, g->B, g->T, g->M, g->pt, g->pf);
	SID_CUDA_NEED_CTX(ctx, err);
	mark = sid_cuda_mark(ctx);
	stats = (float *) sid_cuda_alloc(ctx, sizeof(float) * 2 * g->B, err);
	if (stats == NULL)
		return err ? err->code : SID_ENOMEM;
	// given back at once: later users of these bytes are enqueued after us (see sid_cuda_knn)
	sid_cuda_release(ctx, mark);
	SID_LAUNCH(ctx, err, g->B, k_window_stats, input, stats, (int64_t) g->T * g->M);
	SID_LAUNCH(ctx, err, (int64_t) g->B * (g->T / g->pt) * (g->M / g->pf) * 3 * g->pt * g->pf,
			   k_patches, input, stats, cols, *g);
	return SID_OK;
}
