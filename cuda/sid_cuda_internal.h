// sid_cuda_internal.h - what the CUDA translation units share and C never sees:
// the context layout and the macros that turn CUDA/cuBLAS failures into sid_errors.
#ifndef SID_CUDA_INTERNAL_H
#define SID_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "sid_cuda_ops.h"
#include "nn/sid_encoder.h"

// What sid_cuda_module.cu puts in the module's table (src/lib/nn/sid_cuda_module.h).
extern "C" int sid_cuda_probe(char *why, size_t why_len);
extern "C" sid_status sid_encoder_forward_cuda(sid_encoder *enc, const float *input, int B,
											   float *embed_out, float *nodes_out, sid_error *err);
extern "C" void sid_encoder_cuda_release(sid_encoder *enc);

struct sid_cuda_ctx
{
	int			device;
	cudaStream_t stream;
	cublasHandle_t blas;
	char	   *arena;			// one cudaMalloc, handed out by a bump pointer
	size_t		arena_size;
	size_t		arena_used;
};

// Return SID_EDEVICE naming the failed runtime call and the runtime's reason.
#define SID_CUDA_TRY(err, call) \
	do { \
		cudaError_t sid_rc_ = (call); \
		if (sid_rc_ != cudaSuccess) \
			return sid_fail((err), SID_EDEVICE, "CUDA: %s failed: %s (%s:%d)", #call, \
							cudaGetErrorString(sid_rc_), __FILE__, __LINE__); \
	} while (0)

#define SID_CUBLAS_TRY(err, call) \
	do { \
		cublasStatus_t sid_rc_ = (call); \
		if (sid_rc_ != CUBLAS_STATUS_SUCCESS) \
			return sid_fail((err), SID_EDEVICE, "cuBLAS: %s failed: %s (%s:%d)", #call, \
							cublasGetStatusString(sid_rc_), __FILE__, __LINE__); \
	} while (0)

// Every operator starts here: a context is required (no device, no context).
#define SID_CUDA_NEED_CTX(ctx, err) \
	do { \
		if ((ctx) == NULL) \
			return sid_fail((err), SID_EDEVICE, "%s: no CUDA context (no usable GPU was set up)", \
							__func__); \
	} while (0)

#endif
