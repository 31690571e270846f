/*
 * sid_train.c - the training loop of `sampleid train`: seeded positive
 * pairs from the decoded train split, two workers, NT-Xent, AdamW with
 * warm-up and cosine decay, periodic validation and checkpoints.
 *
 * A step, for P pairs and windows of W = frames x mels floats:
 *   make     data worker w builds pairs [w P/2, (w+1) P/2): window i is the
 *            clean view (with its real audio context around it, as a
 *            reference track's segment has), window P + i the degraded view
 *            (cut max_offset_s away, degraded, framed on its own as a query
 *            is).  Each pair's randomness is its own stream, so which thread
 *            makes it does not matter.
 *   learn    sid_train_step with `threads` data-parallel workers (forward,
 *            NT-Xent over all 2P embeddings, backward, gradients summed in
 *            worker order, AdamW).  The same thread count gives the same
 *            bits; another count changes the summation order only.
 */
#include "train/sid_train.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/sid_audio.h"
#include "core/sid_bytes.h"
#include "train/sid_checkpoint.h"
#include "audio/sid_mel.h"
#include "model/sid_model.h"
#include "core/sid_rng.h"
#include "search/sid_seqsearch.h"
#include "train/sid_train_step.h"

/* Stream numbers of sid_rng: pairs and validation queries never share one. */
#define STREAM_PAIR ((uint64_t) 1 << 48)
#define STREAM_VAL ((uint64_t) 2 << 48)
/* Validation uses the test part's rooms, like sampleid eval. */
#define VAL_TEST_RIRS 1000
#define VAL_SEED_SALT 0x5a11da7eULL

typedef struct worker
{
	struct trainer *tr;
	int			index;
	sid_mel    *mel;
	sid_augment_work *aug;
	float	   *span;			/* preroll + window, the degraded view's input */
	float	   *ctx;			/* hop + window + hop, the clean view's input */
	float	   *view;			/* the degraded window */
	int64_t		step;			/* the step whose pairs to make */
	sid_status	rc;
	sid_error	err;
} worker;

