/*
 * sid_encoder_device.h - the encoder forward written once against a table of
 * device operators.
 *
 * The CUDA path (cuda/sid_encoder_cuda.cu) fills the table with the
 * sid_cuda_* operators; the unit tests fill it with the CUDA kernels' own
 * per-thread bodies run on the host (cuda/sid_cuda_kernels.h), so the whole
 * sequence of the GPU forward - buffer plan, shapes, residuals, chunking -
 * is checked against sid_encoder_forward_cpu on machines without a GPU.
 *
 * All pointers handed to the operators are "device" pointers obtained from
 * ops->alloc; layouts are those of sid_nn.h / sid_encoder.h.
 */
#ifndef SID_ENCODER_DEVICE_H
#define SID_ENCODER_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "nn/sid_encoder.h"
#include "core/sid_error.h"

/* No activation after a linear layer (sid_activation values start at 1). */
#define SID_ACT_NONE 0

/* Geometry of the patch gathering (see sid_k_patches in cuda/sid_cuda_kernels.h). */
typedef struct sid_patch_geom
{
	int			B,
				T,
				M,
				pt,
				pf;
} sid_patch_geom;

typedef struct sid_dev_ops
{
	/* bump allocation in the device arena; mark/release rewind it */
	void	   *(*alloc) (void *dev, size_t bytes, sid_error *err);
	size_t		(*mark) (void *dev);
	void		(*release) (void *dev, size_t mark);
	sid_status	(*upload) (void *dev, void *dst, const void *src, size_t bytes, sid_error *err);
	sid_status	(*download) (void *dev, void *dst, const void *src, size_t bytes, sid_error *err);
	/* the operators, with the semantics of the sid_cuda_* functions */
	sid_status	(*patches) (void *dev, const float *input, const sid_patch_geom *g, float *cols,
							sid_error *err);
	sid_status	(*linear) (void *dev, const float *x, int rows, int in, const float *W,
						   const float *bias, int out, int act, const float *residual,
						   float *y, sid_error *err);
	sid_status	(*layernorm) (void *dev, const float *x, int64_t rows, int C,
							  const float *gamma, const float *beta, float eps, float *y,
							  sid_error *err);
	sid_status	(*knn) (void *dev, const float *x, int B, int N, int C, int k,
						int include_self, int32_t *idx, sid_error *err);
	sid_status	(*maxrel) (void *dev, const float *x, const int32_t *idx, int B, int N, int C,
						   int k, float *y, sid_error *err);
	sid_status	(*meanpool) (void *dev, const float *x, int B, int N, int C, float *y,
							 sid_error *err);
	sid_status	(*l2norm) (void *dev, const float *x, int64_t rows, int D, float eps, float *y,
						   sid_error *err);
} sid_dev_ops;

/* Device bytes the forward needs for a chunk of `chunk` windows (weights excluded). */
size_t		sid_encoder_device_bytes(const sid_encoder_config *cfg, int chunk);

/*
 * Allocate the weights on the device, upload enc->params, bind dp to them;
 * *d_params (when not NULL) receives the device buffer (num_params floats).
 */
sid_status	sid_encoder_device_load(const sid_dev_ops *ops, void *dev, const sid_encoder *enc,
									sid_encoder_params *dp, float **d_params, sid_error *err);

/*
 * Forward of B windows input[B][T][M] (host memory) in chunks of at most
 * `chunk`, weights dp already on the device; writes embed_out[B][embed_dim]
 * and, when not NULL, nodes_out[B][N_last][C_last] (host memory).  The
 * activations are taken from the arena and given back before returning.
 */
sid_status	sid_encoder_device_forward(const sid_dev_ops *ops, void *dev,
									   const sid_encoder_config *cfg,
									   const sid_encoder_params *dp, int chunk,
									   const float *input, int B, float *embed_out,
									   float *nodes_out, sid_error *err);

#endif
