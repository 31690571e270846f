/*
 * sid_eval.c - the identification benchmark; see sid_eval.h.
 *
 * sid_eval_run goes through its phases in order, each a function below:
 * check the configuration, create the embedders, select the split's tracks,
 * draw the excerpts, lay out the queries, prepare the degradation (noise and
 * rooms, or the sample conditions' overlays), then track by track the
 * reference fingerprints and the track's queries (each degraded query, and
 * its transposed copies if asked), and finally search and score.
 */
#include "eval/sid_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sid_audio.h"
#include "audio/sid_stretch.h"
#include "augment/sid_augment.h"
#include "core/sid_clock.h"
#include "core/sid_progress.h"
#include "core/sid_rng.h"
#include "corpus/sid_corpus.h"
#include "model/sid_embed.h"

/* Impulse responses in the test pool (seeds sid_rir_seed(TEST, 0..n-1)). */
#define EVAL_TEST_RIRS 1000
/* Stream numbers: excerpt draws and augmentation plans never share one. */
#define STREAM_EXCERPT ((uint64_t) 1 << 40)
#define STREAM_PLAN ((uint64_t) 2 << 40)
#define STREAM_OVERLAY ((uint64_t) 3 << 40)	/* an excerpt's overlay clips */
#define STREAM_MUSIC_CLIPS ((uint64_t) 4 << 40) /* where music clips are cut */
/* Music overlay clips cut from each track of the other split. */
#define MUSIC_CLIPS_PER_TRACK 2

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
	double		window;			/* seconds */
	double		hop;			/* reference hop, seconds */
	double		max_len_s;		/* the longest query */
	int			modes[2];		/* reverberation off (0) / on (1), as configured */
	int			n_modes;
	int64_t		n_cond;			/* conditions: modes x SNRs, or the sample conditions */
	int			n_copies;		/* searched copies of each degraded query */
	double		lead_s;			/* sample mode: reference audio before an excerpt */
	/* the model is reached only through these (sid_embed.h) */
	sid_embedder *ref[SID_EMBED_MAX_THREADS];	/* reference windows, one per thread */
	int			n_ref;
	sid_embedder *query;		/* query windows, at the query hop */
	/* the selected tracks */
	size_t	   *tracks;			/* their manifest indices */
	int32_t		n_tracks;
	double	   *cum;			/* cumulative durations, for weighted draws */
	/* excerpts and queries: degraded query dq = x * n_cond + c is excerpt x
	 * under condition c; its copy k is query qi = dq * n_copies + k */
	excerpt    *ex;
	int64_t		n_ex;
	int64_t		n_queries;
	int32_t    *q_nseg;
	int64_t    *q_first;		/* first row of each query in query_fp */
	int64_t		total_segs;
	float	   *query_fp;		/* [total query segments][dim] */
	sid_seq_match *answers;
	/* degradation */
	sid_noise_store noise;
	sid_augment_config aug_cfg;
	sid_augment_work *aug;
	float	   *view;			/* one degraded query */
	sid_noise_store overlay[2]; /* sample mode: [0] other music, [1] drum loops */
	sid_seqdb  *db;
	double		embed_seconds;
	double		transpose_cpu;
	double		condition_cpu;
	int64_t		copied;
} eval_state;

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
	cfg->mode = SID_EVAL_NOISE;
	cfg->n_sample = sid_conditions_default(cfg->sample, SID_EVAL_MAX_SAMPLE_CONDITIONS);
	cfg->music_overlay_split = "validation";
	cfg->transpose_engine = SID_STRETCH_FASTER;
}

/* A whole reference track: fingerprints of every window at the reference hop. */
static sid_status
embed_track(eval_state *st, const sid_pcm *pcm, sid_embed_result *res, sid_error *err)
{
	double		t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	sid_status	rc = sid_embed_pcm_parallel(st->ref, st->n_ref, SID_DEVICE_CPU, pcm->samples,
											pcm->n_samples, res, err);

	st->embed_seconds += sid_clock_seconds(CLOCK_MONOTONIC) - t0;
	return rc;
}

