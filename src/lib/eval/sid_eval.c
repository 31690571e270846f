/*
 * sid_eval.c - the identification benchmark; see sid_eval.h.
 */
#include "eval/sid_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/sid_audio.h"
#include "augment/sid_augment.h"
#include "model/sid_embed.h"
#include "core/sid_progress.h"
#include "core/sid_rng.h"

/* Impulse responses in the test pool (seeds sid_rir_seed(TEST, 0..n-1)). */
#define EVAL_TEST_RIRS 1000
/* Stream numbers: excerpt draws and augmentation plans never share one. */
#define STREAM_EXCERPT ((uint64_t) 1 << 40)
#define STREAM_PLAN ((uint64_t) 2 << 40)

/* One excerpt: a query length and where it was cut. */
typedef struct excerpt
{
	int32_t		track;			/* index into the selected tracks */
	int			length_index;
	int64_t		start;			/* samples at the model rate */
	int32_t		nseg;			/* query segments */
} excerpt;

typedef struct eval_state
{
	const sid_eval_config *cfg;
	sid_model  *model;
	int32_t		rate;
	int32_t		dim;
	/* the model is reached only through these (sid_embed.h) */
	sid_embedder *ref[SID_EMBED_MAX_THREADS];	/* reference windows, one per thread */
	int			n_ref;
	sid_embedder *query;		/* query windows, at the query hop */
	float	   *query_fp;		/* [total query segments][dim] */
	sid_augment_config aug_cfg;
	sid_augment_work *aug;
	float	  **clips;
	size_t	   *clip_len;
	sid_noise_bank bank;
	double		embed_seconds;
} eval_state;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* progress(cfg, fmt, ...): a message to the caller's callback, if any */
#define progress(cfg, ...) sid_progressf((cfg)->progress, (cfg)->progress_arg, __VA_ARGS__)

void
sid_eval_config_default(sid_eval_config *cfg)
{
	static const double lengths[] = {1, 2, 3, 5};
	static const double snrs[] = {0, 5, 10, 15, 20};

	memset(cfg, 0, sizeof(*cfg));
	cfg->data_dir = ".";
	cfg->split = "reference";
	cfg->hop_seconds = 0;
	cfg->hop_ratio = 1;
	cfg->k = 20;
	cfg->queries = 100;
	cfg->n_lengths = 4;
	memcpy(cfg->lengths, lengths, sizeof(lengths));
	cfg->n_snrs = 5;
	memcpy(cfg->snrs, snrs, sizeof(snrs));
	cfg->reverb_modes = 3;
	cfg->p_synthetic = 0.25f;
	cfg->seed = 5;
	cfg->batch = 64;
	cfg->threads = 1;
}

/* A whole reference track: fingerprints of every window at the reference hop. */
static sid_status
embed_track(eval_state *st, const sid_pcm *pcm, sid_embed_result *res, sid_error *err)
{
	double		t0 = now_seconds();
	sid_status	rc = sid_embed_pcm_parallel(st->ref, st->n_ref, SID_DEVICE_CPU, pcm->samples,
											pcm->n_samples, res, err);

	st->embed_seconds += now_seconds() - t0;
	return rc;
}

/* The first nseg windows of a degraded query into its rows of query_fp. */
static sid_status
embed_query(eval_state *st, const float *audio, int64_t n, int32_t nseg, int64_t first_row,
			sid_error *err)
{
	double		t0 = now_seconds();
	sid_status	rc;

	if (sid_embed_count(st->query, n) < nseg)
		return sid_fail(err, SID_EINVAL, "eval: a query of %lld samples holds fewer than %d windows",
						(long long) n, nseg);
	rc = sid_embed_batch(st->query, SID_DEVICE_CPU, audio, n, 0, nseg,
						 st->query_fp + first_row * st->dim, NULL, err);
	st->embed_seconds += now_seconds() - t0;
	return rc;
}

