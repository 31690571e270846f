/*
 * sid_embed.h - audio to fingerprints with one model: decoded PCM is cut
 * into the model's windows (sid_mel), log-mel features are computed a batch
 * of windows at a time and run through the encoder in that batch, so memory
 * stays at one batch of features whatever the audio length.
 *
 *   sid_embedder *e = sid_embedder_create(model, hop_seconds (0 = model's),
 *                                         batch, &err);
 *   sid_embed_pcm(e, device, pcm, n_samples, &result, &err);
 *   ... result.fp[s * result.dim + i], result.t_start[s] ...
 *   sid_embed_result_free(&result);
 *   sid_embedder_free(e);
 * One embedder per thread (it owns FFT and activation scratch);
 * sid_embed_pcm_parallel spreads one signal over several.
 */
#ifndef SID_EMBED_H
#define SID_EMBED_H

#include <stdint.h>

#include "nn/sid_device.h"
#include "audio/sid_mel.h"
#include "model/sid_model.h"

typedef struct sid_embedder
{
	const sid_model *model;		/* not owned */
	sid_feature_config features;	/* the model's, with the hop actually used */
	sid_mel    *mel;
	sid_encoder_acts acts;
	int			batch;
	float	   *windows;		/* [batch][T][M] */
} sid_embedder;

typedef struct sid_embed_result
{
	int64_t		n_segments;
	int32_t		dim;
	float	   *fp;				/* [n_segments][dim], L2-normalised, malloc'd */
	double	   *t_start;		/* [n_segments] seconds, malloc'd */
} sid_embed_result;

sid_embedder *sid_embedder_create(const sid_model *model, double hop_seconds, int batch,
								  sid_error *err);
void		sid_embedder_free(sid_embedder *e);

/* Number of windows (segments) of n_samples of PCM. */
int64_t		sid_embed_count(const sid_embedder *e, int64_t n_samples);
/*
 * Windows first .. first+count-1 (count <= batch): fingerprints to fp_out
 * [count][dim], start seconds to t_out [count].  Lets a caller check for
 * cancellation between batches.
 */
sid_status	sid_embed_batch(sid_embedder *e, sid_device_kind device, const float *pcm,
							int64_t n_samples, int64_t first, int count, float *fp_out,
							double *t_out, sid_error *err);
/* All windows at once.  PCM must be mono at the model's sample rate. */
sid_status	sid_embed_pcm(sid_embedder *e, sid_device_kind device, const float *pcm,
						  int64_t n_samples, sid_embed_result *res, sid_error *err);
void		sid_embed_result_free(sid_embed_result *res);

/*
 * The same with n_threads embedders of the same model (one per thread, each
 * with its own FFT and activation scratch), each taking a contiguous share
 * of the windows.  Results equal sid_embed_pcm's.  Set OpenBLAS to one
 * thread first (sid_nn_set_threads(1)): the threads are the parallelism.
 */
#define SID_EMBED_MAX_THREADS 64
sid_status	sid_embed_pcm_parallel(sid_embedder **es, int n_threads, sid_device_kind device,
								   const float *pcm, int64_t n_samples, sid_embed_result *res,
								   sid_error *err);

#endif
