/*
 * sid_pairs.c - on-the-fly positive pairs for contrastive training; see
 * sid_pairs.h.
 */
#include "train/sid_pairs.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sid_audio.h"
#include "audio/sid_mel.h"
#include "core/sid_progress.h"
#include "core/sid_rng.h"

/* Pairs per step are at most this: pair i of step s uses stream s * 2^20 + i. */
#define PAIRS_STREAM_SHIFT 20

struct sid_pair_source
{
	sid_feature_config features;
	sid_augment_config aug;
	int32_t		n_tracks;
	int16_t   **pcm;			/* [n_tracks][len[t]] at the model rate */
	int64_t    *len;
	double		seconds;
	float	  **clips;			/* the noise bank */
	size_t	   *clip_len;
	sid_noise_bank bank;
	int64_t		span;			/* window samples */
	int64_t		context;		/* n_fft / 2: audio a frame sees beyond the window */
	int64_t		max_offset;		/* samples */
	int64_t		window_floats;
};

struct sid_pair_worker
{
	sid_mel    *anchor_mel;		/* windows may start on any sample */
	sid_mel    *view_mel;
	sid_augment_work *aug;
	float	   *buf;			/* the audio a window is computed from */
	float	   *view;			/* the degraded positive span */
};

/* progress(cfg, fmt, ...): a message to the caller's callback, if any */
#define progress(cfg, ...) sid_progressf((cfg)->progress, (cfg)->progress_arg, __VA_ARGS__)

void
sid_pair_source_config_default(sid_pair_source_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->data_dir = ".";
	cfg->split = "train";
	cfg->noise_part = "train";
}

void
sid_pair_source_free(sid_pair_source *src)
{
	if (!src)
		return;
	for (int32_t t = 0; t < src->n_tracks; t++)
		free(src->pcm[t]);
	free(src->pcm);
	free(src->len);
	for (size_t i = 0; i < src->bank.n; i++)
		free(src->clips[i]);
	free(src->clips);
	free(src->clip_len);
	free(src);
}

static sid_status
decode(const char *dir, const char *path, int32_t rate, sid_pcm *pcm, sid_error *err)
{
	char		full[4096];
	sid_audio_limits lim;

	sid_audio_limits_default(&lim);
	snprintf(full, sizeof(full), "%s/%s", dir, path);
	return sid_audio_decode_file(full, rate, &lim, NULL, pcm, err);
}

sid_pair_source *
sid_pair_source_open(const sid_manifest *music, const sid_manifest *noise,
					 const sid_feature_config *features, const sid_augment_config *aug,
					 const sid_pair_source_config *cfg, sid_error *err)
{
	sid_pair_source *src;
	size_t		n_music = 0,
				n_noise = 0;

	if (sid_features_validate(features, err) != SID_OK)
		return NULL;
	src = calloc(1, sizeof(*src));
	if (!src)
	{
		sid_fail(err, SID_ENOMEM, "pairs: out of memory");
		return NULL;
	}
	src->features = *features;
	src->span = sid_features_segment_samples(features);
	src->context = features->n_fft / 2;
	src->window_floats = (int64_t) (1 + src->span / features->hop_length) * features->n_mels;
	if (aug)
		src->aug = *aug;
	else
		sid_augment_config_default(&src->aug, (float) features->sample_rate, (size_t) src->span);
	src->aug.sample_rate = (float) features->sample_rate;
	src->aug.max_len = (size_t) src->span;
	src->max_offset = lroundf(src->aug.max_offset_s * features->sample_rate);

	for (size_t i = 0; i < music->n; i++)
		n_music += strcmp(music->entries[i].split, cfg->split) == 0;
	if (cfg->max_tracks > 0 && n_music > (size_t) cfg->max_tracks)
		n_music = (size_t) cfg->max_tracks;
	if (noise)
		for (size_t i = 0; i < noise->n; i++)
			n_noise += strcmp(noise->entries[i].split, cfg->noise_part) == 0;
	src->pcm = calloc(n_music ? n_music : 1, sizeof(int16_t *));
	src->len = calloc(n_music ? n_music : 1, sizeof(int64_t));
	src->clips = calloc(n_noise ? n_noise : 1, sizeof(float *));
	src->clip_len = calloc(n_noise ? n_noise : 1, sizeof(size_t));
	if (!src->pcm || !src->len || !src->clips || !src->clip_len)
	{
		sid_pair_source_free(src);
		sid_fail(err, SID_ENOMEM, "pairs: out of memory");
		return NULL;
	}

	for (size_t i = 0; i < music->n && (size_t) src->n_tracks < n_music; i++)
	{
		const sid_manifest_entry *e = &music->entries[i];
		sid_pcm		pcm;
		int16_t    *q;

		if (strcmp(e->split, cfg->split) != 0)
			continue;
		if (decode(cfg->data_dir, e->path, features->sample_rate, &pcm, err) != SID_OK)
		{
			sid_pair_source_free(src);
			return NULL;
		}
		if (pcm.n_samples < src->span + 1)
		{
			sid_pcm_free(&pcm);
			sid_pair_source_free(src);
			sid_fail(err, SID_EINVAL, "pairs: %s is shorter than one window", e->path);
			return NULL;
		}
		/* 16 bits halve the memory; the quantisation (-96 dB) is far below
		 * any noise the model is trained with */
		q = malloc((size_t) pcm.n_samples * sizeof(int16_t));
		if (!q)
		{
			sid_pcm_free(&pcm);
			sid_pair_source_free(src);
			sid_fail(err, SID_ENOMEM, "pairs: out of memory for %s", e->path);
			return NULL;
		}
		for (int64_t k = 0; k < pcm.n_samples; k++)
		{
			float		v = pcm.samples[k];

			v = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
			q[k] = (int16_t) lrintf(v * 32767.0f);
		}
		src->pcm[src->n_tracks] = q;
		src->len[src->n_tracks] = pcm.n_samples;
		src->seconds += (double) pcm.n_samples / features->sample_rate;
		src->n_tracks++;
		sid_pcm_free(&pcm);
		progress(cfg, "decoded %d/%zu %s", src->n_tracks, n_music, e->path);
	}
	if (src->n_tracks == 0)
	{
		sid_pair_source_free(src);
		sid_fail(err, SID_EINVAL, "pairs: the manifest has no \"%s\" track", cfg->split);
		return NULL;
	}
	for (size_t i = 0; noise && i < noise->n; i++)
	{
		const sid_manifest_entry *e = &noise->entries[i];
		sid_pcm		pcm;

		if (strcmp(e->split, cfg->noise_part) != 0)
			continue;
		if (decode(cfg->data_dir, e->path, features->sample_rate, &pcm, err) != SID_OK)
		{
			sid_pair_source_free(src);
			return NULL;
		}
		src->clips[src->bank.n] = pcm.samples;
		src->clip_len[src->bank.n] = (size_t) pcm.n_samples;
		src->bank.n++;
	}
	src->bank.clips = (const float *const *) src->clips;
	src->bank.lengths = src->clip_len;
	progress(cfg, "%d %s tracks (%.2f h), %zu \"%s\" noise clips", src->n_tracks, cfg->split,
			 src->seconds / 3600, src->bank.n, cfg->noise_part);
	return src;
}

