/*
 * sid_encoder.h - the fingerprint encoder: a graph neural network over
 * patches of a log-mel window (the GraFPrint design, sized for CPUs).
 *
 *   input  [B][T][M]        one log-mel window per segment, frame-major
 *                           (T = n_frames frames of M = n_mels bands, dB)
 *   patch  [B][N0][C0]      non-overlapping patches of patch_time x patch_freq
 *                           bins, each bin carrying 3 channels (log-mel
 *                           standardised over the whole window: (x - mean) /
 *                           max(std, SID_INPUT_STD_FLOOR) with the mean and
 *                           std over all T x M values; normalised time
 *                           t/(T-1); normalised frequency m/(M-1)), gathered
 *                           as cols[b][n][(dt * patch_freq + df) * 3 + ch]
 *                           -> linear.  Node n = ti * F0 + fi with
 *                           F0 = M / patch_freq, T0 = T / patch_time
 *                           (frames past T0 * patch_time are unused).
 *   stage s: blocks[s] x (Grapher, FFN) on [B][Ns][Cs]
 *     Grapher: x + fc_out(act(fc_mr(maxrel(h, knn(h))))),  h = fc_in(LN(x))
 *     FFN:     x + fc2(act(fc1(LN(x))))             hidden = ffn_ratio * Cs
 *   between stages: merge freq_merge adjacent frequency nodes (a strided
 *     convolution of kernel = stride = freq_merge along frequency): the
 *     [B][T0][Fs][Cs] buffer is read as [B][T0][Fs/merge][merge*Cs] (no copy)
 *     -> linear to C(s+1).
 *   nodes  [B][N_last][C_last]  output of the last stage (kept for the
 *                               reranker)
 *   pool   [B][C_last]  mean over nodes -> LN -> head1 -> ELU -> head2
 *   embed  [B][embed_dim]  L2-normalised
 *
 * Parameters live in ONE float buffer (gradients in a second buffer of the
 * same layout), tensors in this order, each linear as w [out][in] then b [out],
 * each layer norm as gamma [dim] then beta [dim]:
 *   patch (3*patch_time*patch_freq -> C0)
 *   for each stage s, for each block: grapher.ln (Cs), grapher.fc_in (Cs->Cs),
 *     grapher.fc_mr (2Cs->Cs), grapher.fc_out (Cs->Cs), ffn.ln (Cs),
 *     ffn.fc1 (Cs->hidden), ffn.fc2 (hidden->Cs);
 *     then, if s is not the last stage, down[s] (merge*Cs -> C(s+1))
 *   head.ln (C_last), head1 (C_last -> head_hidden), head2 (head_hidden -> embed_dim)
 * sid_encoder_params_bind() fills pointers into such a buffer.
 */
#ifndef SID_ENCODER_H
#define SID_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "nn/sid_device.h"
#include "core/sid_error.h"
#include "nn/sid_nn.h"

#define SID_MAX_STAGES 4
#define SID_MAX_BLOCKS 16		/* over all stages */
#define SID_INPUT_STD_FLOOR 1.0f	/* dB; a silent window standardises to 0 */
#define SID_MAX_NODES 4096		/* nodes of the first stage */

/* Architecture; every field is stored in the model file. */
typedef struct sid_encoder_config
{
	int32_t		n_mels;			/* M: bands per frame (= feature n_mels) */
	int32_t		n_frames;		/* T: frames per window */
	int32_t		patch_freq;		/* bands per patch (divides n_mels) */
	int32_t		patch_time;		/* frames per patch */
	int32_t		n_stages;
	int32_t		channels[SID_MAX_STAGES];
	int32_t		blocks[SID_MAX_STAGES];
	int32_t		freq_merge;		/* downsampling factor between stages */
	int32_t		knn_k;			/* neighbours per node, self excluded */
	int32_t		ffn_ratio;
	int32_t		head_hidden;
	int32_t		embed_dim;
	int32_t		activation;		/* sid_activation of grapher and FFN */
} sid_encoder_config;

