// sid_cuda_ctx.cu - the CUDA context: device, stream, cuBLAS handle, one arena,
// host<->device copies and the row-major GEMM / linear layer on cuBLAS.
#include <cstdint>
#include <cstdlib>

#include "sid_cuda_internal.h"

#define SID_ARENA_ALIGN 256

// The index is checked against the devices present before any host memory
// is taken, so a bad index costs nothing to undo.
static sid_status
check_device_index(int device, sid_error *err)
{
	int			count = 0;
	cudaError_t rc;

	if (device < 0)
		return sid_fail(err, SID_EINVAL, "CUDA device index %d is negative", device);
	rc = cudaGetDeviceCount(&count);
	if (rc != cudaSuccess)
		return sid_fail(err, SID_EDEVICE, "no usable CUDA device: cudaGetDeviceCount failed: %s",
						cudaGetErrorString(rc));
	if (device >= count)
		return sid_fail(err, SID_EDEVICE, "CUDA device %d requested but %d device(s) present",
						device, count);
	return SID_OK;
}

// On failure what was made stays in ctx (the rest NULL) for sid_cuda_ctx_free.
static sid_status
open_ctx_resources(sid_cuda_ctx *ctx, size_t arena_bytes, sid_error *err)
{
	cudaError_t rc;
	cublasStatus_t bs;

	rc = cudaSetDevice(ctx->device);
	if (rc != cudaSuccess)
		return sid_fail(err, SID_EDEVICE, "CUDA: cudaSetDevice(%d) failed: %s", ctx->device,
						cudaGetErrorString(rc));
	rc = cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking);
	if (rc != cudaSuccess)
	{
		ctx->stream = NULL;
		return sid_fail(err, SID_EDEVICE, "CUDA: cudaStreamCreate failed: %s",
						cudaGetErrorString(rc));
	}
	bs = cublasCreate(&ctx->blas);
	if (bs != CUBLAS_STATUS_SUCCESS)
	{
		ctx->blas = NULL;
		return sid_fail(err, SID_EDEVICE, "cuBLAS: cublasCreate failed: %s",
						cublasGetStatusString(bs));
	}
	// Default math: full FP32 products, no TF32 tensor-core rounding
	// (that needs CUBLAS_TF32_TENSOR_OP_MATH); the parity tolerance
	// against the CPU path assumes single precision.
	if ((bs = cublasSetStream(ctx->blas, ctx->stream)) != CUBLAS_STATUS_SUCCESS ||
		(bs = cublasSetMathMode(ctx->blas, CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS)
		return sid_fail(err, SID_EDEVICE, "cuBLAS: setting stream/math mode failed: %s",
						cublasGetStatusString(bs));
	if (arena_bytes > 0)
	{
		rc = cudaMalloc((void **) &ctx->arena, arena_bytes);
		if (rc != cudaSuccess)
		{
			(void) cudaGetLastError();	// not sticky: clear it for later launch checks
			ctx->arena = NULL;
			return sid_fail(err, rc == cudaErrorMemoryAllocation ? SID_ENOMEM : SID_EDEVICE,
							"CUDA: cudaMalloc of a %zu-byte arena failed: %s", arena_bytes,
							cudaGetErrorString(rc));
		}
	}
	ctx->arena_size = arena_bytes;
	return SID_OK;
}

extern "C" sid_status
sid_cuda_ctx_create(sid_cuda_ctx **out, int device, size_t arena_bytes, sid_error *err)
{
	sid_cuda_ctx *ctx;
	sid_status	st;

	*out = NULL;
	if ((st = check_device_index(device, err)) != SID_OK)
		return st;
	ctx = (sid_cuda_ctx *) calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return sid_fail(err, SID_ENOMEM, "out of host memory for a CUDA context");
	ctx->device = device;
	if ((st = open_ctx_resources(ctx, arena_bytes, err)) != SID_OK)
	{
		sid_cuda_ctx_free(ctx);
		return st;
	}
	*out = ctx;
	return SID_OK;
}

extern "C" void
sid_cuda_ctx_free(sid_cuda_ctx *ctx)
{
	if (ctx == NULL)
		return;
	// Teardown errors have nowhere to go and nothing left to protect: ignore them.
	if (ctx->stream)
		(void) cudaStreamSynchronize(ctx->stream);
	if (ctx->arena)
		(void) cudaFree(ctx->arena);
	if (ctx->blas)
		(void) cublasDestroy(ctx->blas);
	if (ctx->stream)
		(void) cudaStreamDestroy(ctx->stream);
	free(ctx);
}

extern "C" void *
sid_cuda_alloc(sid_cuda_ctx *ctx, size_t bytes, sid_error *err)
{
	size_t		start,
				need;

	if (ctx == NULL)
	{
		sid_fail(err, SID_EDEVICE, "sid_cuda_alloc: no CUDA context (no usable GPU was set up)");
		return NULL;
	}
	start = (ctx->arena_used + SID_ARENA_ALIGN - 1) & ~(size_t) (SID_ARENA_ALIGN - 1);
	need = bytes == 0 ? 1 : bytes;
	if (start > ctx->arena_size || need > ctx->arena_size - start)
	{
		sid_fail(err, SID_ENOMEM,
				 "CUDA arena exhausted: %zu bytes wanted, %zu of %zu in use",
				 bytes, ctx->arena_used, ctx->arena_size);
		return NULL;
	}
	ctx->arena_used = start + need;
	return ctx->arena + start;
}

extern "C" size_t
sid_cuda_mark(const sid_cuda_ctx *ctx)
{
	return ctx ? ctx->arena_used : 0;
}

extern "C" void
sid_cuda_release(sid_cuda_ctx *ctx, size_t mark)
{
	if (ctx && mark <= ctx->arena_used)
		ctx->arena_used = mark;
}

extern "C" size_t
sid_cuda_arena_size(const sid_cuda_ctx *ctx)
{
	return ctx ? ctx->arena_size : 0;
}

extern "C" sid_status
sid_cuda_upload(sid_cuda_ctx *ctx, void *dev, const void *host, size_t bytes, sid_error *err)
{
	SID_CUDA_NEED_CTX(ctx, err);
	if (bytes == 0)
		return SID_OK;
	if (dev == NULL || host == NULL)
		return sid_fail(err, SID_EINVAL, "sid_cuda_upload: NULL pointer");
	SID_CUDA_TRY(err, cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, ctx->stream));
	// The host buffer may be reused as soon as we return: wait for the copy.
	SID_CUDA_TRY(err, cudaStreamSynchronize(ctx->stream));
	return SID_OK;
}

