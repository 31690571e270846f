/*
 * sid_pairs.c - on-the-fly positive pairs for contrastive training; see
 * sid_pairs.h.
 */
#include "train/sid_pairs.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sid_mel.h"
#include "core/sid_pcm16.h"
#include "core/sid_rng.h"
#include "corpus/sid_bank.h"

struct sid_pair_source
{
	const sid_track_cache *tracks;
	const sid_noise_bank *bank;
	sid_feature_config features;
	sid_augment_config aug;
	int64_t		win;			/* window samples */
	int64_t		hop;			/* segment hop samples: the anchor's context each side */
	int64_t		max_offset;		/* samples */
	int64_t		window_floats;
	int			sample;			/* the sample recipe (sid_pair_source_set_sample) */
	sid_music_config music;
	const sid_noise_bank *overlays;
	float		p_track_overlay;
	int64_t		max_in;			/* the longest span the musical chain takes */
	sid_bank_map *banks;		/* per track, when bank-fed (set_bank) */
};

struct sid_pair_worker
{
	sid_mel    *mel;
	sid_augment_work *aug;
	float	   *ctx;			/* hop + window + hop, the anchor's input */
	float	   *span;			/* the positive's input: preroll + window, or max_in */
	float	   *view;			/* the degraded window */
	float	   *ovl;			/* max_in: the sample recipe's overlay from a track */
	float	   *produced;		/* window: the musical chain's output */
};

sid_pair_source *
sid_pair_source_create(const sid_track_cache *tracks, const sid_noise_bank *bank,
					   const sid_feature_config *features, const sid_augment_config *aug,
					   sid_error *err)
{
	sid_pair_source *src;

	if (sid_features_validate(features, err) != SID_OK)
		return NULL;
	if (tracks->n < 1 || tracks->total_samples == 0)
	{
		sid_fail(err, SID_EINVAL, "pairs: no track to draw from");
		return NULL;
	}
	src = calloc(1, sizeof(*src));
	if (!src)
	{
		sid_fail(err, SID_ENOMEM, "pairs: out of memory");
		return NULL;
	}
	src->tracks = tracks;
	src->bank = bank;
	src->features = *features;
	src->win = sid_features_segment_samples(features);
	src->hop = sid_features_segment_hop_samples(features);
	src->window_floats = (int64_t) (1 + src->win / features->hop_length) * features->n_mels;
	if (aug)
		src->aug = *aug;
	else
		sid_augment_config_default(&src->aug, (float) features->sample_rate, (size_t) src->win);
	src->aug.sample_rate = (float) features->sample_rate;
	src->aug.max_len = (size_t) src->win;
	src->max_offset = lroundf(src->aug.max_offset_s * src->aug.sample_rate);
	return src;
}

void
sid_pair_source_free(sid_pair_source *src)
{
	if (!src)
		return;
	for (int32_t t = 0; src->banks && t < src->tracks->n; t++)
		sid_bank_map_close(&src->banks[t]);
	free(src->banks);
	free(src);
}

/* Track t's bank is usable: the first track's variants, lengths that fit. */
static sid_status
check_bank(const sid_pair_source *src, int32_t t, const char *file, sid_error *err)
{
	const sid_bank_map *b = &src->banks[t],
			   *first = b;
	int			shifts = 0,
				stretches = 0;

	for (int32_t u = 0; u < t && first == b; u++)
		if (src->banks[u].map)
			first = &src->banks[u];

	if (b->rate != src->features.sample_rate || b->nv != first->nv ||
		memcmp(b->v, first->v, sizeof(b->v[0]) * b->nv) != 0)
		return sid_fail(err, SID_EINVAL, "pairs: %s holds other variants or another rate than the first bank",
						file);
	for (int k = 0; k < b->nv; k++)
	{
		int64_t		want = llround((double) src->tracks->len[t] * b->v[k].time_ratio);

		if (llabs(b->len[k] - want) > 1)
			return sid_fail(err, SID_EINVAL, "pairs: the bank of %s is stale (%lld samples, the track now gives %lld)",
							src->tracks->name[t], (long long) b->len[k], (long long) want);
		shifts += b->v[k].time_ratio == 1 && b->v[k].semitones != 0;
		stretches += b->v[k].semitones == 0 && b->v[k].time_ratio != 1;
	}
	if (!shifts || !stretches)
		return sid_fail(err, SID_EINVAL, "pairs: %s needs a pitch-only and a stretch-only variant", file);
	return SID_OK;
}