typedef struct trainer
{
	const sid_train_config *cfg;
	const sid_train_hooks *hooks;
	sid_feature_config features;
	sid_model	model;			/* name, note, features; enc is the trained encoder */
	sid_encoder *enc;
	sid_train_ctx ctx;			/* forward / backward / update, data parallel */
	int			ctx_ready;
	sid_adam_config adam;
	int32_t		rate,
				win,			/* window samples */
				hop;			/* segment hop samples */
	int64_t		W;				/* floats per window */
	int32_t		D;
	sid_track_cache train;
	sid_noise_store noise_train,
				noise_test;
	sid_augment_config aug_train,
				aug_val;
	worker		w[2];			/* data workers */
	double		make_seconds;	/* wall time making pairs since the last log line */
	float	   *windows;		/* [2P][W] */
	/* validation */
	int			val_ready;
	int32_t		val_tracks;
	int32_t    *val_nseg;		/* reference segments of each track */
	int32_t    *val_id;			/* its id in the search database */
	int64_t		val_nref;
	float	   *val_ref;		/* [val_nref][W] */
	float	   *val_query;		/* [val_queries][W] */
	int32_t    *val_qtrack;
	double	   *val_qstart;		/* seconds from the track span's start */
	float	   *val_fp;			/* [val_nref + val_queries][D] */
} trainer;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
say(trainer *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(trainer *tr, const char *fmt, ...)
{
	char		msg[1024];
	va_list		ap;

	if (!tr->hooks || !tr->hooks->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tr->hooks->log(tr->hooks->arg, msg);
}

/* ---- making pairs -------------------------------------------------------- */

static void
to_float(const int16_t *in, int64_t n, float *out)
{
	for (int64_t i = 0; i < n; i++)
		out[i] = in[i] * (1.0f / 32767.0f);
}

/* Pair i of a step: clean window into windows[i], degraded into windows[P+i]. */
static sid_status
make_pair(worker *wk, int64_t step, int i)
{
	trainer    *tr = wk->tr;
	const sid_train_config *cfg = tr->cfg;
	sid_track_cache *c = &tr->train;
	int			P = cfg->pairs;
	int64_t		max_off = lroundf(cfg->max_offset_s * tr->rate);
	sid_rng		rng;
	sid_augment_plan plan;
	double		u;
	int32_t		lo = 0,
				hi = c->n - 1,
				t;
	int64_t		first,
				last,
				start,
				start2,
				preroll;
	sid_status	rc;

	sid_rng_init(&rng, cfg->seed, STREAM_PAIR + (uint64_t) step * P + i);
	u = sid_rng_uniform_double(&rng) * c->cum[c->n - 1];
	while (lo < hi)				/* tracks weighted by length */
	{
		int32_t		mid = (lo + hi) / 2;

		if (c->cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	t = lo;
	/* the clean window needs a hop of context each side, the degraded one
	 * may start max_off away */
	first = tr->hop + max_off;
	last = c->len[t] - tr->win - tr->hop - max_off;
	if (last < first)
		return sid_fail(&wk->err, SID_EINVAL, "train: %s is too short (%.2f s)", c->name[t],
						(double) c->len[t] / tr->rate);
	start = first + (int64_t) sid_rng_below(&rng, (uint64_t) (last - first + 1));
	start2 = start + sid_augment_offset(&tr->aug_train, &rng);
	preroll = start2 < (int64_t) tr->aug_train.max_preroll ? start2 : (int64_t) tr->aug_train.max_preroll;

	/* clean view: segment 1 of [start - hop, start + win + hop) */
	to_float(c->pcm[t] + start - tr->hop, 2 * tr->hop + tr->win, wk->ctx);
	rc = sid_mel_segments(wk->mel, wk->ctx, 2 * tr->hop + tr->win, 1, 1,
						  tr->windows + (int64_t) i * tr->W, NULL, &wk->err);
	if (rc != SID_OK)
		return rc;
	/* degraded view: framed alone, as a query is */
	to_float(c->pcm[t] + start2 - preroll, preroll + tr->win, wk->span);
	sid_augment_draw(&tr->aug_train, &tr->noise_train.bank, &rng, (size_t) tr->win, &plan);
	rc = sid_augment_run(wk->aug, &tr->noise_train.bank, &plan, wk->span, (size_t) preroll,
						 wk->view, (size_t) tr->win, &wk->err);
	if (rc != SID_OK)
		return rc;
	return sid_mel_segments(wk->mel, wk->view, tr->win, 0, 1,
							tr->windows + (int64_t) (P + i) * tr->W, NULL, &wk->err);
}

static void *
make_pairs(void *arg)
{
	worker	   *wk = arg;
	int			P = wk->tr->cfg->pairs;

	wk->rc = SID_OK;
	for (int i = wk->index * P / 2; wk->rc == SID_OK && i < (wk->index + 1) * P / 2; i++)
		wk->rc = make_pair(wk, wk->step, i);
	return NULL;
}

/* The pairs of one step, made by the two data workers (concurrently with threads > 1). */
static sid_status
make_batch(trainer *tr, int64_t step, sid_error *err)
{
	pthread_t	th;
	int			threaded = tr->cfg->threads > 1;

	tr->w[0].step = tr->w[1].step = step;
	if (threaded && pthread_create(&th, NULL, make_pairs, &tr->w[1]) != 0)
		threaded = 0;
	make_pairs(&tr->w[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		make_pairs(&tr->w[1]);
	for (int k = 0; k < 2; k++)
		if (tr->w[k].rc != SID_OK)
		{
			if (err)
				*err = tr->w[k].err;
			return tr->w[k].rc;
		}
	return SID_OK;
}

/*
 * Encode n windows into out [n][D] with the training context's workers:
 * chunks of 2P windows through sid_train_loss (its loss is ignored; the
 * embeddings stay in ctx.embed).  The last chunk is padded with silence.
 */
static void
encode(trainer *tr, const float *in, int64_t n, float *out)
{
	int			chunk = 2 * tr->cfg->pairs;

	for (int64_t i = 0; i < n; i += chunk)
	{
		int			m = n - i < chunk ? (int) (n - i) : chunk;

		memcpy(tr->windows, in + i * tr->W, sizeof(float) * m * tr->W);
		memset(tr->windows + (int64_t) m * tr->W, 0, sizeof(float) * (chunk - m) * tr->W);
		(void) sid_train_loss(&tr->ctx, tr->windows, tr->cfg->pairs);
		memcpy(out + i * tr->D, tr->ctx.embed, sizeof(float) * m * tr->D);
	}
}

static sid_status
train_step(trainer *tr, int64_t step, double *loss, float *gnorm, sid_error *err)
{
	sid_status	rc;
	double		t0 = now_seconds();

	if ((rc = make_batch(tr, step, err)) != SID_OK)
		return rc;
	tr->make_seconds += now_seconds() - t0;
	*loss = sid_train_step(&tr->ctx, tr->windows, tr->cfg->pairs, (int) step, gnorm);
	return SID_OK;
}

/* ---- validation ---------------------------------------------------------- */

/*
 * The validation set, made once: a reference database of the first
 * val_seconds (from the middle) of each validation track at the model's
 * segment hop, and val_queries single 1-window queries cut anywhere in those
 * spans, degraded with test-part noise (SNR 0-20 dB) and, half of the time,
 * a test-part room.  Only the encoder changes between validations.
 */
static sid_status
val_prepare(trainer *tr, const sid_manifest *music, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	sid_track_cache vc;
	int64_t    *span_start = NULL,
			   *span_len = NULL;
	double	   *cum = NULL;
	float	   *buf = NULL;
	int64_t		span_max = (int64_t) llround(cfg->val_seconds * tr->rate);
	sid_augment_work *aug = NULL;
	sid_status	rc;

	rc = sid_track_cache_load(&vc, music, cfg->val_split, cfg->val_tracks, cfg->data_dir,
							  cfg->cache_dir, tr->rate, cfg->threads, err);
	if (rc != SID_OK)
		return rc;
	tr->val_tracks = vc.n;
	tr->val_nseg = calloc(vc.n, sizeof(int32_t));
	tr->val_id = calloc(vc.n, sizeof(int32_t));
	span_start = calloc(vc.n, sizeof(int64_t));
	span_len = calloc(vc.n, sizeof(int64_t));
	cum = calloc(vc.n, sizeof(double));
	buf = malloc(sizeof(float) * (span_max + tr->aug_val.max_preroll + tr->win));
	tr->val_qtrack = calloc(cfg->val_queries, sizeof(int32_t));
	tr->val_qstart = calloc(cfg->val_queries, sizeof(double));
	tr->val_query = malloc(sizeof(float) * cfg->val_queries * tr->W);
	if (!tr->val_nseg || !tr->val_id || !span_start || !span_len || !cum || !buf || !tr->val_qtrack ||
		!tr->val_qstart || !tr->val_query)
	{
		rc = sid_fail(err, SID_ENOMEM, "out of memory for the validation set");
		goto done;
	}
	for (int32_t t = 0; t < vc.n; t++)
	{
		int64_t		len = vc.len[t] < span_max ? vc.len[t] : span_max;

		if (len < tr->win)		/* did not decode: never drawn, not in the database */
			len = 0;
		span_start[t] = (vc.len[t] - len) / 2;
		span_len[t] = len;
		tr->val_nseg[t] = len ? (int32_t) sid_mel_n_segments(tr->w[0].mel, len) : 0;
		tr->val_nref += tr->val_nseg[t];
		cum[t] = (t ? cum[t - 1] : 0) + (double) (len ? len - tr->win : 0);
	}
	if (tr->val_nref == 0)
	{
		rc = sid_fail(err, SID_EINVAL, "no \"%s\" track decodes", cfg->val_split);
		goto done;
	}
	tr->val_ref = malloc(sizeof(float) * tr->val_nref * tr->W);
	tr->val_fp = malloc(sizeof(float) * (tr->val_nref + cfg->val_queries) * tr->D);
	aug = sid_augment_work_create(&tr->aug_val, err);
	if (!tr->val_ref || !tr->val_fp || !aug)
	{
		rc = aug ? sid_fail(err, SID_ENOMEM, "out of memory for the validation set") : err->code;
		goto done;
	}
	for (int32_t t = 0, row = 0; t < vc.n; t++)
	{
		to_float(vc.pcm[t] + span_start[t], span_len[t], buf);
		rc = sid_mel_segments(tr->w[0].mel, buf, span_len[t], 0, tr->val_nseg[t],
							  tr->val_ref + (int64_t) row * tr->W, NULL, err);
		if (rc != SID_OK)
			goto done;
		row += tr->val_nseg[t];
	}
	for (int32_t q = 0; q < cfg->val_queries; q++)
	{
		sid_rng		rng;
		sid_augment_plan plan;
		double		u;
		int32_t		lo = 0,
					hi = vc.n - 1;
		int64_t		s,
					abs_start,
					preroll;

		sid_rng_init(&rng, cfg->seed ^ VAL_SEED_SALT, STREAM_VAL + (uint64_t) q);
		u = sid_rng_uniform_double(&rng) * cum[vc.n - 1];
		while (lo < hi)
		{
			int32_t		mid = (lo + hi) / 2;

			if (cum[mid] > u)
				hi = mid;
			else
				lo = mid + 1;
		}
		s = (int64_t) sid_rng_below(&rng, (uint64_t) (span_len[lo] - tr->win + 1));
		abs_start = span_start[lo] + s;
		preroll = abs_start < (int64_t) tr->aug_val.max_preroll ? abs_start : (int64_t) tr->aug_val.max_preroll;
		to_float(vc.pcm[lo] + abs_start - preroll, preroll + tr->win, buf);
		sid_augment_draw(&tr->aug_val, &tr->noise_test.bank, &rng, (size_t) tr->win, &plan);
		rc = sid_augment_run(aug, &tr->noise_test.bank, &plan, buf, (size_t) preroll,
							 buf + preroll + tr->win, (size_t) tr->win, err);
		if (rc == SID_OK)
			rc = sid_mel_segments(tr->w[0].mel, buf + preroll + tr->win, tr->win, 0, 1,
								  tr->val_query + (int64_t) q * tr->W, NULL, err);
		if (rc != SID_OK)
			goto done;
		tr->val_qtrack[q] = lo;
		tr->val_qstart[q] = (double) s / tr->rate;
	}
	if (vc.n_skipped)
		say(tr, "validation: skipped %d tracks that do not decode, first: %s", vc.n_skipped, vc.skipped);
	tr->val_ready = 1;
	say(tr, "validation: %d tracks, %lld reference segments (%.0f s each at most), %d queries",
		vc.n, (long long) tr->val_nref, cfg->val_seconds, cfg->val_queries);
done:
	sid_augment_work_free(aug);
	sid_track_cache_free(&vc);
	free(span_start);
	free(span_len);
	free(cum);
	free(buf);
	return rc;
}

/* Top-1 hit rates of the validation queries (exact and near, sid_seq_classify). */
static sid_status
val_run(trainer *tr, double *exact, double *near, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	double		hop_s = (double) tr->hop / tr->rate;
	sid_seqdb  *db;
	sid_seqsearch_params sp;
	sid_seq_match *best = NULL;
	int32_t    *nseg = NULL;
	int64_t		n_exact = 0,
				n_near = 0;
	sid_status	rc;

	encode(tr, tr->val_ref, tr->val_nref, tr->val_fp);
	encode(tr, tr->val_query, cfg->val_queries, tr->val_fp + tr->val_nref * tr->D);
	if ((db = sid_seqdb_create(tr->D, hop_s, err)) == NULL)
		return err->code;
	for (int32_t t = 0, row = 0; t < tr->val_tracks; t++)
	{
		if (tr->val_nseg[t] == 0)
		{
			tr->val_id[t] = -1;
			continue;
		}
		if ((rc = sid_seqdb_add_track(db, tr->val_fp + (int64_t) row * tr->D, tr->val_nseg[t],
									  &tr->val_id[t], err)) != SID_OK)
			goto done;
		row += tr->val_nseg[t];
	}
	best = malloc(sizeof(*best) * cfg->val_queries);
	nseg = malloc(sizeof(int32_t) * cfg->val_queries);
	if (!best || !nseg)
	{
		rc = sid_fail(err, SID_ENOMEM, "out of memory for validation");
		goto done;
	}
	for (int32_t q = 0; q < cfg->val_queries; q++)
		nseg[q] = 1;
	sid_seqsearch_params_default(&sp);
	sp.k = 1;
	rc = sid_seqsearch(db, &sp, tr->val_fp + tr->val_nref * tr->D, cfg->val_queries, nseg, best, err);
	if (rc != SID_OK)
		goto done;
	for (int32_t q = 0; q < cfg->val_queries; q++)
	{
		sid_hit		h = sid_seq_classify(&best[q], hop_s, tr->val_id[tr->val_qtrack[q]], tr->val_qstart[q]);

		n_exact += h == SID_HIT_EXACT;
		n_near += h != SID_HIT_MISS;
	}
	*exact = (double) n_exact / cfg->val_queries;
	*near = (double) n_near / cfg->val_queries;
done:
	free(best);
	free(nseg);
	sid_seqdb_free(db);
	return rc;
}

/* ---- set-up -------------------------------------------------------------- */

static sid_status
worker_init(trainer *tr, int k, sid_error *err)
{
	worker	   *wk = &tr->w[k];

	wk->tr = tr;
	wk->index = k;
	if ((wk->mel = sid_mel_create(&tr->features, err)) == NULL)
		return err->code;
	if ((wk->aug = sid_augment_work_create(&tr->aug_train, err)) == NULL)
		return err->code;
	wk->span = malloc(sizeof(float) * (tr->aug_train.max_preroll + tr->win));
	wk->ctx = malloc(sizeof(float) * (2 * tr->hop + tr->win));
	wk->view = malloc(sizeof(float) * tr->win);
	if (!wk->span || !wk->ctx || !wk->view)
		return sid_fail(err, SID_ENOMEM, "out of memory for a worker");
	return SID_OK;
}

static void
worker_free(worker *wk)
{
	sid_mel_free(wk->mel);
	sid_augment_work_free(wk->aug);
	free(wk->span);
	free(wk->ctx);
	free(wk->view);
	memset(wk, 0, sizeof(*wk));
}

static void
trainer_free(trainer *tr)
{
	for (int k = 0; k < 2; k++)
		worker_free(&tr->w[k]);
	if (tr->ctx_ready)
		sid_train_ctx_free(&tr->ctx);
	sid_encoder_free(tr->enc);
	sid_track_cache_free(&tr->train);
	sid_noise_store_free(&tr->noise_train);
	sid_noise_store_free(&tr->noise_test);
	free(tr->windows);
	free(tr->val_nseg);
	free(tr->val_id);
	free(tr->val_ref);
	free(tr->val_query);
	free(tr->val_qtrack);
	free(tr->val_qstart);
	free(tr->val_fp);
}

static void
augment_configs(trainer *tr)
{
	const sid_train_config *cfg = tr->cfg;
	sid_augment_config *a = &tr->aug_train;

	sid_augment_config_default(a, (float) tr->rate, (size_t) tr->win);
	a->part = SID_PART_TRAIN;
	a->max_offset_s = cfg->max_offset_s;
	a->p_noise = cfg->p_noise;
	a->p_synthetic = cfg->p_synthetic;
	a->snr_min_db = cfg->snr_min_db;
	a->snr_max_db = cfg->snr_max_db;
	a->p_reverb = cfg->p_reverb;
	a->p_eq = cfg->p_eq;
	a->gain_min_db = cfg->gain_min_db;
	a->gain_max_db = cfg->gain_max_db;
	/* validation: test rooms and noise, like the evaluation; no EQ, no gain */
	sid_augment_config_default(&tr->aug_val, (float) tr->rate, (size_t) tr->win);
	tr->aug_val.part = SID_PART_TEST;
	tr->aug_val.n_rirs = VAL_TEST_RIRS;
	tr->aug_val.p_noise = 1.0f;
	tr->aug_val.p_synthetic = 0.3f;
	tr->aug_val.snr_min_db = 0.0f;
	tr->aug_val.snr_max_db = 20.0f;
	tr->aug_val.p_reverb = 0.5f;
	tr->aug_val.p_eq = 0.0f;
	tr->aug_val.gain_min_db = tr->aug_val.gain_max_db = 0.0f;
}

static void
encoder_config_from(const sid_train_config *cfg, const sid_feature_config *f,
					sid_encoder_config *enc)
{
	sid_encoder_default_config(enc);
	enc->n_stages = cfg->n_stages;
	memset(enc->channels, 0, sizeof(enc->channels));
	memset(enc->blocks, 0, sizeof(enc->blocks));
	for (int s = 0; s < cfg->n_stages; s++)
	{
		enc->channels[s] = cfg->channels[s];
		enc->blocks[s] = cfg->blocks[s];
	}
	enc->knn_k = cfg->knn_k;
	enc->n_frames = sid_model_window_frames(f);
	enc->n_mels = f->n_mels;
}

static sid_status
save_checkpoint(trainer *tr, const sid_train_state *st, sid_error *err)
{
	unsigned char state[SID_TRAIN_STATE_BYTES];
	sid_model	m = tr->model;
	uint64_t	bits;

	memcpy(&bits, &st->best_val, 8);
	sid_put_u64(state, st->seed);
	sid_put_u64(state + 8, bits);
	sid_put_u64(state + 16, (uint64_t) st->best_step);
	snprintf(m.note, sizeof(m.note), "sampleid train checkpoint (seed %llu): step %lld of %d",
			 (unsigned long long) st->seed, (long long) st->step, tr->cfg->steps);
	return sid_checkpoint_save(tr->cfg->checkpoint, &m, (uint64_t) st->step, state,
							   sizeof(state), err);
}

/* A checkpoint's encoder, features and trainer state; NULL with err set. */
static sid_encoder *
load_checkpoint(const char *path, sid_feature_config *f, sid_train_state *st, sid_error *err)
{
	sid_model  *m = NULL;
	uint64_t	next;
	void	   *state = NULL;
	uint32_t	len = 0;
	sid_encoder *enc;
	uint64_t	bits;

	if (sid_checkpoint_load(path, &m, &next, &state, &len, err) != SID_OK)
		return NULL;
	if (len != SID_TRAIN_STATE_BYTES)
	{
		free(state);
		sid_model_free(m);
		sid_fail(err, SID_EFORMAT, "%s is not a sampleid train checkpoint (trainer state of %u bytes)",
				 path, len);
		return NULL;
	}
	st->step = (int64_t) next;
	st->seed = sid_get_u64(state);
	bits = sid_get_u64((unsigned char *) state + 8);
	memcpy(&st->best_val, &bits, 8);
	st->best_step = (int64_t) sid_get_u64((unsigned char *) state + 16);
	*f = m->features;
	enc = m->enc;
	m->enc = NULL;
	sid_model_free(m);
	free(state);
	return enc;
}

sid_status
sid_train_run(const sid_train_config *cfg, int resume, const sid_train_hooks *hooks,
			  sid_train_state *final_state, sid_error *err)
{
	trainer		tr;
	sid_manifest music,
				noise;
	sid_train_state st = {0, cfg->seed, -1.0, -1};
	sid_encoder_config want;
	sid_status	rc;
	int			P = cfg->pairs;
	double		t_start,
				t_last,
				loss_sum = 0;
	int64_t		steps_in_log = 0;

	memset(&tr, 0, sizeof(tr));
	tr.cfg = cfg;
	tr.hooks = hooks;
	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	if ((rc = sid_train_config_check(cfg, err)) != SID_OK)
		return rc;
	/* one BLAS thread per worker: the workers are the parallelism (and
	 * single-threaded BLAS keeps the sums in a fixed order) */
	sid_nn_set_threads(1);

	sid_features_default(&tr.features);
	encoder_config_from(cfg, &tr.features, &want);
	if (resume)
	{
		sid_feature_config f;

		if ((tr.enc = load_checkpoint(cfg->checkpoint, &f, &st, err)) == NULL)
			return err->code;
		if (memcmp(&want, &tr.enc->cfg, sizeof(want)) != 0 ||
			memcmp(&f, &tr.features, sizeof(f)) != 0)
		{
			sid_encoder_free(tr.enc);
			return sid_fail(err, SID_EINVAL, "%s was made with another architecture or features than the configuration",
							cfg->checkpoint);
		}
		if (st.seed != cfg->seed)
		{
			sid_encoder_free(tr.enc);
			return sid_fail(err, SID_EINVAL, "%s was made with seed %llu, the configuration says %llu",
							cfg->checkpoint, (unsigned long long) st.seed,
							(unsigned long long) cfg->seed);
		}
	}
	else
	{
		sid_model  *m = sid_model_new_untrained(cfg->model_name[0] ? cfg->model_name : "fp",
												&want, &tr.features, cfg->seed, err);

		if (!m)
			return err->code;
		tr.enc = m->enc;
		m->enc = NULL;
		sid_model_free(m);
		if ((rc = sid_encoder_enable_training(tr.enc, err)) != SID_OK)
			goto done;
	}
	tr.model.flags = SID_MODEL_TRAINED;
	snprintf(tr.model.name, sizeof(tr.model.name), "%s", cfg->model_name[0] ? cfg->model_name : "fp");
	tr.model.features = tr.features;
	tr.model.enc = tr.enc;

	tr.rate = tr.features.sample_rate;
	tr.win = (int32_t) sid_features_segment_samples(&tr.features);
	tr.hop = (int32_t) sid_features_segment_hop_samples(&tr.features);
	tr.W = (int64_t) tr.enc->cfg.n_frames * tr.enc->cfg.n_mels;
	tr.D = tr.enc->cfg.embed_dim;
	sid_adam_default_config(&tr.adam, cfg->steps);
	tr.adam.lr = cfg->lr;
	tr.adam.lr_min = cfg->lr_min;
	tr.adam.warmup_steps = cfg->warmup_steps;
	tr.adam.weight_decay = cfg->weight_decay;
	tr.adam.clip_norm = cfg->clip_norm;
	augment_configs(&tr);

	tr.windows = malloc(sizeof(float) * 2 * P * tr.W);
	if (!tr.windows)
	{
		rc = sid_fail(err, SID_ENOMEM, "out of memory for a batch of %d pairs", P);
		goto done;
	}
	if ((rc = sid_train_ctx_init(&tr.ctx, tr.enc, P, cfg->temperature, &tr.adam, err)) != SID_OK)
		goto done;
	tr.ctx_ready = 1;
	if ((rc = sid_train_ctx_set_workers(&tr.ctx, cfg->threads, err)) != SID_OK)
		goto done;
	for (int k = 0; k < 2; k++)
		if ((rc = worker_init(&tr, k, err)) != SID_OK)
			goto done;

	/* data */
	if ((rc = sid_manifest_read(cfg->manifest, &music, err)) != SID_OK)
		goto done;
	if (cfg->noise_manifest[0])
	{
		if ((rc = sid_manifest_read(cfg->noise_manifest, &noise, err)) != SID_OK)
			goto done;
		if ((rc = sid_noise_store_load(&tr.noise_train, &noise, "train", cfg->data_dir, tr.rate, err)) != SID_OK ||
			(rc = sid_noise_store_load(&tr.noise_test, &noise, "test", cfg->data_dir, tr.rate, err)) != SID_OK)
			goto done;
	}
	t_start = now_seconds();
	rc = sid_track_cache_load(&tr.train, &music, cfg->train_split, 0, cfg->data_dir, cfg->cache_dir,
							  tr.rate, cfg->threads, err);
	if (rc != SID_OK)
		goto done;
	say(&tr, "train split: %d tracks, %.1f h decoded in %.0f s; noise clips: %zu train, %zu test",
		tr.train.n - tr.train.n_skipped, tr.train.total_samples / (3600.0 * tr.rate),
		now_seconds() - t_start, tr.noise_train.bank.n, tr.noise_test.bank.n);
	if (tr.train.n_skipped)
		say(&tr, "skipped %d train tracks that do not decode, first: %s", tr.train.n_skipped,
			tr.train.skipped);
	if (tr.train.total_samples == 0)
	{
		rc = sid_fail(err, SID_EINVAL, "no train track decodes");
		goto done;
	}
	if (cfg->val_every > 0 && (rc = val_prepare(&tr, &music, err)) != SID_OK)
		goto done;
	say(&tr, "%s at step %lld of %d: %zu parameters, %d pairs per step, %.1f MFLOP per window",
		resume ? "resuming" : "starting", (long long) st.step, cfg->steps, tr.enc->num_params, P,
		sid_encoder_flops(&tr.enc->cfg) / 1e6);

	if (tr.val_ready && st.step == 0)
	{
		double		exact = 0,
					near = 0,
					t0 = now_seconds();

		/* the untrained baseline, so the log shows what training added */
		if ((rc = val_run(&tr, &exact, &near, err)) != SID_OK)
			goto done;
		say(&tr, "validation before training: top-1 exact %.1f%% near %.1f%% (%d queries, chance %.2f%%) in %.0f s",
			100 * exact, 100 * near, cfg->val_queries, 100.0 / (double) tr.val_nref, now_seconds() - t0);
	}
	t_start = t_last = now_seconds();
	while (st.step < cfg->steps)
	{
		double		loss;
		float		gnorm;
		int			stopping;

		if ((rc = train_step(&tr, st.step, &loss, &gnorm, err)) != SID_OK)
			goto done;
		if (!isfinite(loss))
		{
			rc = sid_fail(err, SID_EINVAL, "step %lld: the loss is not finite; not checkpointing",
						  (long long) st.step);
			goto done;
		}
		st.step++;
		loss_sum += loss;
		steps_in_log++;
		if (st.step % cfg->log_every == 0 || st.step == cfg->steps)
		{
			double		t = now_seconds(),
						rate = steps_in_log / (t - t_last),
						eta = (cfg->steps - st.step) / rate;

			say(&tr, "step %lld/%d loss %.4f lr %.2e grad %.3f %.3f steps/s (%.2f s/step, %.0f%% making pairs) ETA %02d:%02d:%02d",
				(long long) st.step, cfg->steps, loss_sum / steps_in_log,
				sid_adam_lr(&tr.adam, (int) st.step - 1), gnorm, rate, 1.0 / rate,
				100 * tr.make_seconds / (t - t_last),
				(int) (eta / 3600), (int) fmod(eta / 60, 60), (int) fmod(eta, 60));
			tr.make_seconds = 0;
			loss_sum = 0;
			steps_in_log = 0;
			t_last = t;
		}
		if (tr.val_ready && (st.step % cfg->val_every == 0 || st.step == cfg->steps))
		{
			double		exact = 0,
						near = 0,
						t0 = now_seconds();

			if ((rc = val_run(&tr, &exact, &near, err)) != SID_OK)
				goto done;
			say(&tr, "validation at step %lld: top-1 exact %.1f%% near %.1f%% (%d queries, chance %.2f%%) in %.0f s",
				(long long) st.step, 100 * exact, 100 * near, cfg->val_queries,
				100.0 / (double) tr.val_nref, now_seconds() - t0);
			if (exact > st.best_val)
			{
				st.best_val = exact;
				st.best_step = st.step;
				if (cfg->best_model[0])
				{
					snprintf(tr.model.note, sizeof(tr.model.note),
							 "sampleid train (seed %llu): step %lld of %d, %d pairs/step; validation top-1 exact %.1f%% near %.1f%% on %d queries",
							 (unsigned long long) cfg->seed, (long long) st.step, cfg->steps, P,
							 100 * exact, 100 * near, cfg->val_queries);
					if ((rc = sid_model_save(&tr.model, cfg->best_model, err)) != SID_OK)
						goto done;
					say(&tr, "best so far: wrote %s", cfg->best_model);
				}
			}
			t_last += now_seconds() - t0;	/* validation time is not training speed */
		}
		stopping = (hooks && hooks->stop && *hooks->stop) ||
			(hooks && hooks->stop_after > 0 && st.step >= hooks->stop_after);
		if (stopping || st.step == cfg->steps ||
			(cfg->checkpoint_every > 0 && st.step % cfg->checkpoint_every == 0))
		{
			if ((rc = save_checkpoint(&tr, &st, err)) != SID_OK)
				goto done;
			say(&tr, "checkpoint at step %lld: %s", (long long) st.step, cfg->checkpoint);
		}
		if (stopping)
			break;
	}
	say(&tr, "stopped at step %lld after %.0f s of training; best validation exact %.1f%% at step %lld",
		(long long) st.step, now_seconds() - t_start, 100 * (st.best_val > 0 ? st.best_val : 0),
		(long long) st.best_step);
	rc = SID_OK;
done:
	if (final_state)
		*final_state = st;
	trainer_free(&tr);
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	return rc;
}