/* The first nseg windows of a degraded query into its rows of query_fp. */
static sid_status
embed_query(eval_state *st, const float *audio, int64_t n, int32_t nseg, int64_t first_row,
			sid_error *err)
{
	double		t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	sid_status	rc;

	if (sid_embed_count(st->query, n) < nseg)
		return sid_fail(err, SID_EINVAL, "eval: a query of %lld samples holds fewer than %d windows",
						(long long) n, nseg);
	rc = sid_embed_batch(st->query, SID_DEVICE_CPU, audio, n, 0, nseg,
						 st->query_fp + first_row * st->dim, NULL, err);
	st->embed_seconds += sid_clock_seconds(CLOCK_MONOTONIC) - t0;
	return rc;
}

static void
free_state(eval_state *st)
{
	for (int i = 0; i < st->n_ref; i++)
		sid_embedder_free(st->ref[i]);
	sid_embedder_free(st->query);
	free(st->tracks);
	free(st->cum);
	free(st->ex);
	free(st->q_nseg);
	free(st->q_first);
	free(st->query_fp);
	free(st->answers);
	sid_noise_store_free(&st->noise);
	sid_noise_store_free(&st->overlay[0]);
	sid_noise_store_free(&st->overlay[1]);
	sid_augment_work_free(st->aug);
	free(st->view);
	sid_seqdb_free(st->db);
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

/* Reference seconds an excerpt of `seconds` spans in the sample mode: the
 * lead, the fastest condition's source, a lead after it. */
static double
sample_span_seconds(const eval_state *st, double seconds)
{
	return seconds * SID_CONDITION_MAX_SOURCE + 2 * st->lead_s + 2.0 / st->rate;
}

/* the sample conditions: their ranges, their overlays, the excerpts' span */
static sid_status
check_sample_config(eval_state *st, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	sid_status	rc;

	if (cfg->n_sample < 1 || cfg->n_sample > SID_EVAL_MAX_SAMPLE_CONDITIONS)
		return sid_fail(err, SID_EINVAL, "eval: %d sample conditions (1 .. %d)", cfg->n_sample,
						SID_EVAL_MAX_SAMPLE_CONDITIONS);
	for (int c = 0; c < cfg->n_sample; c++)
	{
		if ((rc = sid_condition_check(&cfg->sample[c], err)) != SID_OK)
			return rc;
		if (cfg->sample[c].overlay == SID_OVERLAY_MUSIC &&
			(!cfg->music_overlay_split || strcmp(cfg->music_overlay_split, cfg->split) == 0))
			return sid_fail(err, SID_EINVAL, "eval: other music must come from a split other than "
							"the searched \"%s\"", cfg->split);
	}
	st->n_cond = cfg->n_sample;
	st->lead_s = SID_CONDITION_LEAD_SECONDS * SID_CONDITION_MAX_SOURCE;
	st->max_len_s = sample_span_seconds(st, st->max_len_s);
	return SID_OK;
}

/* configuration: its checks, the geometry and the conditions */
static sid_status
check_config(eval_state *st, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	const sid_model *model = st->model;

	if (!model || !model->enc)
		return sid_fail(err, SID_EINVAL, "eval: no model");
	if (cfg->n_lengths < 1 || cfg->n_lengths > SID_EVAL_MAX_CONDITIONS ||
		cfg->n_snrs < 1 || cfg->n_snrs > SID_EVAL_MAX_CONDITIONS ||
		cfg->queries < 1 || cfg->k < 1 || cfg->hop_ratio < 1 || cfg->batch < 1 ||
		cfg->threads < 1 || cfg->threads > SID_EMBED_MAX_THREADS ||
		(cfg->reverb_modes & 3) == 0 || cfg->hop_seconds < 0 ||
		(cfg->mode != SID_EVAL_NOISE && cfg->mode != SID_EVAL_SAMPLE))
		return sid_fail(err, SID_EINVAL, "eval: inconsistent configuration");
	if (cfg->transpose_lo > 0 || cfg->transpose_hi < 0 ||
		cfg->transpose_hi - cfg->transpose_lo + 1 > SID_TRANSPOSE_MAX_COPIES)
		return sid_fail(err, SID_EINVAL, "eval: transposed copies %d .. %d semitones "
						"(lo <= 0 <= hi, at most %d copies)", cfg->transpose_lo,
						cfg->transpose_hi, SID_TRANSPOSE_MAX_COPIES);
	st->n_copies = cfg->transpose_hi - cfg->transpose_lo + 1;
	st->rate = model->features.sample_rate;
	st->dim = model->enc->cfg.embed_dim;
	st->window = model->features.segment_seconds;
	st->hop = cfg->hop_seconds > 0 ? cfg->hop_seconds : model->features.segment_hop_seconds;
	for (int l = 0; l < cfg->n_lengths; l++)
	{
		if (query_segments(cfg->lengths[l], st->window, st->hop * cfg->hop_ratio) < 1 ||
			cfg->lengths[l] > 60)
			return sid_fail(err, SID_EINVAL, "eval: a %g s query holds no %g s window (or exceeds 60 s)",
							cfg->lengths[l], st->window);
		st->max_len_s = fmax(st->max_len_s, cfg->lengths[l]);
	}
	for (int r = 0; r < 2; r++)
		if (cfg->reverb_modes & (1 << r))
			st->modes[st->n_modes++] = r;
	st->n_cond = (int64_t) st->n_modes * cfg->n_snrs;
	if (cfg->mode == SID_EVAL_SAMPLE)
		return check_sample_config(st, err);
	return SID_OK;
}

/* embedders: cfg->threads for reference tracks, one for queries */
static sid_status
create_embedders(eval_state *st, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;

	for (int i = 0; i < cfg->threads; i++)
	{
		if (!(st->ref[i] = sid_embedder_create(st->model, st->hop, cfg->batch, err)))
			return err->code;
		st->n_ref++;
	}
	st->query = sid_embedder_create(st->model, st->hop * cfg->hop_ratio, cfg->batch, err);
	if (!st->query)
		return err->code;
	for (int l = 0; l < cfg->n_lengths; l++)
		if (query_segments(cfg->lengths[l], st->window, st->hop * cfg->hop_ratio) > cfg->batch)
			return sid_fail(err, SID_EINVAL, "eval: a %g s query has more windows than the batch of %d",
							cfg->lengths[l], cfg->batch);
	return SID_OK;
}

/* the tracks of the split long enough for the longest query, weighted by
 * the duration a query can start in */
static sid_status
select_tracks(eval_state *st, const sid_manifest *music, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;

	st->tracks = malloc((music->n ? music->n : 1) * sizeof(size_t));
	st->cum = malloc((music->n ? music->n : 1) * sizeof(double));
	if (!st->tracks || !st->cum)
		return sid_fail(err, SID_ENOMEM, "eval: out of memory");
	st->n_tracks = sid_corpus_select(music, cfg->split, cfg->max_tracks, st->max_len_s + 0.1,
									 st->tracks);
	if (st->n_tracks == 0)
		return sid_fail(err, SID_EINVAL, "eval: the manifest has no \"%s\" track longer than %g s",
						cfg->split, st->max_len_s);
	for (int32_t t = 0; t < st->n_tracks; t++)
		st->cum[t] = (t ? st->cum[t - 1] : 0) + music->entries[st->tracks[t]].duration_s - st->max_len_s;
	return SID_OK;
}

/* excerpts: (track, start) per length and query index, from the seed */
static sid_status
draw_excerpts(eval_state *st, const sid_manifest *music, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;

	st->n_ex = (int64_t) cfg->n_lengths * cfg->queries;
	st->ex = calloc(st->n_ex, sizeof(excerpt));
	if (!st->ex)
		return sid_fail(err, SID_ENOMEM, "eval: out of memory");
	for (int l = 0; l < cfg->n_lengths; l++)
		for (int32_t q = 0; q < cfg->queries; q++)
		{
			excerpt    *e = &st->ex[(int64_t) l * cfg->queries + q];
			sid_rng		rng;
			double		start_s;
			int32_t		t;

			sid_rng_init(&rng, cfg->seed, STREAM_EXCERPT + (uint64_t) l * cfg->queries + q);
			t = sid_pick_weighted(st->cum, st->n_tracks, &rng);
			if (cfg->mode == SID_EVAL_SAMPLE)
				start_s = st->lead_s + sid_rng_uniform_double(&rng) *
					(music->entries[st->tracks[t]].duration_s -
					 sample_span_seconds(st, cfg->lengths[l]));
			else
				start_s = sid_rng_uniform_double(&rng) *
					(music->entries[st->tracks[t]].duration_s - cfg->lengths[l]);
			/* up in the sample mode, which needs its lead before the start */
			if (cfg->align_starts)
				start_s = (cfg->mode == SID_EVAL_SAMPLE ? ceil(start_s / st->hop) :
						   floor(start_s / st->hop)) * st->hop;
			e->track = t;
			e->length_index = l;
			e->start = (int64_t) llround(start_s * st->rate);
			e->nseg = query_segments(cfg->lengths[l], st->window, st->hop * cfg->hop_ratio);
		}
	return SID_OK;
}

/* queries: every excerpt under every condition, segments stacked */
static sid_status
lay_out_queries(eval_state *st, sid_error *err)
{
	st->n_queries = st->n_ex * st->n_cond * st->n_copies;
	st->q_nseg = malloc(st->n_queries * sizeof(int32_t));
	st->q_first = malloc(st->n_queries * sizeof(int64_t));
	st->answers = malloc(st->n_queries * sizeof(sid_seq_match));
	if (!st->q_nseg || !st->q_first || !st->answers)
		return sid_fail(err, SID_ENOMEM, "eval: out of memory");
	for (int64_t i = 0; i < st->n_queries; i++)
	{
		st->q_nseg[i] = st->ex[i / (st->n_cond * st->n_copies)].nseg;
		st->q_first[i] = st->total_segs;
		st->total_segs += st->q_nseg[i];
	}
	st->query_fp = malloc(st->total_segs * st->dim * sizeof(float));
	if (!st->query_fp)
		return sid_fail(err, SID_ENOMEM, "eval: out of memory for %lld query segments",
						(long long) st->total_segs);
	return SID_OK;
}

/*
 * Other music: MUSIC_CLIPS_PER_TRACK clips of the longest query (and the
 * overlay's margin) from seeded places in each track of the other split,
 * decoded one track at a time so the split is never held whole.
 */
static sid_status
load_music_clips(eval_state *st, const sid_manifest *music, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	sid_noise_store *s = &st->overlay[0];
	size_t		clip_len = (size_t) ceil((st->max_len_s + 1) * st->rate),
				cap = 0;
	sid_status	rc = SID_OK;

	for (size_t i = 0; i < music->n; i++)
		cap += strcmp(music->entries[i].split, cfg->music_overlay_split) == 0;
	s->clips = calloc(cap * MUSIC_CLIPS_PER_TRACK + 1, sizeof(float *));
	s->len = calloc(cap * MUSIC_CLIPS_PER_TRACK + 1, sizeof(size_t));
	if (!s->clips || !s->len)
		return sid_fail(err, SID_ENOMEM, "eval: out of memory");
	s->bank.clips = (const float *const *) s->clips;
	s->bank.lengths = s->len;
	for (size_t i = 0; rc == SID_OK && i < music->n; i++)
	{
		const sid_manifest_entry *e = &music->entries[i];
		sid_pcm		pcm;
		sid_rng		rng;

		if (strcmp(e->split, cfg->music_overlay_split) != 0)
			continue;
		if ((rc = sid_corpus_decode(cfg->data_dir, e->path, st->rate, NULL, &pcm, err)) != SID_OK)
			break;
		sid_rng_init(&rng, cfg->seed, STREAM_MUSIC_CLIPS + i);
		for (int k = 0; rc == SID_OK && k < MUSIC_CLIPS_PER_TRACK && (size_t) pcm.n_samples > clip_len; k++)
		{
			size_t		at = (size_t) sid_rng_below(&rng, (uint64_t) pcm.n_samples - clip_len);

			if (!(s->clips[s->bank.n] = malloc(clip_len * sizeof(float))))
				rc = sid_fail(err, SID_ENOMEM, "eval: out of memory for music clips");
			else
			{
				memcpy(s->clips[s->bank.n], pcm.samples + at, clip_len * sizeof(float));
				s->len[s->bank.n++] = clip_len;
			}
		}
		sid_pcm_free(&pcm);
	}
	if (rc == SID_OK && s->bank.n == 0)
		rc = sid_fail(err, SID_EINVAL, "eval: the manifest has no \"%s\" track longer than %g s "
					  "to overlay as other music", cfg->music_overlay_split, st->max_len_s + 1);
	return rc;
}

/* the sample conditions' overlays, as far as the conditions use them */
static sid_status
prepare_sample_conditions(eval_state *st, const sid_manifest *music, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	int			uses[2] = {0, 0};
	sid_status	rc = SID_OK;

	for (int c = 0; c < cfg->n_sample; c++)
		if (cfg->sample[c].overlay != SID_OVERLAY_NONE)
			uses[cfg->sample[c].overlay == SID_OVERLAY_DRUMS] = 1;
	if (uses[0])
		rc = load_music_clips(st, music, err);
	if (rc == SID_OK && uses[1])
		rc = sid_drum_loops_load(&st->overlay[1], cfg->overlays, "test", cfg->data_dir, st->rate, err);
	if (rc == SID_OK && !(st->view = malloc(((size_t) ceil(st->max_len_s * st->rate) + 1) * sizeof(float))))
		rc = sid_fail(err, SID_ENOMEM, "eval: out of memory");
	return rc;
}

/* degradation: test noise and test rooms only, no EQ, no gain (noise mode) */
static sid_status
prepare_degradation(eval_state *st, const sid_manifest *music, const sid_manifest *noise,
					sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	sid_status	rc;

	if (cfg->mode == SID_EVAL_SAMPLE)
		return prepare_sample_conditions(st, music, err);
	if ((rc = sid_noise_store_load(&st->noise, noise, "test", cfg->data_dir, st->rate, err)) != SID_OK)
		return rc;
	sid_augment_config_default(&st->aug_cfg, (float) st->rate, (size_t) ceil(st->max_len_s * st->rate) + 1);
	st->aug_cfg.part = SID_PART_TEST;
	st->aug_cfg.n_rirs = EVAL_TEST_RIRS;
	st->aug_cfg.p_noise = 1.0f;
	st->aug_cfg.p_synthetic = cfg->p_synthetic;
	st->aug_cfg.p_eq = 0.0f;
	st->aug_cfg.gain_min_db = st->aug_cfg.gain_max_db = 0.0f;
	if ((st->aug = sid_augment_work_create(&st->aug_cfg, err)) == NULL)
		return err->code;
	if ((st->view = malloc(st->aug_cfg.max_len * sizeof(float))) == NULL)
		return sid_fail(err, SID_ENOMEM, "eval: out of memory");
	return SID_OK;
}

/*
 * Degraded query dq (st->view, n samples) into its rows: as it is, or as its
 * transposed copies, copy k shifted by transpose_lo + k semitones.
 */
static sid_status
embed_degraded(eval_state *st, const float *view, int64_t n, int64_t dq, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	float	   *copies[SID_TRANSPOSE_MAX_COPIES];
	int64_t		qi = dq * st->n_copies;
	double		t0;
	sid_status	rc;

	if (st->n_copies == 1)
		return embed_query(st, view, n, st->q_nseg[qi], st->q_first[qi], err);
	t0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);
	rc = sid_transpose_copies(view, (size_t) n, st->rate, cfg->transpose_lo, cfg->transpose_hi,
							  cfg->transpose_engine, copies, err);
	st->transpose_cpu += sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
	if (rc != SID_OK)
		return rc;
	st->copied++;
	for (int k = 0; rc == SID_OK && k < st->n_copies; k++)
		rc = embed_query(st, copies[k], n, st->q_nseg[qi + k], st->q_first[qi + k], err);
	sid_transpose_copies_free(copies, st->n_copies);
	return rc;
}