sid_status
sid_pair_source_set_bank(sid_pair_source *src, const char *bank_dir, sid_error *err)
{
	const sid_track_cache *c = src->tracks;
	char		file[4096];

	if (!src->sample || src->banks)
		return sid_fail(err, SID_EINVAL, "pairs: a bank feeds a sample-recipe source, once");
	if (!(src->banks = calloc((size_t) c->n, sizeof(*src->banks))))
		return sid_fail(err, SID_ENOMEM, "pairs: out of memory");
	for (int32_t t = 0; t < c->n; t++)
	{
		sid_status	rc;

		if (c->len[t] == 0)
			continue;			/* never drawn */
		sid_bank_file_name(file, sizeof(file), bank_dir, c->name[t], src->features.sample_rate);
		rc = sid_bank_map_open(file, &src->banks[t], err);
		if (rc == SID_OK)
			rc = check_bank(src, t, file, err);
		if (rc != SID_OK)
		{
			for (int32_t u = 0; u <= t; u++)
				sid_bank_map_close(&src->banks[u]);
			free(src->banks);
			src->banks = NULL;
			return rc;
		}
	}
	return SID_OK;
}

/* The bank variant nearest the plan's shift or stretch; the plan takes its values. */
static int
nearest_variant(const sid_bank_map *b, sid_music_plan *plan)
{
	int			best = -1;
	double		best_d = INFINITY;

	for (int k = 0; k < b->nv; k++)
	{
		const sid_bank_variant *v = &b->v[k];
		double		d = plan->transform == SID_MUSIC_PITCH ?
			(v->time_ratio == 1 && v->semitones != 0 ? fabs(v->semitones - plan->semitones) : INFINITY) :
			(v->semitones == 0 && v->time_ratio != 1 ? fabs(log(v->time_ratio / plan->time_ratio)) : INFINITY);

		if (d < best_d)
		{
			best_d = d;
			best = k;
		}
	}
	plan->semitones = b->v[best].semitones;
	plan->time_ratio = b->v[best].time_ratio;
	return best;
}

sid_status
sid_pair_source_set_sample(sid_pair_source *src, const sid_music_config *music,
						   const sid_noise_bank *overlays, float p_track_overlay,
						   const sid_augment_config *room, sid_error *err)
{
	sid_music_plan longest = {.transform = SID_MUSIC_STRETCH};
	sid_music_plan as_is = {.transform = SID_MUSIC_NONE};
	float		rate = (float) src->features.sample_rate;
	sid_status	rc;

	if (!(p_track_overlay >= 0 && p_track_overlay <= 1))
		return sid_fail(err, SID_EINVAL, "pairs: p_track_overlay %g outside 0 .. 1", p_track_overlay);
	if (music)
		src->music = *music;
	else
		sid_music_config_default(&src->music, rate, (size_t) src->win);
	src->music.sample_rate = rate;
	src->music.max_len = (size_t) src->win;
	if ((rc = sid_music_config_check(&src->music, err)) != SID_OK)
		return rc;
	if (room)
		src->aug = *room;
	else
		sid_music_room_defaults(&src->aug, rate, (size_t) src->win);
	src->aug.sample_rate = rate;
	src->aug.max_len = (size_t) src->win;
	src->max_offset = lroundf(src->aug.max_offset_s * src->aug.sample_rate);
	longest.time_ratio = src->music.stretch_min;
	src->max_in = (int64_t) sid_music_input_len(&longest, (size_t) src->win);
	if (src->max_in < (int64_t) sid_music_input_len(&as_is, (size_t) src->win))
		src->max_in = (int64_t) sid_music_input_len(&as_is, (size_t) src->win);
	src->overlays = overlays;
	src->p_track_overlay = p_track_overlay;
	src->sample = 1;
	return SID_OK;
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
	sid_mel_free(w->mel);
	sid_augment_work_free(w->aug);
	free(w->ctx);
	free(w->span);
	free(w->view);
	free(w->ovl);
	free(w->produced);
	free(w);
}