static sid_status
load_noise_bank(eval_state *st, const sid_manifest *noise, sid_error *err)
{
	sid_audio_limits lim;
	size_t		n = 0;

	sid_audio_limits_default(&lim);
	if (!noise)
		return SID_OK;
	for (size_t i = 0; i < noise->n; i++)
		n += strcmp(noise->entries[i].split, "test") == 0;
	if (n == 0)
		return SID_OK;
	st->clips = calloc(n, sizeof(float *));
	st->clip_len = calloc(n, sizeof(size_t));
	if (!st->clips || !st->clip_len)
		return sid_fail(err, SID_ENOMEM, "eval: out of memory");
	for (size_t i = 0; i < noise->n; i++)
	{
		const sid_manifest_entry *e = &noise->entries[i];
		char		path[4096];
		sid_pcm		pcm;
		sid_status	rc;

		if (strcmp(e->split, "test") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", st->cfg->data_dir, e->path);
		rc = sid_audio_decode_file(path, st->rate, &lim, NULL, &pcm, err);
		if (rc != SID_OK)
			return rc;
		if (pcm.n_samples == 0)
		{
			sid_pcm_free(&pcm);
			continue;
		}
		st->clips[st->bank.n] = pcm.samples;
		st->clip_len[st->bank.n] = (size_t) pcm.n_samples;
		st->bank.n++;
	}
	st->bank.clips = (const float *const *) st->clips;
	st->bank.lengths = st->clip_len;
	return SID_OK;
}

static void
free_state(eval_state *st)
{
	for (int i = 0; i < st->n_ref; i++)
		sid_embedder_free(st->ref[i]);
	sid_embedder_free(st->query);
	free(st->query_fp);
	sid_augment_work_free(st->aug);
	for (size_t i = 0; i < st->bank.n; i++)
		free(st->clips[i]);
	free(st->clips);
	free(st->clip_len);
}

/* Full query segments in `seconds` of audio: windows of segment_seconds every
 * query hop. */
static int32_t
query_segments(double seconds, double window, double query_hop)
{
	if (seconds + 1e-9 < window)
		return 0;
	return (int32_t) floor((seconds - window) / query_hop + 1e-9) + 1;
}

sid_status
sid_eval_run(sid_model *model, const sid_manifest *music, const sid_manifest *noise,
			 const sid_eval_config *cfg, sid_eval_result *res, sid_error *err)
{
	eval_state	st;
	size_t	   *tracks = NULL;	/* manifest indices of the selected tracks */
	int32_t		n_tracks = 0;
	double	   *cum = NULL;		/* cumulative durations, for weighted draws */
	excerpt    *ex = NULL;
	int64_t		n_ex,
				n_cond,
				n_queries,
				total_segs = 0;
	int			modes[2],
				n_modes = 0;
	int32_t    *q_nseg = NULL;
	int64_t    *q_first = NULL;
	sid_seq_match *answers = NULL;
	sid_seqdb  *db = NULL;
	sid_seqsearch_params sp;
	float	   *view = NULL;
	double		hop,
				window,
				max_len_s = 0,
				t0;
	sid_status	rc = SID_OK;

	memset(&st, 0, sizeof(st));
	memset(res, 0, sizeof(*res));
	st.cfg = cfg;
	st.model = model;

	/* configuration */
	if (!model || !model->enc)
		return sid_fail(err, SID_EINVAL, "eval: no model");
	if (cfg->n_lengths < 1 || cfg->n_lengths > SID_EVAL_MAX_CONDITIONS ||
		cfg->n_snrs < 1 || cfg->n_snrs > SID_EVAL_MAX_CONDITIONS ||
		cfg->queries < 1 || cfg->k < 1 || cfg->hop_ratio < 1 || cfg->batch < 1 ||
		cfg->threads < 1 || cfg->threads > SID_EMBED_MAX_THREADS ||
		(cfg->reverb_modes & 3) == 0 || cfg->hop_seconds < 0)
		return sid_fail(err, SID_EINVAL, "eval: inconsistent configuration");
	st.rate = model->features.sample_rate;
	st.dim = model->enc->cfg.embed_dim;
	window = model->features.segment_seconds;
	hop = cfg->hop_seconds > 0 ? cfg->hop_seconds : model->features.segment_hop_seconds;
	for (int l = 0; l < cfg->n_lengths; l++)
	{
		if (query_segments(cfg->lengths[l], window, hop * cfg->hop_ratio) < 1 || cfg->lengths[l] > 60)
			return sid_fail(err, SID_EINVAL, "eval: a %g s query holds no %g s window (or exceeds 60 s)",
							cfg->lengths[l], window);
		max_len_s = fmax(max_len_s, cfg->lengths[l]);
	}
	for (int r = 0; r < 2; r++)
		if (cfg->reverb_modes & (1 << r))
			modes[n_modes++] = r;
	n_cond = (int64_t) n_modes * cfg->n_snrs;

	for (int i = 0; i < cfg->threads; i++)
	{
		if (!(st.ref[i] = sid_embedder_create(model, hop, cfg->batch, err)))
		{
			rc = err ? err->code : SID_EINVAL;
			goto done;
		}
		st.n_ref++;
	}
	st.query = sid_embedder_create(model, hop * cfg->hop_ratio, cfg->batch, err);
	if (!st.query)
	{
		rc = err ? err->code : SID_EINVAL;
		goto done;
	}
	for (int l = 0; l < cfg->n_lengths; l++)
		if (query_segments(cfg->lengths[l], window, hop * cfg->hop_ratio) > cfg->batch)
		{
			rc = sid_fail(err, SID_EINVAL, "eval: a %g s query has more windows than the batch of %d",
						  cfg->lengths[l], cfg->batch);
			goto done;
		}

	/* the tracks of the split */
	tracks = malloc((music->n ? music->n : 1) * sizeof(size_t));
	cum = malloc((music->n ? music->n : 1) * sizeof(double));
	if (!tracks || !cum)
	{
		rc = sid_fail(err, SID_ENOMEM, "eval: out of memory");
		goto done;
	}
	for (size_t i = 0; i < music->n; i++)
		if (strcmp(music->entries[i].split, cfg->split) == 0 &&
			(cfg->max_tracks == 0 || n_tracks < cfg->max_tracks) &&
			music->entries[i].duration_s >= max_len_s + 0.1)
		{
			tracks[n_tracks] = i;
			cum[n_tracks] = (n_tracks ? cum[n_tracks - 1] : 0) + music->entries[i].duration_s - max_len_s;
			n_tracks++;
		}
	if (n_tracks == 0)
	{
		rc = sid_fail(err, SID_EINVAL, "eval: the manifest has no \"%s\" track longer than %g s",
					  cfg->split, max_len_s);
		goto done;
	}

	/* excerpts: (track, start) per length and query index, from the seed */
	n_ex = (int64_t) cfg->n_lengths * cfg->queries;
	ex = calloc(n_ex, sizeof(*ex));
	if (!ex)
	{
		rc = sid_fail(err, SID_ENOMEM, "eval: out of memory");
		goto done;
	}
	for (int l = 0; l < cfg->n_lengths; l++)
		for (int32_t q = 0; q < cfg->queries; q++)
		{
			excerpt    *e = &ex[(int64_t) l * cfg->queries + q];
			sid_rng		rng;
			double		u,
						start_s;
			int32_t		lo = 0,
						hi = n_tracks - 1;

			sid_rng_init(&rng, cfg->seed, STREAM_EXCERPT + (uint64_t) l * cfg->queries + q);
			u = sid_rng_uniform_double(&rng) * cum[n_tracks - 1];
			while (lo < hi)		/* first track whose cumulative end passes u */
			{
				int32_t		mid = (lo + hi) / 2;

				if (cum[mid] > u)
					hi = mid;
				else
					lo = mid + 1;
			}
			start_s = sid_rng_uniform_double(&rng) *
				(music->entries[tracks[lo]].duration_s - cfg->lengths[l]);
			if (cfg->align_starts)
				start_s = floor(start_s / hop) * hop;
			e->track = lo;
			e->length_index = l;
			e->start = (int64_t) llround(start_s * st.rate);
			e->nseg = query_segments(cfg->lengths[l], window, hop * cfg->hop_ratio);
		}

	/* queries: every excerpt under every condition, segments stacked */
	n_queries = n_ex * n_cond;
	q_nseg = malloc(n_queries * sizeof(int32_t));
	q_first = malloc(n_queries * sizeof(int64_t));
	answers = malloc(n_queries * sizeof(sid_seq_match));
	if (!q_nseg || !q_first || !answers)
	{
		rc = sid_fail(err, SID_ENOMEM, "eval: out of memory");
		goto done;
	}
	for (int64_t i = 0; i < n_queries; i++)
	{
		q_nseg[i] = ex[i / n_cond].nseg;
		q_first[i] = total_segs;
		total_segs += q_nseg[i];
	}
	st.query_fp = malloc(total_segs * st.dim * sizeof(float));
	if (!st.query_fp)
	{
		rc = sid_fail(err, SID_ENOMEM, "eval: out of memory for %lld query segments",
					  (long long) total_segs);
		goto done;
	}

	/* degradation: test noise and test rooms only, no EQ, no gain */
	if ((rc = load_noise_bank(&st, noise, err)) != SID_OK)
		goto done;
	sid_augment_config_default(&st.aug_cfg, (float) st.rate, (size_t) ceil(max_len_s * st.rate) + 1);
	st.aug_cfg.part = SID_PART_TEST;
	st.aug_cfg.n_rirs = EVAL_TEST_RIRS;
	st.aug_cfg.p_noise = 1.0f;
	st.aug_cfg.p_synthetic = cfg->p_synthetic;
	st.aug_cfg.p_eq = 0.0f;
	st.aug_cfg.gain_min_db = st.aug_cfg.gain_max_db = 0.0f;
	st.aug = sid_augment_work_create(&st.aug_cfg, err);
	view = malloc(st.aug_cfg.max_len * sizeof(float));
	if (!st.aug || !view)
	{
		rc = st.aug ? sid_fail(err, SID_ENOMEM, "eval: out of memory") : (err ? err->code : SID_ENOMEM);
		goto done;
	}
	progress(cfg, "%d %s tracks, %d test noise clips, %lld queries of %lld segments",
			 n_tracks, cfg->split, (int) st.bank.n, (long long) n_queries, (long long) total_segs);

	db = sid_seqdb_create(st.dim, hop, err);
	if (!db)
	{
		rc = err ? err->code : SID_ENOMEM;
		goto done;
	}

	/* track by track: reference fingerprints, then the track's queries */
	for (int32_t t = 0; t < n_tracks; t++)
	{
		const sid_manifest_entry *me = &music->entries[tracks[t]];
		char		path[4096];
		sid_audio_limits lim;
		sid_pcm		pcm;
		sid_embed_result er;
		int32_t		id;

		snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, me->path);
		sid_audio_limits_default(&lim);
		if ((rc = sid_audio_decode_file(path, st.rate, &lim, NULL, &pcm, err)) != SID_OK)
			goto done;
		rc = embed_track(&st, &pcm, &er, err);
		if (rc == SID_OK)
		{
			rc = sid_seqdb_add_track(db, er.fp, (int32_t) er.n_segments, &id, err);
			sid_embed_result_free(&er);
		}
		res->ref_seconds += (double) pcm.n_samples / st.rate;

		for (int64_t x = 0; rc == SID_OK && x < n_ex; x++)
		{
			excerpt    *e = &ex[x];
			int64_t		len = (int64_t) llround(cfg->lengths[e->length_index] * st.rate);
			sid_augment_plan plan;
			sid_rng		rng;
			int64_t		preroll;

			if (e->track != t)
				continue;
			if (pcm.n_samples < len)
			{
				rc = sid_fail(err, SID_EFORMAT, "eval: %s decodes to %.2f s, shorter than the manifest says",
							  me->path, (double) pcm.n_samples / st.rate);
				break;
			}
			/* the manifest's duration may differ from the decoded one by a
			 * few samples after resampling */
			if (e->start + len > pcm.n_samples)
				e->start = pcm.n_samples - len;
			preroll = e->start < (int64_t) st.aug_cfg.max_preroll ? e->start : (int64_t) st.aug_cfg.max_preroll;
			/* one plan per excerpt: the conditions differ only in SNR and reverb */
			sid_rng_init(&rng, cfg->seed, STREAM_PLAN + (uint64_t) x);
			sid_augment_draw(&st.aug_cfg, &st.bank, &rng, (size_t) len, &plan);
			for (int64_t c = 0; rc == SID_OK && c < n_cond; c++)
			{
				int64_t		qi = x * n_cond + c;
				double		snr = cfg->snrs[c % cfg->n_snrs];

				plan.reverb = modes[c / cfg->n_snrs];
				plan.snr_db = isfinite(snr) ? (float) snr : 0.0f;
				if (!isfinite(snr))
					plan.noise = SID_AUG_NOISE_NONE;
				else if (plan.noise == SID_AUG_NOISE_NONE)
					plan.noise = SID_AUG_NOISE_SYNTHETIC;
				rc = sid_augment_run(st.aug, &st.bank, &plan, pcm.samples + e->start - preroll,
									 (size_t) preroll, view, (size_t) len, err);
				if (rc == SID_OK)
					rc = embed_query(&st, view, len, q_nseg[qi], q_first[qi], err);
			}
		}
		sid_pcm_free(&pcm);
		if (rc != SID_OK)
			goto done;
		progress(cfg, "track %d/%d %s (database: %lld segments)", t + 1, n_tracks, me->path,
				 (long long) sid_seqdb_n_segments(db));
	}
	/* search and score */
	sid_seqsearch_params_default(&sp);
	sp.k = cfg->k;
	sp.hop_ratio = cfg->hop_ratio;
	t0 = now_seconds();
	rc = sid_seqsearch(db, &sp, st.query_fp, (int32_t) n_queries, q_nseg, answers, err);
	res->search_seconds = now_seconds() - t0;
	if (rc != SID_OK)
		goto done;
	for (int m = 0; m < n_modes; m++)
	{
		rc = sid_hit_table_init(&res->table[modes[m]], cfg->n_lengths, cfg->lengths,
								cfg->n_snrs, cfg->snrs, err);
		if (rc != SID_OK)
			goto done;
		rc = sid_hit_table_init(&res->track[modes[m]], cfg->n_lengths, cfg->lengths,
								cfg->n_snrs, cfg->snrs, err);
		if (rc != SID_OK)
		{
			sid_hit_table_free(&res->table[modes[m]]);
			goto done;
		}
		res->has_table[modes[m]] = 1;
	}
	for (int64_t qi = 0; qi < n_queries; qi++)
	{
		const excerpt *e = &ex[qi / n_cond];
		int64_t		c = qi % n_cond;
		sid_hit		hit = sid_seq_classify(&answers[qi], hop, e->track, (double) e->start / st.rate);

		sid_hit_table_add(&res->table[modes[c / cfg->n_snrs]], e->length_index,
						  (int) (c % cfg->n_snrs), hit);
		sid_hit_table_add(&res->track[modes[c / cfg->n_snrs]], e->length_index,
						  (int) (c % cfg->n_snrs),
						  answers[qi].track == e->track ? SID_HIT_EXACT : SID_HIT_MISS);
	}
	res->ref_tracks = n_tracks;
	res->ref_segments = sid_seqdb_n_segments(db);
	res->hop_seconds = hop;
	res->dim = st.dim;
	res->queries = n_queries;
	res->query_segments = total_segs;
	res->embed_seconds = st.embed_seconds;

done:
	if (rc != SID_OK)
		sid_eval_result_free(res);
	sid_seqdb_free(db);
	free_state(&st);
	free(view);
	free(tracks);
	free(cum);
	free(ex);
	free(q_nseg);
	free(q_first);
	free(answers);
	return rc;
}

void
sid_eval_result_free(sid_eval_result *r)
{
	for (int i = 0; i < 2; i++)
		if (r->has_table[i])
		{
			sid_hit_table_free(&r->table[i]);
			sid_hit_table_free(&r->track[i]);
			r->has_table[i] = 0;
		}
}