/* The default fingerprint model (1 s windows at 16 kHz, hop 256). */
void		sid_encoder_default_config(sid_encoder_config *cfg);
/* Checks a configuration (also one read from a file); explains in err. */
sid_status	sid_encoder_check_config(const sid_encoder_config *cfg, sid_error *err);

/* Geometry derived from a configuration. */
int			sid_encoder_nodes(const sid_encoder_config *cfg, int stage);	/* Ns */
int			sid_encoder_freq_nodes(const sid_encoder_config *cfg, int stage);	/* Fs */
int			sid_encoder_time_nodes(const sid_encoder_config *cfg);	/* T0 */
int			sid_encoder_total_blocks(const sid_encoder_config *cfg);
size_t		sid_encoder_num_params(const sid_encoder_config *cfg);
/* Forward FLOPs for one window (2 per multiply-add; kNN included). */
double		sid_encoder_flops(const sid_encoder_config *cfg);

typedef struct sid_linear
{
	float	   *w;				/* [out][in] */
	float	   *b;				/* [out] */
	int			in, out;
} sid_linear;

typedef struct sid_layernorm
{
	float	   *gamma, *beta;	/* [dim] */
	int			dim;
} sid_layernorm;

typedef struct sid_block_params
{
	int			stage;
	sid_layernorm g_ln;
	sid_linear	g_fc_in, g_fc_mr, g_fc_out;
	sid_layernorm f_ln;
	sid_linear	f_fc1, f_fc2;
} sid_block_params;

typedef struct sid_encoder_params
{
	sid_linear	patch;
	sid_block_params blocks[SID_MAX_BLOCKS];
	sid_linear	down[SID_MAX_STAGES - 1];
	sid_layernorm head_ln;
	sid_linear	head1, head2;
} sid_encoder_params;

/* Point p's tensors into buf (sid_encoder_num_params floats). */
void		sid_encoder_params_bind(sid_encoder_params *p, const sid_encoder_config *cfg,
									float *buf);

/*
 * Activations of one block for a batch, allocated once for a maximum batch
 * and reused; for training everything backward needs is kept per block.
 * Allocated for inference (for_training 0), every block points at the same
 * buffers (sized for the largest stage) and g_argmax is NULL.  Shapes with N = Ns, C = Cs,
 * Hd = ffn_ratio * Cs:
 *   x_in [B][N][C] is the previous buffer (patch output or previous block's
 *   f_out or the down-sampled buffer) and is not owned here.
 */
typedef struct sid_block_acts
{
	float	   *g_ln, *g_mean, *g_rstd;	/* [B][N][C], [B*N], [B*N] */
	float	   *g_h;			/* fc_in output [B][N][C] */
	int32_t    *knn;			/* [B][N][k] */
	float	   *g_mr;			/* [B][N][2C] */
	int32_t    *g_argmax;		/* [B][N][C]; NULL unless allocated for training */
	float	   *g_pre, *g_act;	/* fc_mr output and act of it [B][N][C] */
	float	   *g_out;			/* x_in + fc_out(...) [B][N][C] */
	float	   *f_ln, *f_mean, *f_rstd;
	float	   *f_pre, *f_act;	/* [B][N][Hd] */
	float	   *f_out;			/* g_out + fc2(...) [B][N][C] = block output */
} sid_block_acts;