sid_pair_worker *
sid_pair_worker_create(const sid_pair_source *src, sid_error *err)
{
	sid_pair_worker *w = calloc(1, sizeof(*w));
	int64_t		span = (int64_t) src->aug.max_preroll + src->win;

	if (!w)
	{
		sid_fail(err, SID_ENOMEM, "pairs: out of memory");
		return NULL;
	}
	w->ctx = malloc(sizeof(float) * (2 * src->hop + src->win));
	w->span = malloc(sizeof(float) * (src->max_in > span ? src->max_in : span));
	w->view = malloc(sizeof(float) * src->win);
	w->ovl = src->sample ? malloc(sizeof(float) * src->max_in) : NULL;
	w->produced = src->sample ? malloc(sizeof(float) * src->win) : NULL;
	if (!w->ctx || !w->span || !w->view || (src->sample && (!w->ovl || !w->produced)))
	{
		sid_pair_worker_free(w);
		sid_fail(err, SID_ENOMEM, "pairs: out of memory");
		return NULL;
	}
	if (!(w->mel = sid_mel_create(&src->features, err)) ||
		!(w->aug = sid_augment_work_create(&src->aug, err)))
	{
		sid_pair_worker_free(w);
		return NULL;
	}
	if (sid_mel_frames_per_segment(w->mel) * (int64_t) src->features.n_mels != src->window_floats)
	{
		sid_pair_worker_free(w);
		sid_fail(err, SID_EINVAL, "pairs: window geometry disagrees with the features");
		return NULL;
	}
	return w;
}

/* The fp recipe's positive: degraded by the fp chain, framed alone as a query is. */
static sid_status
fp_positive(const sid_pair_source *src, sid_pair_worker *w, sid_rng *rng, int32_t t,
			int64_t start, float *window, sid_pair_info *info, sid_error *err)
{
	const sid_track_cache *c = src->tracks;
	int64_t		start2 = start + sid_augment_offset(&src->aug, rng),
				preroll = start2 < (int64_t) src->aug.max_preroll ? start2 : (int64_t) src->aug.max_preroll;
	sid_status	rc;

	sid_pcm16_to_float(c->pcm[t] + start2 - preroll, preroll + src->win, w->span);
	sid_augment_draw(&src->aug, src->bank, rng, (size_t) src->win, &info->plan);
	rc = sid_augment_run(w->aug, src->bank, &info->plan, w->span, (size_t) preroll, w->view,
						 (size_t) src->win, err);
	if (rc == SID_OK)
		rc = sid_mel_segments(w->mel, w->view, src->win, 0, 1, window, NULL, err);
	info->positive_start = start2;
	info->overlay_track = -1;
	return rc;
}

/*
 * The overlay of a sample pair: another track into w->ovl (as a one-clip
 * bank in *one) or the overlay bank.  Returns the bank the plan draws from.
 */