/*
 * Excerpt x (its start at the model rate, len samples) under every noise
 * condition with one plan, so the conditions differ only in SNR and
 * reverberation.
 */
static sid_status
noise_queries(eval_state *st, int64_t x, const sid_pcm *pcm, int64_t len, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	excerpt    *e = &st->ex[x];
	sid_augment_plan plan;
	sid_rng		rng;
	int64_t		preroll;
	sid_status	rc = SID_OK;

	/* the manifest's duration may differ from the decoded one by a few
	 * samples after resampling */
	if (e->start + len > pcm->n_samples)
		e->start = pcm->n_samples - len;
	preroll = e->start < (int64_t) st->aug_cfg.max_preroll ? e->start : (int64_t) st->aug_cfg.max_preroll;
	sid_rng_init(&rng, cfg->seed, STREAM_PLAN + (uint64_t) x);
	sid_augment_draw(&st->aug_cfg, &st->noise.bank, &rng, (size_t) len, &plan);
	for (int64_t c = 0; rc == SID_OK && c < st->n_cond; c++)
	{
		double		snr = cfg->snrs[c % cfg->n_snrs];
		double		t0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);

		plan.reverb = st->modes[c / cfg->n_snrs];
		plan.snr_db = isfinite(snr) ? (float) snr : 0.0f;
		if (!isfinite(snr))
			plan.noise = SID_AUG_NOISE_NONE;
		else if (plan.noise == SID_AUG_NOISE_NONE)
			plan.noise = SID_AUG_NOISE_SYNTHETIC;
		rc = sid_augment_run(st->aug, &st->noise.bank, &plan, pcm->samples + e->start - preroll,
							 (size_t) preroll, st->view, (size_t) len, err);
		st->condition_cpu += sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
		if (rc == SID_OK)
			rc = embed_degraded(st, st->view, len, x * st->n_cond + c, err);
	}
	return rc;
}