extern "C" sid_status
sid_cuda_download(sid_cuda_ctx *ctx, void *host, const void *dev, size_t bytes, sid_error *err)
{
	SID_CUDA_NEED_CTX(ctx, err);
	if (bytes == 0)
		return sid_cuda_sync(ctx, err);
	if (dev == NULL || host == NULL)
		return sid_fail(err, SID_EINVAL, "sid_cuda_download: NULL pointer");
	SID_CUDA_TRY(err, cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, ctx->stream));
	SID_CUDA_TRY(err, cudaStreamSynchronize(ctx->stream));
	return SID_OK;
}

extern "C" sid_status
sid_cuda_sync(sid_cuda_ctx *ctx, sid_error *err)
{
	SID_CUDA_NEED_CTX(ctx, err);
	SID_CUDA_TRY(err, cudaStreamSynchronize(ctx->stream));
	return SID_OK;
}

extern "C" sid_status
sid_cuda_gemm(sid_cuda_ctx *ctx, int trans_a, int trans_b, int M, int N, int K,
			  float alpha, const float *A, int lda, const float *B, int ldb,
			  float beta, float *C, int ldc, sid_error *err)
{
	int			a_cols = trans_a ? M : K;	// row length of A as stored
	int			b_cols = trans_b ? K : N;

	if (M < 0 || N < 0 || K < 0)
		return sid_fail(err, SID_EINVAL, "sid_cuda_gemm: negative size %dx%dx%d", M, N, K);
	if (M == 0 || N == 0)
		return SID_OK;
	if (lda < (a_cols > 1 ? a_cols : 1) || ldb < (b_cols > 1 ? b_cols : 1) || ldc < N)
		return sid_fail(err, SID_EINVAL,
						"sid_cuda_gemm: leading dimension too small (lda %d ldb %d ldc %d for %dx%dx%d)",
						lda, ldb, ldc, M, N, K);
	SID_CUDA_NEED_CTX(ctx, err);
	// Row-major C[M][N] is column-major C^T[N][M]; C^T = op(B)^T op(A)^T and a
	// row-major operand read column-major is already its transpose, so
	// swapping the operands (and the sizes M, N) is all it takes.
	SID_CUBLAS_TRY(err, cublasSgemm(ctx->blas,
									trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
									trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
									N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc));
	return SID_OK;
}

extern "C" sid_status
sid_cuda_linear(sid_cuda_ctx *ctx, const float *x, int rows, int in,
				const float *W, const float *bias, int out, int act,
				const float *residual, float *y, sid_error *err)
{
	sid_status	st;
	int			fold_residual = residual != NULL && residual == y;

	if (rows < 0 || in <= 0 || out <= 0)
		return sid_fail(err, SID_EINVAL, "sid_cuda_linear: bad shape rows %d in %d out %d",
						rows, in, out);
	if ((const float *) y == x)
		return sid_fail(err, SID_EINVAL, "sid_cuda_linear: output may not alias the input");
	SID_CUDA_NEED_CTX(ctx, err);
	// y = x W^T (+ y when the residual is y itself, so it is not overwritten first)
	st = sid_cuda_gemm(ctx, 0, 1, rows, out, in, 1.0f, x, in, W, in,
					   fold_residual ? 1.0f : 0.0f, y, out, err);
	if (st != SID_OK)
		return st;
	if (bias == NULL && act == SID_ACT_NONE && (residual == NULL || fold_residual))
		return SID_OK;
	return sid_cuda_bias_act(ctx, y, rows, out, bias, fold_residual ? NULL : residual, act, y, err);
}