static const sid_noise_bank *
pick_overlay(const sid_pair_source *src, sid_pair_worker *w, sid_rng *rng, int32_t t,
			 sid_noise_bank *one, const float **clip, size_t *len, int32_t *track)
{
	const sid_track_cache *c = src->tracks;
	int			from_track = sid_rng_uniform(rng) < src->p_track_overlay ||
		!src->overlays || src->overlays->n == 0;
	int32_t		t2 = sid_pick_weighted(c->cum, c->n, rng);
	int64_t		at;

	*track = -1;
	if (!from_track || c->n < 2)
		return src->overlays;
	if (t2 == t)
		t2 = (t + 1) % c->n;
	at = c->len[t2] > 0 ? (int64_t) sid_rng_below(rng, (uint64_t) c->len[t2]) : 0;
	/* a track shorter than the span repeats, as a loop would */
	for (int64_t i = 0; i < src->max_in;)
	{
		int64_t		piece = c->len[t2] - at < src->max_in - i ? c->len[t2] - at : src->max_in - i;

		if (piece <= 0)
		{
			memset(w->ovl + i, 0, (size_t) (src->max_in - i) * sizeof(float));
			break;
		}
		sid_pcm16_to_float(c->pcm[t2] + at, piece, w->ovl + i);
		i += piece;
		at = 0;
	}
	*clip = w->ovl;
	*len = (size_t) src->max_in;
	*one = (sid_noise_bank) {clip, len, 1};
	*track = t2;
	return one;
}

/*
 * The musical chain from a bank: the variant nearest the plan, cut around
 * where the original's sample `centre` went, then the chain without its
 * transform.
 */
static sid_status
banked_positive(const sid_pair_source *src, sid_pair_worker *w, int32_t t, int64_t centre,
				const sid_noise_bank *ovl, sid_music_plan *plan, sid_error *err)
{
	const sid_bank_map *b = &src->banks[t];
	int			k = nearest_variant(b, plan);
	sid_music_plan rest = *plan;
	int64_t		n_in,
				from;

	rest.transform = SID_MUSIC_NONE;
	n_in = (int64_t) sid_music_input_len(&rest, (size_t) src->win);
	from = llround((double) centre * b->v[k].time_ratio) - n_in / 2;
	if (from < 0 || from + n_in > b->len[k])
		return sid_fail(err, SID_EINVAL, "pairs: %s's bank variant %d is too short here",
						src->tracks->name[t], k);
	sid_pcm16_to_float(b->pcm[k] + from, n_in, w->span);
	return sid_music_run(&src->music, ovl, &rest, w->span, w->produced, (size_t) src->win, err);
}

/* The sample recipe's positive (sid_pairs.h). */
static sid_status
sample_positive(const sid_pair_source *src, sid_pair_worker *w, sid_rng *rng, int32_t t,
				int64_t start, float *window, sid_pair_info *info, sid_error *err)
{
	const sid_track_cache *c = src->tracks;
	sid_noise_bank one;
	const float *clip = NULL;
	size_t		len = 0,
				n_in;
	const sid_noise_bank *ovl = pick_overlay(src, w, rng, t, &one, &clip, &len, &info->overlay_track);
	int64_t		start2;
	sid_status	rc;

	sid_music_draw(&src->music, ovl, rng, &info->music);
	if (info->overlay_track >= 0)
		info->music.clip_start = 0;
	n_in = sid_music_input_len(&info->music, (size_t) src->win);
	start2 = start + src->win / 2 - (int64_t) n_in / 2 + sid_augment_offset(&src->aug, rng);
	if (src->banks && info->music.transform != SID_MUSIC_NONE)
		rc = banked_positive(src, w, t, start2 + (int64_t) n_in / 2, ovl, &info->music, err);
	else
	{
		sid_pcm16_to_float(c->pcm[t] + start2, (int64_t) n_in, w->span);
		rc = sid_music_run(&src->music, ovl, &info->music, w->span, w->produced, (size_t) src->win,
						   err);
	}
	sid_augment_draw(&src->aug, src->bank, rng, (size_t) src->win, &info->plan);
	if (rc == SID_OK)
		rc = sid_augment_run(w->aug, src->bank, &info->plan, w->produced, 0, w->view,
							 (size_t) src->win, err);
	if (rc == SID_OK)
		rc = sid_mel_segments(w->mel, w->view, src->win, 0, 1, window, NULL, err);
	info->positive_start = start2;
	return rc;
}