/*
 * Excerpt x under every sample condition.  One draw per excerpt picks its
 * music clip and its drum loop (and where in the loop to start), so the
 * overlay conditions of an excerpt differ only in ratio and pitch.
 */
static sid_status
sample_queries(eval_state *st, int64_t x, const sid_pcm *pcm, int64_t len, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	excerpt    *e = &st->ex[x];
	int64_t		after = (int64_t) ceil((sample_span_seconds(st, cfg->lengths[e->length_index]) -
										st->lead_s) * st->rate);
	size_t		clip[2] = {0, 0},
				clip_start[2] = {0, 0};
	sid_rng		rng;
	sid_status	rc = SID_OK;

	if (e->start + after > pcm->n_samples)
		e->start = pcm->n_samples - after;
	sid_rng_init(&rng, cfg->seed, STREAM_OVERLAY + (uint64_t) x);
	for (int o = 0; o < 2; o++)
	{
		const sid_noise_bank *b = &st->overlay[o].bank;

		clip[o] = b->n ? (size_t) sid_rng_below(&rng, b->n) : 0;
		/* music clips are cut at random places already; a loop starts anywhere */
		if (o == 1 && b->n && b->lengths[clip[o]])
			clip_start[o] = (size_t) sid_rng_below(&rng, b->lengths[clip[o]]);
	}
	for (int64_t c = 0; rc == SID_OK && c < st->n_cond; c++)
	{
		const sid_condition *cond = &cfg->sample[c];
		int			o = cond->overlay == SID_OVERLAY_DRUMS;
		int64_t		lead = (int64_t) sid_condition_lead(cond, st->rate);
		double		t0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);

		if (e->start < lead ||
			e->start - lead + (int64_t) sid_condition_span(cond, st->rate, (size_t) len) > pcm->n_samples)
			return sid_fail(err, SID_EINVAL, "eval: excerpt %lld does not hold condition %s",
							(long long) x, cond->name);
		rc = sid_condition_apply(cond, &st->overlay[o].bank, clip[o], clip_start[o],
								 pcm->samples + e->start - lead, st->rate, st->view, (size_t) len, err);
		st->condition_cpu += sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
		if (rc == SID_OK)
			rc = embed_degraded(st, st->view, len, x * st->n_cond + c, err);
	}
	return rc;
}

