// sid_encoder_cuda.cu - the encoder forward on the GPU.
//
// The sequence of operators is sid_encoder_device_forward (src/lib/nn), shared
// with the host emulation the unit tests run; this file only supplies the
// CUDA operator table and the per-model device state: one context whose
// arena holds the weights (uploaded once, on the first forward) followed by
// the activations of one chunk of windows.
//
// The weights are uploaded on the first forward and again whenever
// enc->params has changed since (a training loop evaluating on the GPU): each
// forward compares them with a host copy of what the device holds, a memcmp
// of 1.2 MB for the default model.
#include <cstdlib>
#include <cstring>

#include "sid_cuda_internal.h"

#define SID_CUDA_CHUNK 256		// windows per pass when the GPU has the memory

struct sid_encoder_cuda_state
{
	sid_cuda_ctx *ctx;
	sid_encoder_params dp;		// device pointers into the arena
	float	   *d_params;		// the device copy of enc->params
	float	   *uploaded;		// host copy of what d_params holds
	int			chunk;
};

static void
state_free(sid_encoder_cuda_state *s)
{
	sid_cuda_ctx_free(s->ctx);
	free(s->uploaded);
	free(s);
}

// ---- the operator table: sid_cuda_* with the context as an opaque pointer
static void *
op_alloc(void *d, size_t bytes, sid_error *err)
{
	return sid_cuda_alloc((sid_cuda_ctx *) d, bytes, err);
}
static size_t
op_mark(void *d)
{
	return sid_cuda_mark((sid_cuda_ctx *) d);
}
static void
op_release(void *d, size_t mark)
{
	sid_cuda_release((sid_cuda_ctx *) d, mark);
}
static sid_status
op_upload(void *d, void *dst, const void *src, size_t bytes, sid_error *err)
{
	return sid_cuda_upload((sid_cuda_ctx *) d, dst, src, bytes, err);
}
static sid_status
op_download(void *d, void *dst, const void *src, size_t bytes, sid_error *err)
{
	return sid_cuda_download((sid_cuda_ctx *) d, dst, src, bytes, err);
}
static sid_status
op_patches(void *d, const float *input, const sid_patch_geom *g, float *cols, sid_error *err)
{
	return sid_cuda_patches((sid_cuda_ctx *) d, input, g, cols, err);
}
static sid_status
op_linear(void *d, const float *x, int rows, int in, const float *W, const float *bias, int out,
		  int act, const float *residual, float *y, sid_error *err)
{
	return sid_cuda_linear((sid_cuda_ctx *) d, x, rows, in, W, bias, out, act, residual, y, err);
}
static sid_status
op_layernorm(void *d, const float *x, int64_t rows, int C, const float *gamma,
			 const float *beta, float eps, float *y, sid_error *err)
{
	return sid_cuda_layernorm((sid_cuda_ctx *) d, x, rows, C, gamma, beta, eps, y, err);
}
static sid_status
op_knn(void *d, const float *x, int B, int N, int C, int k, int include_self, int32_t *idx,
	   sid_error *err)
{
	return sid_cuda_knn((sid_cuda_ctx *) d, x, B, N, C, k, include_self, idx, err);
}
static sid_status
op_maxrel(void *d, const float *x, const int32_t *idx, int B, int N, int C, int k, float *y,
		  sid_error *err)
{
	return sid_cuda_maxrel((sid_cuda_ctx *) d, x, idx, B, N, C, k, y, err);
}
static sid_status
op_meanpool(void *d, const float *x, int B, int N, int C, float *y, sid_error *err)
{
	return sid_cuda_meanpool((sid_cuda_ctx *) d, x, B, N, C, y, err);
}
static sid_status
op_l2norm(void *d, const float *x, int64_t rows, int D, float eps, float *y, sid_error *err)
{
	return sid_cuda_l2norm((sid_cuda_ctx *) d, x, rows, D, eps, y, err);
}

static const sid_dev_ops cuda_ops = {
	op_alloc, op_mark, op_release, op_upload, op_download,
	op_patches, op_linear, op_layernorm, op_knn, op_maxrel, op_meanpool, op_l2norm
};

// Context with an arena for the weights and one chunk; halves the chunk while
// the GPU cannot hold it.
static sid_status
setup(sid_encoder *enc, sid_error *err)
{
	sid_encoder_cuda_state *s;
	size_t		weights = enc->num_params * sizeof(float) + 256;
	sid_status	st = SID_ENOMEM;
	char		why[256];
	int			device = sid_cuda_pick_device(why, sizeof(why));

	if (device < 0)
		return sid_fail(err, SID_EDEVICE, "no usable CUDA device: %s", why);
	s = (sid_encoder_cuda_state *) calloc(1, sizeof(*s));
	if (s)
		s->uploaded = (float *) malloc(enc->num_params * sizeof(float));
	if (s == NULL || s->uploaded == NULL)
	{
		free(s);
		return sid_fail(err, SID_ENOMEM, "out of host memory for the CUDA encoder state");
	}
	for (s->chunk = SID_CUDA_CHUNK; s->chunk >= 1; s->chunk /= 2)
	{
		st = sid_cuda_ctx_create(&s->ctx, device, weights + sid_encoder_device_bytes(&enc->cfg, s->chunk),
								 err);
		if (st != SID_ENOMEM)
			break;
	}
	if (st == SID_OK)
		st = sid_encoder_device_load(&cuda_ops, s->ctx, enc, &s->dp, &s->d_params, err);
	if (st != SID_OK)
	{
		state_free(s);
		return st;
	}
	memcpy(s->uploaded, enc->params, enc->num_params * sizeof(float));
	enc->device_state = s;
	return SID_OK;
}

extern "C" sid_status
sid_encoder_forward_cuda(sid_encoder *enc, const float *input, int B, float *embed_out,
						 float *nodes_out, sid_error *err)
{
	sid_encoder_cuda_state *s;
	sid_status	st;

	if (B < 1)
		return SID_OK;
	if (enc->device_state == NULL && (st = setup(enc, err)) != SID_OK)
		return st;
	s = (sid_encoder_cuda_state *) enc->device_state;
	if (memcmp(s->uploaded, enc->params, enc->num_params * sizeof(float)) != 0)
	{
		if ((st = sid_cuda_upload(s->ctx, s->d_params, enc->params,
								  enc->num_params * sizeof(float), err)) != SID_OK)
			return st;
		memcpy(s->uploaded, enc->params, enc->num_params * sizeof(float));
	}
	return sid_encoder_device_forward(&cuda_ops, s->ctx, &enc->cfg, &s->dp, s->chunk, input, B,
									  embed_out, nodes_out, err);
}

extern "C" void
sid_encoder_cuda_release(sid_encoder *enc)
{
	sid_encoder_cuda_state *s = (sid_encoder_cuda_state *) enc->device_state;

	if (s == NULL)
		return;
	state_free(s);
	enc->device_state = NULL;
}