int32_t
sid_pair_source_tracks(const sid_pair_source *src)
{
	return src->n_tracks;
}

double
sid_pair_source_seconds(const sid_pair_source *src)
{
	return src->seconds;
}

int64_t
sid_pair_window_floats(const sid_pair_source *src)
{
	return src->window_floats;
}

void
sid_pair_worker_free(sid_pair_worker *w)
{
	if (!w)
		return;
	sid_mel_free(w->anchor_mel);
	sid_mel_free(w->view_mel);
	sid_augment_work_free(w->aug);
	free(w->buf);
	free(w->view);
	free(w);
}

sid_pair_worker *
sid_pair_worker_create(const sid_pair_source *src, sid_error *err)
{
	sid_pair_worker *w = calloc(1, sizeof(*w));
	sid_feature_config any_start = src->features;
	int64_t		buf_len = src->span + 2 * src->context;

	if (!w)
	{
		sid_fail(err, SID_ENOMEM, "pairs: out of memory");
		return NULL;
	}
	/* a one-sample segment hop lets segment index = start sample */
	any_start.segment_hop_seconds = 1.0f / (float) src->features.sample_rate;
	if ((int64_t) src->aug.max_preroll + src->span > buf_len)
		buf_len = (int64_t) src->aug.max_preroll + src->span;
	w->buf = malloc((size_t) buf_len * sizeof(float));
	w->view = malloc((size_t) src->span * sizeof(float));
	if (!w->buf || !w->view)
	{
		sid_pair_worker_free(w);
		sid_fail(err, SID_ENOMEM, "pairs: out of memory");
		return NULL;
	}
	if (!(w->anchor_mel = sid_mel_create(&any_start, err)) ||
		!(w->view_mel = sid_mel_create(&src->features, err)) ||
		!(w->aug = sid_augment_work_create(&src->aug, err)))
	{
		sid_pair_worker_free(w);
		return NULL;
	}
	if (sid_mel_frames_per_segment(w->view_mel) * (int64_t) src->features.n_mels != src->window_floats)
	{
		sid_pair_worker_free(w);
		sid_fail(err, SID_EINVAL, "pairs: window geometry disagrees with the features");
		return NULL;
	}
	return w;
}

static void
to_float(const int16_t *in, int64_t n, float *out)
{
	for (int64_t i = 0; i < n; i++)
		out[i] = in[i] * (1.0f / 32767.0f);
}