/* The queries cut from track t (decoded: pcm), under every condition. */
static sid_status
embed_track_queries(eval_state *st, int32_t t, const char *path, const sid_pcm *pcm, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	sid_status	rc = SID_OK;

	for (int64_t x = 0; rc == SID_OK && x < st->n_ex; x++)
	{
		excerpt    *e = &st->ex[x];
		int64_t		len = (int64_t) llround(cfg->lengths[e->length_index] * st->rate);

		if (e->track != t)
			continue;
		if (pcm->n_samples < len)
			return sid_fail(err, SID_EFORMAT, "eval: %s decodes to %.2f s, shorter than the manifest says",
							path, (double) pcm->n_samples / st->rate);
		if (cfg->mode == SID_EVAL_SAMPLE)
			rc = sample_queries(st, x, pcm, len, err);
		else
			rc = noise_queries(st, x, pcm, len, err);
	}
	return rc;
}

/* track by track: reference fingerprints, then the track's queries */
static sid_status
embed_tracks(eval_state *st, const sid_manifest *music, sid_eval_result *res, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;

	if ((st->db = sid_seqdb_create(st->dim, st->hop, err)) == NULL)
		return err->code;
	for (int32_t t = 0; t < st->n_tracks; t++)
	{
		const sid_manifest_entry *me = &music->entries[st->tracks[t]];
		sid_pcm		pcm;
		sid_embed_result er;
		sid_status	rc;

		if ((rc = sid_corpus_decode(cfg->data_dir, me->path, st->rate, NULL, &pcm, err)) != SID_OK)
			return rc;
		rc = embed_track(st, &pcm, &er, err);
		if (rc == SID_OK)
		{
			rc = sid_seqdb_add_track(st->db, er.fp, (int32_t) er.n_segments, NULL, err);
			sid_embed_result_free(&er);
		}
		res->ref_seconds += (double) pcm.n_samples / st->rate;
		if (rc == SID_OK)
			rc = embed_track_queries(st, t, me->path, &pcm, err);
		sid_pcm_free(&pcm);
		if (rc != SID_OK)
			return rc;
		progress(cfg, "track %d/%d %s (database: %lld segments)", t + 1, st->n_tracks, me->path,
				 (long long) sid_seqdb_n_segments(st->db));
	}
	return SID_OK;
}