typedef struct sid_encoder_acts
{
	int			max_batch;
	float	   *patch_cols;		/* [B][N0][3*pt*pf] gathered patches */
	float	   *patch_out;		/* [B][N0][C0] */
	sid_block_acts blocks[SID_MAX_BLOCKS];
	float	   *down_out[SID_MAX_STAGES - 1];	/* [B][N(s+1)][C(s+1)] */
	float	   *nodes;			/* alias of the last block's f_out */
	float	   *pool;			/* [B][C_last] */
	float	   *head_ln, *head_mean, *head_rstd;
	float	   *head_pre, *head_act;	/* [B][head_hidden] */
	float	   *head_out;		/* [B][embed_dim] before normalisation */
	float	   *embed_norm;		/* [B] */
	float	   *embed;			/* [B][embed_dim], L2-normalised */
	float	   *knn_scratch;	/* sid_knn_scratch_floats(max_batch, N0) */
	float	   *grad_a, *grad_b, *grad_c;	/* backward scratch, largest B*N*max(2C,Hd) */
	void	   *block;			/* the single allocation behind all of this */
} sid_encoder_acts;

sid_status	sid_encoder_acts_alloc(sid_encoder_acts *a, const sid_encoder_config *cfg,
								   int max_batch, int for_training, sid_error *err);
void		sid_encoder_acts_free(sid_encoder_acts *a);

/*
 * An encoder ready to run: configuration, parameters (one buffer) and, for
 * training, the gradient buffer and Adam moments.
 */
typedef struct sid_encoder
{
	sid_encoder_config cfg;
	size_t		num_params;
	float	   *params;			/* owned */
	sid_encoder_params p;
	float	   *grads;			/* owned, NULL until sid_encoder_enable_training */
	sid_encoder_params g;
	float	   *adam_m, *adam_v;
	void	   *device_state;	/* CUDA copy of the weights, NULL on the CPU */
} sid_encoder;

/* Allocates parameters (zeroed); NULL with err set on failure. */
sid_encoder *sid_encoder_create(const sid_encoder_config *cfg, sid_error *err);
void		sid_encoder_free(sid_encoder *enc);
/* Seeded random initialisation (scaled uniform for linears, LN gamma 1 beta 0). */
void		sid_encoder_init_random(sid_encoder *enc, uint64_t seed);
sid_status	sid_encoder_enable_training(sid_encoder *enc, sid_error *err);

/*
 * Forward on the CPU: input [B][T][M] -> a->embed [B][embed_dim] and
 * a->nodes [B][N_last][C_last].  B <= a->max_batch.
 */
void		sid_encoder_forward_cpu(sid_encoder *enc, sid_encoder_acts *a, const float *input,
									int B);

/*
 * Forward on the chosen device (SID_DEVICE_CPU or SID_DEVICE_CUDA, as
 * resolved by sid_device_resolve).  Copies the embeddings to embed_out
 * [B][embed_dim] and, when nodes_out is not NULL, the last-stage node
 * features to nodes_out [B][N_last][C_last].  The CPU runs
 * SID_ENCODER_CPU_CHUNK windows at a time through every layer: their
 * activations (0.3 MB a window for the default model) then stay in the
 * core's L2 cache from one operator to the next, where a batch of 32 streams
 * each operator's 10 MB through memory (docs/benchmarks.md, "Encoder
 * kernels").  Windows are independent, so a window's fingerprint does not
 * depend on the batch it came in (unit-tested).
 */
#define SID_ENCODER_CPU_CHUNK 4
sid_status	sid_encoder_forward(sid_encoder *enc, sid_device_kind device,
								sid_encoder_acts *a, const float *input, int B,
								float *embed_out, float *nodes_out, sid_error *err);

/*
 * Backward from d loss / d embed [B][embed_dim] (the L2-normalised output)
 * through the whole encoder; accumulates into enc->grads.  Uses the
 * activations of the last sid_encoder_forward_cpu on a with the same B.
 */
void		sid_encoder_backward(sid_encoder *enc, sid_encoder_acts *a, const float *d_embed,
								 int B);
/* The same, accumulating into another gradient buffer bound to g (data-parallel workers). */
void		sid_encoder_backward_to(const sid_encoder *enc, const sid_encoder_params *g,
									sid_encoder_acts *a, const float *d_embed, int B);

#endif
