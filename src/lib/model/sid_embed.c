/*
 * sid_embed.c - audio to fingerprints, a batch of windows at a time.
 */
#include "model/sid_embed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

sid_embedder *
sid_embedder_create(const sid_model *model, double hop_seconds, int batch, sid_error *err)
{
	sid_embedder *e;
	const sid_encoder_config *cfg = &model->enc->cfg;

	if (batch < 1 || batch > 4096)
	{
		sid_fail(err, SID_EINVAL, "embedding batch %d must be within 1..4096", batch);
		return NULL;
	}
	if (hop_seconds < 0 || hop_seconds > 600)
	{
		sid_fail(err, SID_EINVAL, "segment hop %g s must be within 0..600 (0 = the model's)", hop_seconds);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
	{
		sid_fail(err, SID_ENOMEM, "out of memory");
		return NULL;
	}
	e->model = model;
	e->features = model->features;
	if (hop_seconds > 0)
		e->features.segment_hop_seconds = (float) hop_seconds;
	if (sid_features_segment_hop_samples(&e->features) < 1)
	{
		sid_fail(err, SID_EINVAL, "segment hop %g s is shorter than one sample", hop_seconds);
		free(e);
		return NULL;
	}
	e->batch = batch;
	e->mel = sid_mel_create(&e->features, err);
	if (!e->mel)
	{
		free(e);
		return NULL;
	}
	if (sid_mel_frames_per_segment(e->mel) != cfg->n_frames ||
		sid_mel_config(e->mel)->n_mels != cfg->n_mels)
	{
		sid_fail(err, SID_EFORMAT, "model expects %d x %d windows but its features give %d x %d",
				 cfg->n_frames, cfg->n_mels, sid_mel_frames_per_segment(e->mel),
				 sid_mel_config(e->mel)->n_mels);
		sid_embedder_free(e);
		return NULL;
	}
	e->windows = malloc(sizeof(float) * (size_t) batch * cfg->n_frames * cfg->n_mels);
	if (!e->windows)
	{
		sid_fail(err, SID_ENOMEM, "out of memory for a batch of %d windows", batch);
		sid_embedder_free(e);
		return NULL;
	}
	if (sid_encoder_acts_alloc(&e->acts, cfg, batch, 0, err) != SID_OK)
	{
		sid_embedder_free(e);
		return NULL;
	}
	return e;
}

void
sid_embedder_free(sid_embedder *e)
{
	if (!e)
		return;
	sid_mel_free(e->mel);
	sid_encoder_acts_free(&e->acts);
	free(e->windows);
	free(e);
}

void
sid_embed_result_free(sid_embed_result *res)
{
	free(res->fp);
	free(res->t_start);
	memset(res, 0, sizeof(*res));
}

int64_t
sid_embed_count(const sid_embedder *e, int64_t n_samples)
{
	return n_samples > 0 ? sid_mel_n_segments(e->mel, n_samples) : 0;
}

sid_status
sid_embed_batch(sid_embedder *e, sid_device_kind device, const float *pcm, int64_t n_samples,
				int64_t first, int count, float *fp_out, double *t_out, sid_error *err)
{
	sid_status	st;

	if (count < 1 || count > e->batch)
		return sid_fail(err, SID_EINVAL, "batch of %d windows exceeds the embedder's %d", count, e->batch);
	if ((st = sid_mel_segments(e->mel, pcm, n_samples, first, count, e->windows, t_out, err)) != SID_OK)
		return st;
	return sid_encoder_forward(e->model->enc, device, &e->acts, e->windows, count, fp_out, NULL, err);
}

/* One thread's share of the windows: [first, last). */
typedef struct embed_job
{
	sid_embedder *e;
	sid_device_kind device;
	const float *pcm;
	int64_t		n_samples,
				first,
				last;
	sid_embed_result *res;
	sid_status	st;
	sid_error	err;
} embed_job;

static void *
embed_range(void *arg)
{
	embed_job  *j = arg;
	int			D = j->res->dim;

	j->st = SID_OK;
	for (int64_t first = j->first; first < j->last && j->st == SID_OK; first += j->e->batch)
	{
		int			n = (int) (j->last - first < j->e->batch ? j->last - first : j->e->batch);

		j->st = sid_embed_batch(j->e, j->device, j->pcm, j->n_samples, first, n,
								j->res->fp + (size_t) first * D, j->res->t_start + first, &j->err);
	}
	return NULL;
}

sid_status
sid_embed_pcm_parallel(sid_embedder **es, int n_threads, sid_device_kind device,
					   const float *pcm, int64_t n_samples, sid_embed_result *res, sid_error *err)
{
	int			D = es[0]->model->enc->cfg.embed_dim;
	int64_t		S = sid_embed_count(es[0], n_samples);
	embed_job	jobs[SID_EMBED_MAX_THREADS];
	pthread_t	threads[SID_EMBED_MAX_THREADS];
	int			started[SID_EMBED_MAX_THREADS] = {0};
	int64_t		share;

	memset(res, 0, sizeof(*res));
	if (n_threads < 1 || n_threads > SID_EMBED_MAX_THREADS)
		return sid_fail(err, SID_EINVAL, "%d embedding threads (1 to %d allowed)", n_threads,
						SID_EMBED_MAX_THREADS);
	res->dim = D;
	res->n_segments = S;
	if (S == 0)
		return SID_OK;
	res->fp = malloc(sizeof(float) * (size_t) S * D);
	res->t_start = malloc(sizeof(double) * (size_t) S);
	if (!res->fp || !res->t_start)
	{
		sid_embed_result_free(res);
		return sid_fail(err, SID_ENOMEM, "out of memory for %lld fingerprints", (long long) S);
	}
	/* contiguous shares in whole batches, so every thread runs full batches but the last */
	share = ((S + n_threads - 1) / n_threads + es[0]->batch - 1) / es[0]->batch * es[0]->batch;
	for (int i = 0; i < n_threads; i++)
	{
		jobs[i] = (embed_job) {
			.e = es[i], .device = device, .pcm = pcm, .n_samples = n_samples,
			.first = i * share < S ? i * share : S,
			.last = (i + 1) * share < S ? (i + 1) * share : S,
			.res = res, .st = SID_OK
		};
	}
	for (int i = 1; i < n_threads; i++)
		started[i] = pthread_create(&threads[i], NULL, embed_range, &jobs[i]) == 0;
	for (int i = 1; i < n_threads; i++)
		if (!started[i])
			embed_range(&jobs[i]);	/* no thread: do that share here */
	embed_range(&jobs[0]);
	for (int i = 1; i < n_threads; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	for (int i = 0; i < n_threads; i++)
		if (jobs[i].st != SID_OK)
		{
			if (err)
				*err = jobs[i].err;
			sid_embed_result_free(res);
			return jobs[i].st;
		}
	return SID_OK;
}

sid_status
sid_embed_pcm(sid_embedder *e, sid_device_kind device, const float *pcm, int64_t n_samples,
			  sid_embed_result *res, sid_error *err)
{
	return sid_embed_pcm_parallel(&e, 1, device, pcm, n_samples, res, err);
}