/* The tables the mode fills: noise mode per reverb mode (lengths x SNRs),
 * sample mode one (conditions x lengths); and the copies' win counts. */
static sid_status
init_tables(eval_state *st, sid_eval_result *res, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	sid_status	rc;

	res->n_copies = st->n_copies;
	res->copy_wins = calloc((size_t) st->n_cond * cfg->n_lengths * st->n_copies, sizeof(int64_t));
	if (!res->copy_wins)
		return sid_fail(err, SID_ENOMEM, "eval: out of memory");
	for (int m = 0; m < (cfg->mode == SID_EVAL_SAMPLE ? 1 : st->n_modes); m++)
	{
		int			mode = cfg->mode == SID_EVAL_SAMPLE ? 0 : st->modes[m];
		int			rows = cfg->mode == SID_EVAL_SAMPLE ? cfg->n_sample : cfg->n_lengths,
					cols = cfg->mode == SID_EVAL_SAMPLE ? cfg->n_lengths : cfg->n_snrs;
		const double *row_values = cfg->mode == SID_EVAL_SAMPLE ? NULL : cfg->lengths,
				   *col_values = cfg->mode == SID_EVAL_SAMPLE ? cfg->lengths : cfg->snrs;

		sid_hit_table *tables[4] = {&res->table[mode], &res->track[mode], &res->unshifted[mode],
		&res->unshifted_track[mode]};

		for (int i = 0; i < (st->n_copies > 1 ? 4 : 2); i++)
			if ((rc = sid_hit_table_init(tables[i], rows, row_values, cols, col_values, err)) != SID_OK)
			{
				while (--i >= 0)
					sid_hit_table_free(tables[i]);
				return rc;
			}
		res->has_table[mode] = 1;
	}
	return SID_OK;
}