sid_status
sid_pair_make(const sid_pair_source *src, sid_pair_worker *w, uint64_t seed,
			  int64_t step, int32_t first, int32_t count, int32_t pairs,
			  float *windows, sid_pair_info *info, sid_error *err)
{
	if (pairs < 1 || pairs >= (1 << PAIRS_STREAM_SHIFT) || first < 0 || count < 0 ||
		first + count > pairs || step < 0)
		return sid_fail(err, SID_EINVAL, "pairs: pairs %d..%d of %d (at most %d) at step %lld",
						first, first + count - 1, pairs, (1 << PAIRS_STREAM_SHIFT) - 1, (long long) step);
	for (int32_t i = first; i < first + count; i++)
	{
		sid_rng		rng;
		int32_t		t;
		int64_t		n,
					a,
					p,
					s0,
					s1,
					preroll;
		sid_augment_plan plan;
		sid_status	rc;

		sid_rng_init(&rng, seed, ((uint64_t) step << PAIRS_STREAM_SHIFT) + (uint64_t) i);
		t = (int32_t) sid_rng_below(&rng, (uint64_t) src->n_tracks);
		n = src->len[t];
		a = (int64_t) sid_rng_below(&rng, (uint64_t) (n - src->span + 1));
		p = a + (int64_t) sid_rng_below(&rng, (uint64_t) (2 * src->max_offset + 1)) - src->max_offset;
		p = p < 0 ? 0 : p > n - src->span ? n - src->span : p;
		sid_augment_draw(&src->aug, &src->bank, &rng, (size_t) src->span, &plan);

		/* anchor: the window as the reference database computes it */
		s0 = a - src->context < 0 ? 0 : a - src->context;
		s1 = a + src->span + src->context > n ? n : a + src->span + src->context;
		to_float(src->pcm[t] + s0, s1 - s0, w->buf);
		rc = sid_mel_segments(w->anchor_mel, w->buf, s1 - s0, a - s0, 1,
							  windows + (int64_t) i * src->window_floats, NULL, err);
		if (rc != SID_OK)
			return rc;

		/* positive: degraded span, analysed on its own like a query */
		preroll = p < (int64_t) src->aug.max_preroll ? p : (int64_t) src->aug.max_preroll;
		to_float(src->pcm[t] + p - preroll, preroll + src->span, w->buf);
		rc = sid_augment_run(w->aug, &src->bank, &plan, w->buf, (size_t) preroll, w->view,
							 (size_t) src->span, err);
		if (rc == SID_OK)
			rc = sid_mel_segments(w->view_mel, w->view, src->span, 0, 1,
								  windows + (int64_t) (pairs + i) * src->window_floats, NULL, err);
		if (rc != SID_OK)
			return rc;
		if (info)
		{
			info[i - first].track = t;
			info[i - first].anchor_start = a;
			info[i - first].positive_start = p;
			info[i - first].plan = plan;
		}
	}
	return SID_OK;
}

typedef struct batch_job
{
	const sid_pair_source *src;
	sid_pair_worker *w;
	uint64_t	seed;
	int64_t		step;
	int32_t		first,
				count,
				pairs;
	float	   *windows;
	sid_status	rc;
	sid_error	err;
} batch_job;

static void *
batch_thread(void *arg)
{
	batch_job  *j = arg;

	j->rc = sid_pair_make(j->src, j->w, j->seed, j->step, j->first, j->count, j->pairs,
						  j->windows, NULL, &j->err);
	return NULL;
}

sid_status
sid_pair_batch(const sid_pair_source *src, sid_pair_worker **workers, int n_workers,
			   uint64_t seed, int64_t step, int32_t pairs, float *windows, sid_error *err)
{
	batch_job	jobs[16];
	pthread_t	threads[16];
	int			started[16] = {0};
	sid_status	rc = SID_OK;

	if (n_workers < 1 || n_workers > 16)
		return sid_fail(err, SID_EINVAL, "pairs: 1 to 16 workers, not %d", n_workers);
	for (int k = 0; k < n_workers; k++)
	{
		jobs[k] = (batch_job)
		{
			.src = src,.w = workers[k],.seed = seed,.step = step,
				.first = (int32_t) ((int64_t) pairs * k / n_workers),
				.pairs = pairs,.windows = windows,.rc = SID_OK
		};
		jobs[k].count = (int32_t) ((int64_t) pairs * (k + 1) / n_workers) - jobs[k].first;
	}
	/* worker 0 runs on the calling thread */
	for (int k = 1; k < n_workers; k++)
		started[k] = pthread_create(&threads[k], NULL, batch_thread, &jobs[k]) == 0;
	for (int k = 1; k < n_workers; k++)
		if (!started[k])
			batch_thread(&jobs[k]);
	batch_thread(&jobs[0]);
	for (int k = 1; k < n_workers; k++)
		if (started[k])
			pthread_join(threads[k], NULL);
	for (int k = 0; k < n_workers && rc == SID_OK; k++)
		if (jobs[k].rc != SID_OK)
		{
			rc = jobs[k].rc;
			if (err)
				*err = jobs[k].err;
		}
	return rc;
}