/* Pair i of a step: anchor into windows[i], positive into windows[pairs + i]. */
static sid_status
make_pair(const sid_pair_source *src, sid_pair_worker *w, uint64_t seed, int64_t step,
		  int32_t i, int32_t pairs, float *windows, sid_pair_info *info, sid_error *err)
{
	const sid_track_cache *c = src->tracks;
	sid_rng		rng;
	sid_pair_info drawn;
	int32_t		t;
	int64_t		ctx = src->hop,
				first,
				last,
				start;
	sid_status	rc;

	sid_rng_init(&rng, seed, SID_PAIR_STREAM + (uint64_t) step * pairs + i);
	t = sid_pick_weighted(c->cum, c->n, &rng);
	/* the anchor needs a hop of context each side, the positive may start
	 * max_offset away; a sample pair's span may reach further */
	if (src->sample && (src->max_in - src->win) / 2 + 1 > ctx)
		ctx = (src->max_in - src->win) / 2 + 1;
	first = ctx + src->max_offset;
	last = c->len[t] - src->win - ctx - src->max_offset;
	if (last < first)
		return sid_fail(err, SID_EINVAL, "train: %s is too short (%.2f s)", c->name[t],
						(double) c->len[t] / src->features.sample_rate);
	start = first + (int64_t) sid_rng_below(&rng, (uint64_t) (last - first + 1));

	/* anchor: segment 1 of [start - hop, start + win + hop) */
	sid_pcm16_to_float(c->pcm[t] + start - src->hop, 2 * src->hop + src->win, w->ctx);
	rc = sid_mel_segments(w->mel, w->ctx, 2 * src->hop + src->win, 1, 1,
						  windows + (int64_t) i * src->window_floats, NULL, err);
	if (rc != SID_OK)
		return rc;
	memset(&drawn, 0, sizeof(drawn));
	rc = (src->sample ? sample_positive : fp_positive) (src, w, &rng, t, start,
														windows + (int64_t) (pairs + i) * src->window_floats,
														&drawn, err);
	if (rc == SID_OK && info)
	{
		drawn.track = t;
		drawn.anchor_start = start;
		*info = drawn;
	}
	return rc;
}

sid_status
sid_pair_make(const sid_pair_source *src, sid_pair_worker *w, uint64_t seed,
			  int64_t step, int32_t first, int32_t count, int32_t pairs,
			  float *windows, sid_pair_info *info, sid_error *err)
{
	sid_status	rc = SID_OK;

	if (pairs < 1 || first < 0 || count < 0 || first + count > pairs || step < 0)
		return sid_fail(err, SID_EINVAL, "pairs: pairs %d..%d of %d at step %lld",
						first, first + count - 1, pairs, (long long) step);
	for (int32_t i = first; rc == SID_OK && i < first + count; i++)
		rc = make_pair(src, w, seed, step, i, pairs, windows, info ? &info[i - first] : NULL, err);
	return rc;
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
	batch_job	jobs[SID_PAIR_MAX_WORKERS];
	pthread_t	threads[SID_PAIR_MAX_WORKERS];
	int			started[SID_PAIR_MAX_WORKERS] = {0};

	if (n_workers < 1 || n_workers > SID_PAIR_MAX_WORKERS)
		return sid_fail(err, SID_EINVAL, "pairs: 1 to %d workers, not %d", SID_PAIR_MAX_WORKERS,
						n_workers);
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
	/* a worker whose thread does not start runs on the calling thread */
	for (int k = 1; k < n_workers; k++)
		started[k] = pthread_create(&threads[k], NULL, batch_thread, &jobs[k]) == 0;
	for (int k = 1; k < n_workers; k++)
		if (!started[k])
			batch_thread(&jobs[k]);
	batch_thread(&jobs[0]);
	for (int k = 1; k < n_workers; k++)
		if (started[k])
			pthread_join(threads[k], NULL);
	for (int k = 0; k < n_workers; k++)
		if (jobs[k].rc != SID_OK)
		{
			if (err)
				*err = jobs[k].err;
			return jobs[k].rc;
		}
	return SID_OK;
}