/* The copy of degraded query dq whose best alignment scores highest; a tie
 * goes to the copy shifted least. */
static int
winning_copy(const eval_state *st, int64_t dq)
{
	const sid_seq_match *a = &st->answers[dq * st->n_copies];
	int			best = -st->cfg->transpose_lo;

	for (int k = 0; k < st->n_copies; k++)
		if (a[k].track >= 0 &&
			(a[best].track < 0 || a[k].score > a[best].score ||
			 (a[k].score == a[best].score &&
			  abs(k + st->cfg->transpose_lo) < abs(best + st->cfg->transpose_lo))))
			best = k;
	return best;
}

/* search and score: every query at once, each answer into its condition's cells */
static sid_status
search_and_score(eval_state *st, sid_eval_result *res, sid_error *err)
{
	const sid_eval_config *cfg = st->cfg;
	sid_seqsearch_params sp;
	double		t0;
	sid_status	rc;

	sid_seqsearch_params_default(&sp);
	sp.k = cfg->k;
	sp.hop_ratio = cfg->hop_ratio;
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	rc = sid_seqsearch(st->db, &sp, st->query_fp, (int32_t) st->n_queries, st->q_nseg, st->answers, err);
	res->search_seconds = sid_clock_seconds(CLOCK_MONOTONIC) - t0;
	if (rc != SID_OK || (rc = init_tables(st, res, err)) != SID_OK)
		return rc;
	for (int64_t dq = 0; dq < st->n_ex * st->n_cond; dq++)
	{
		const excerpt *e = &st->ex[dq / st->n_cond];
		int64_t		c = dq % st->n_cond;
		int			k = winning_copy(st, dq);
		const sid_seq_match *a = &st->answers[dq * st->n_copies + k];
		sid_hit		hit = sid_seq_classify(a, st->hop, e->track, (double) e->start / st->rate);
		sid_hit		right = a->track == e->track ? SID_HIT_EXACT : SID_HIT_MISS;
		int			mode = 0,
					row = (int) c,
					col = e->length_index;

		if (cfg->mode == SID_EVAL_NOISE)
		{
			mode = st->modes[c / cfg->n_snrs];
			row = e->length_index;
			col = (int) (c % cfg->n_snrs);
		}
		sid_hit_table_add(&res->table[mode], row, col, hit);
		sid_hit_table_add(&res->track[mode], row, col, right);
		if (st->n_copies > 1)
		{
			const sid_seq_match *u = &st->answers[dq * st->n_copies - cfg->transpose_lo];

			sid_hit_table_add(&res->unshifted[mode], row, col,
							  sid_seq_classify(u, st->hop, e->track, (double) e->start / st->rate));
			sid_hit_table_add(&res->unshifted_track[mode], row, col,
							  u->track == e->track ? SID_HIT_EXACT : SID_HIT_MISS);
		}
		if (right == SID_HIT_EXACT)
			res->copy_wins[(c * cfg->n_lengths + e->length_index) * st->n_copies + k]++;
	}
	return SID_OK;
}

sid_status
sid_eval_run(sid_model *model, const sid_manifest *music, const sid_manifest *noise,
			 const sid_eval_config *cfg, sid_eval_result *res, sid_error *err)
{
	eval_state	st;
	sid_error	ignored;
	sid_status	rc;

	/* the phases read err->code after a failed call */
	if (!err)
		err = &ignored;
	memset(&st, 0, sizeof(st));
	memset(res, 0, sizeof(*res));
	st.cfg = cfg;
	st.model = model;
	if ((rc = check_config(&st, err)) != SID_OK)
		return rc;
	if ((rc = create_embedders(&st, err)) == SID_OK &&
		(rc = select_tracks(&st, music, err)) == SID_OK &&
		(rc = draw_excerpts(&st, music, err)) == SID_OK &&
		(rc = lay_out_queries(&st, err)) == SID_OK &&
		(rc = prepare_degradation(&st, music, noise, err)) == SID_OK)
	{
		if (cfg->mode == SID_EVAL_SAMPLE)
			progress(cfg, "%d %s tracks, %d sample conditions, %zu music clips (%s), %zu drum loops, "
					 "%lld queries of %lld segments", st.n_tracks, cfg->split, cfg->n_sample,
					 st.overlay[0].bank.n, cfg->music_overlay_split, st.overlay[1].bank.n,
					 (long long) st.n_queries, (long long) st.total_segs);
		else
			progress(cfg, "%d %s tracks, %d test noise clips, %lld queries of %lld segments",
					 st.n_tracks, cfg->split, (int) st.noise.bank.n, (long long) st.n_queries,
					 (long long) st.total_segs);
		if ((rc = embed_tracks(&st, music, res, err)) == SID_OK)
			rc = search_and_score(&st, res, err);
	}
	if (rc == SID_OK)
	{
		res->ref_tracks = st.n_tracks;
		res->ref_segments = sid_seqdb_n_segments(st.db);
		res->hop_seconds = st.hop;
		res->dim = st.dim;
		res->queries = st.n_queries;
		res->query_segments = st.total_segs;
		res->embed_seconds = st.embed_seconds;
		res->copied_queries = st.copied;
		res->transpose_cpu_seconds = st.transpose_cpu;
		res->condition_cpu_seconds = st.condition_cpu;
		res->overlay_clips[0] = (int32_t) st.overlay[0].bank.n;
		res->overlay_clips[1] = (int32_t) st.overlay[1].bank.n;
	}
	else
		sid_eval_result_free(res);
	free_state(&st);
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
			if (r->n_copies > 1)
			{
				sid_hit_table_free(&r->unshifted[i]);
				sid_hit_table_free(&r->unshifted_track[i]);
			}
			r->has_table[i] = 0;
		}
	free(r->copy_wins);
	r->copy_wins = NULL;
}
