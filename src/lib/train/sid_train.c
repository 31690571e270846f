/*
 * sid_train.c - the training loop of `sampleid train`: seeded positive
 * pairs from the decoded train split, NT-Xent, AdamW with warm-up and cosine
 * decay, periodic validation and checkpoints.
 *
 * A step, for P pairs and windows of W = frames x mels floats:
 *   make     sid_pair_batch (sid_pairs.h) with `threads` data workers:
 *            window i the clean view (with its real audio context around
 *            it, as a reference track's segment has), window P + i the
 *            degraded view (cut max_offset_s away, degraded, framed on its
 *            own as a query is).  Each pair's randomness is its own stream,
 *            so which thread makes it does not matter.
 *   learn    sid_train_step with `threads` data-parallel workers (forward,
 *            NT-Xent over all 2P embeddings, backward, gradients summed in
 *            worker order, AdamW).  The same thread count gives the same
 *            bits; another count changes the summation order only.
 */
#include "train/sid_train.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sid_mel.h"
#include "core/sid_bytes.h"
#include "core/sid_clock.h"
#include "core/sid_pcm16.h"
#include "core/sid_rng.h"
#include "corpus/sid_corpus.h"
#include "model/sid_model.h"
#include "search/sid_seqsearch.h"
#include "train/sid_checkpoint.h"
#include "train/sid_pairs.h"
#include "train/sid_train_step.h"

/* Validation queries' streams; the pairs' streams (SID_PAIR_STREAM + ...)
 * come from another seed as well, so the two never share one. */
#define STREAM_VAL ((uint64_t) 2 << 48)
/* Validation uses the test part's rooms, like sampleid eval. */
#define VAL_TEST_RIRS 1000
#define VAL_SEED_SALT 0x5a11da7eULL

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
				noise_test,
				overlays;		/* the sample recipe's overlay clips */
	sid_augment_config aug_train,
				aug_val;
	sid_pair_source *pairs;
	sid_pair_worker *pair_workers[2];	/* cfg->threads of them */
	double		make_seconds;	/* wall time making pairs since the last log line */
	float	   *windows;		/* [2P][W] */
	/* validation */
	int			val_ready;
	sid_mel    *val_mel;
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

void
sid_train_vlog(const sid_train_hooks *hooks, const char *fmt, va_list ap)
{
	char		msg[1024];

	if (!hooks || !hooks->log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	hooks->log(hooks->arg, msg);
}

static void
say(trainer *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(trainer *tr, const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	sid_train_vlog(tr->hooks, fmt, ap);
	va_end(ap);
}

/* ---- the data and the learning step -------------------------------------- */

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
	double		t0 = sid_clock_seconds(CLOCK_MONOTONIC);

	rc = sid_pair_batch(tr->pairs, tr->pair_workers, tr->cfg->threads, tr->cfg->seed, step,
						tr->cfg->pairs, tr->windows, err);
	if (rc != SID_OK)
		return rc;
	tr->make_seconds += sid_clock_seconds(CLOCK_MONOTONIC) - t0;
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
typedef struct val_spans
{
	sid_track_cache tracks;
	int64_t    *start;			/* first sample of each track's span */
	int64_t    *len;			/* its length; 0 when the track did not decode */
	double	   *cum;			/* cumulative query starts, for sid_pick_weighted */
	float	   *buf;			/* a span, or a query's preroll + window + degraded window */
} val_spans;

static void
val_spans_free(val_spans *vs)
{
	sid_track_cache_free(&vs->tracks);
	free(vs->start);
	free(vs->len);
	free(vs->cum);
	free(vs->buf);
}

/* Decode the validation tracks, place their spans, allocate the set. */
static sid_status
val_spans_load(trainer *tr, const sid_manifest *music, val_spans *vs, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	const sid_track_cache *vc = &vs->tracks;
	int64_t		span_max = (int64_t) llround(cfg->val_seconds * tr->rate);
	sid_status	rc;

	rc = sid_track_cache_load(&vs->tracks, music, cfg->val_split, cfg->val_tracks, cfg->data_dir,
							  cfg->cache_dir, tr->rate, cfg->threads, err);
	if (rc != SID_OK)
		return rc;
	tr->val_tracks = vc->n;
	tr->val_nseg = calloc(vc->n, sizeof(int32_t));
	tr->val_id = calloc(vc->n, sizeof(int32_t));
	vs->start = calloc(vc->n, sizeof(int64_t));
	vs->len = calloc(vc->n, sizeof(int64_t));
	vs->cum = calloc(vc->n, sizeof(double));
	vs->buf = malloc(sizeof(float) * (span_max + tr->aug_val.max_preroll + tr->win));
	tr->val_qtrack = calloc(cfg->val_queries, sizeof(int32_t));
	tr->val_qstart = calloc(cfg->val_queries, sizeof(double));
	tr->val_query = malloc(sizeof(float) * cfg->val_queries * tr->W);
	if (!tr->val_nseg || !tr->val_id || !vs->start || !vs->len || !vs->cum || !vs->buf ||
		!tr->val_qtrack || !tr->val_qstart || !tr->val_query)
		return sid_fail(err, SID_ENOMEM, "out of memory for the validation set");
	for (int32_t t = 0; t < vc->n; t++)
	{
		int64_t		len = vc->len[t] < span_max ? vc->len[t] : span_max;

		if (len < tr->win)		/* did not decode: never drawn, not in the database */
			len = 0;
		vs->start[t] = (vc->len[t] - len) / 2;
		vs->len[t] = len;
		tr->val_nseg[t] = len ? (int32_t) sid_mel_n_segments(tr->val_mel, len) : 0;
		tr->val_nref += tr->val_nseg[t];
		vs->cum[t] = (t ? vs->cum[t - 1] : 0) + (double) (len ? len - tr->win : 0);
	}
	if (tr->val_nref == 0)
		return sid_fail(err, SID_EINVAL, "no \"%s\" track decodes", cfg->val_split);
	tr->val_ref = malloc(sizeof(float) * tr->val_nref * tr->W);
	tr->val_fp = malloc(sizeof(float) * (tr->val_nref + cfg->val_queries) * tr->D);
	if (!tr->val_ref || !tr->val_fp)
		return sid_fail(err, SID_ENOMEM, "out of memory for the validation set");
	return SID_OK;
}

/* The reference windows: every segment of every span. */
static sid_status
val_references(trainer *tr, val_spans *vs, sid_error *err)
{
	for (int32_t t = 0, row = 0; t < vs->tracks.n; t++)
	{
		sid_status	rc;

		sid_pcm16_to_float(vs->tracks.pcm[t] + vs->start[t], vs->len[t], vs->buf);
		rc = sid_mel_segments(tr->val_mel, vs->buf, vs->len[t], 0, tr->val_nseg[t],
							  tr->val_ref + (int64_t) row * tr->W, NULL, err);
		if (rc != SID_OK)
			return rc;
		row += tr->val_nseg[t];
	}
	return SID_OK;
}

/* The degraded query windows, each from its own stream. */
static sid_status
val_queries(trainer *tr, val_spans *vs, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	const sid_noise_bank *bank = &tr->noise_test.bank;
	sid_augment_work *aug = sid_augment_work_create(&tr->aug_val, err);
	float	   *buf = vs->buf;
	sid_status	rc = aug ? SID_OK : err->code;

	for (int32_t q = 0; rc == SID_OK && q < cfg->val_queries; q++)
	{
		sid_rng		rng;
		sid_augment_plan plan;
		int32_t		t;
		int64_t		s,
					abs_start,
					preroll;

		sid_rng_init(&rng, cfg->seed ^ VAL_SEED_SALT, STREAM_VAL + (uint64_t) q);
		t = sid_pick_weighted(vs->cum, vs->tracks.n, &rng);
		s = (int64_t) sid_rng_below(&rng, (uint64_t) (vs->len[t] - tr->win + 1));
		abs_start = vs->start[t] + s;
		preroll = abs_start < (int64_t) tr->aug_val.max_preroll ? abs_start : (int64_t) tr->aug_val.max_preroll;
		sid_pcm16_to_float(vs->tracks.pcm[t] + abs_start - preroll, preroll + tr->win, buf);
		sid_augment_draw(&tr->aug_val, bank, &rng, (size_t) tr->win, &plan);
		rc = sid_augment_run(aug, bank, &plan, buf, (size_t) preroll, buf + preroll + tr->win,
							 (size_t) tr->win, err);
		if (rc == SID_OK)
			rc = sid_mel_segments(tr->val_mel, buf + preroll + tr->win, tr->win, 0, 1,
								  tr->val_query + (int64_t) q * tr->W, NULL, err);
		tr->val_qtrack[q] = t;
		tr->val_qstart[q] = (double) s / tr->rate;
	}
	sid_augment_work_free(aug);
	return rc;
}

static sid_status
val_prepare(trainer *tr, const sid_manifest *music, sid_error *err)
{
	val_spans	vs;
	sid_status	rc;

	memset(&vs, 0, sizeof(vs));
	if ((rc = val_spans_load(tr, music, &vs, err)) == SID_OK &&
		(rc = val_references(tr, &vs, err)) == SID_OK &&
		(rc = val_queries(tr, &vs, err)) == SID_OK)
	{
		if (vs.tracks.n_skipped)
			say(tr, "validation: skipped %d tracks that do not decode, first: %s",
				vs.tracks.n_skipped, vs.tracks.skipped);
		tr->val_ready = 1;
		say(tr, "validation: %d tracks, %lld reference segments (%.0f s each at most), %d queries",
			vs.tracks.n, (long long) tr->val_nref, tr->cfg->val_seconds, tr->cfg->val_queries);
	}
	val_spans_free(&vs);
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

static void
trainer_free(trainer *tr)
{
	for (int k = 0; k < 2; k++)
		sid_pair_worker_free(tr->pair_workers[k]);
	sid_pair_source_free(tr->pairs);
	if (tr->ctx_ready)
		sid_train_ctx_free(&tr->ctx);
	sid_encoder_free(tr->enc);
	sid_track_cache_free(&tr->train);
	sid_noise_store_free(&tr->noise_train);
	sid_noise_store_free(&tr->noise_test);
	sid_noise_store_free(&tr->overlays);
	free(tr->windows);
	sid_mel_free(tr->val_mel);
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

/* Whether an encoder made elsewhere (a checkpoint, a model) has the configuration's
 * architecture and the trainer's features, so its parameter buffer fits tensor by tensor. */
static int
same_architecture(const trainer *tr, const sid_encoder_config *want,
				  const sid_encoder_config *got, const sid_feature_config *features)
{
	return memcmp(want, got, sizeof(*want)) == 0 &&
		memcmp(features, &tr->features, sizeof(*features)) == 0;
}

/*
 * Start from another model's weights (fine-tuning): its architecture and
 * features must be the configuration's, so every tensor lands where it was.
 * Only a fresh start reads it; a resumed run has its weights in the checkpoint.
 */
static sid_status
init_from_model(trainer *tr, const sid_encoder_config *want, sid_error *err)
{
	sid_model  *m = sid_model_load(tr->cfg->init_model, err);

	if (!m)
		return err->code;
	if (!same_architecture(tr, want, &m->enc->cfg, &m->features))
	{
		sid_model_free(m);
		return sid_fail(err, SID_EINVAL, "init_model %s has another architecture or features than the configuration",
						tr->cfg->init_model);
	}
	memcpy(tr->enc->params, m->enc->params, sizeof(float) * tr->enc->num_params);
	say(tr, "weights from %s (sha256 %.16s...)", tr->cfg->init_model, m->sha256);
	sid_model_free(m);
	return SID_OK;
}

/* The encoder: the checkpoint's (resume, with its state into *st) or a new one. */
static sid_status
trainer_model(trainer *tr, int resume, sid_train_state *st, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	const char *name = cfg->model_name[0] ? cfg->model_name : "fp";
	sid_encoder_config want;

	sid_features_default(&tr->features);
	encoder_config_from(cfg, &tr->features, &want);
	if (resume)
	{
		sid_feature_config f;

		if ((tr->enc = load_checkpoint(cfg->checkpoint, &f, st, err)) == NULL)
			return err->code;
		if (!same_architecture(tr, &want, &tr->enc->cfg, &f))
			return sid_fail(err, SID_EINVAL, "%s was made with another architecture or features than the configuration",
							cfg->checkpoint);
		if (st->seed != cfg->seed)
			return sid_fail(err, SID_EINVAL, "%s was made with seed %llu, the configuration says %llu",
							cfg->checkpoint, (unsigned long long) st->seed,
							(unsigned long long) cfg->seed);
	}
	else
	{
		sid_model  *m = sid_model_new_untrained(name, &want, &tr->features, cfg->seed, err);
		sid_status	rc;

		if (!m)
			return err->code;
		tr->enc = m->enc;
		m->enc = NULL;
		sid_model_free(m);
		if (cfg->init_model[0] && (rc = init_from_model(tr, &want, err)) != SID_OK)
			return rc;
		if ((rc = sid_encoder_enable_training(tr->enc, err)) != SID_OK)
			return rc;
	}
	tr->model.flags = SID_MODEL_TRAINED |
		(strcmp(tr->cfg->recipe, "sample") == 0 ? SID_MODEL_SAMPLE : 0);
	snprintf(tr->model.name, sizeof(tr->model.name), "%s", name);
	tr->model.features = tr->features;
	tr->model.enc = tr->enc;
	return SID_OK;
}

/* Geometry, optimiser, augmentation, the batch buffer and the learning step. */
static sid_status
trainer_setup(trainer *tr, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	sid_status	rc;

	tr->rate = tr->features.sample_rate;
	tr->win = (int32_t) sid_features_segment_samples(&tr->features);
	tr->hop = (int32_t) sid_features_segment_hop_samples(&tr->features);
	tr->W = (int64_t) tr->enc->cfg.n_frames * tr->enc->cfg.n_mels;
	tr->D = tr->enc->cfg.embed_dim;
	sid_adam_default_config(&tr->adam, cfg->steps);
	tr->adam.lr = cfg->lr;
	tr->adam.lr_min = cfg->lr_min;
	tr->adam.warmup_steps = cfg->warmup_steps;
	tr->adam.weight_decay = cfg->weight_decay;
	tr->adam.clip_norm = cfg->clip_norm;
	augment_configs(tr);

	tr->windows = malloc(sizeof(float) * 2 * cfg->pairs * tr->W);
	if (!tr->windows)
		return sid_fail(err, SID_ENOMEM, "out of memory for a batch of %d pairs", cfg->pairs);
	if ((rc = sid_train_ctx_init(&tr->ctx, tr->enc, cfg->pairs, cfg->temperature, &tr->adam, err)) != SID_OK)
		return rc;
	tr->ctx_ready = 1;
	if ((rc = sid_train_ctx_set_workers(&tr->ctx, cfg->threads, err)) != SID_OK)
		return rc;
	if ((tr->val_mel = sid_mel_create(&tr->features, err)) == NULL)
		return err->code;
	return SID_OK;
}

/* Switch the pair generator to the sample recipe, with the overlay clips of
 * the overlay manifest's train part. */
static sid_status
sample_recipe(trainer *tr, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	sid_music_config music;
	sid_manifest m;
	sid_status	rc = SID_OK;

	if (cfg->overlay_manifest[0])
	{
		sid_manifest_init(&m);
		rc = sid_manifest_read(cfg->overlay_manifest, &m, err);
		if (rc == SID_OK)
			rc = sid_noise_store_load(&tr->overlays, &m, "train", cfg->data_dir, tr->rate, err);
		sid_manifest_free(&m);
		if (rc != SID_OK)
			return rc;
	}
	sid_music_config_default(&music, (float) tr->rate, (size_t) tr->win);
	music.ratio_min_db = cfg->overlay_ratio_min_db;
	music.ratio_max_db = cfg->overlay_ratio_max_db;
	music.p_transform = cfg->p_transform;
	music.p_pitch = cfg->p_pitch;
	music.max_semitones = cfg->max_semitones;
	music.stretch_min = cfg->stretch_min;
	music.stretch_max = cfg->stretch_max;
	music.p_eq = cfg->p_music_eq;
	music.p_compress = cfg->p_compress;
	music.p_distort = cfg->p_distort;
	say(tr, "sample recipe: %zu overlay clips, other tracks with p %.2f, %s", tr->overlays.bank.n,
		cfg->p_track_overlay, cfg->bank_dir[0] ? cfg->bank_dir : "rubberband per pair");
	rc = sid_pair_source_set_sample(tr->pairs, &music, &tr->overlays.bank, cfg->p_track_overlay,
									&tr->aug_train, err);
	if (rc == SID_OK && cfg->bank_dir[0])
		rc = sid_pair_source_set_bank(tr->pairs, cfg->bank_dir, err);
	return rc;
}

/* The manifests, the noise banks, the decoded train split, the pair
 * generator over them and the validation set. */
static sid_status
trainer_data(trainer *tr, sid_manifest *music, sid_manifest *noise, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	double		t0;
	sid_status	rc;

	if ((rc = sid_manifest_read(cfg->manifest, music, err)) != SID_OK)
		return rc;
	if (cfg->exclude_package[0])
		for (size_t i = 0; i < music->n; i++)
			if (strcmp(music->entries[i].package, cfg->exclude_package) == 0 &&
				strcmp(music->entries[i].split, cfg->train_split) == 0)
				snprintf(music->entries[i].split, sizeof(music->entries[i].split), "excluded");
	if (cfg->noise_manifest[0])
	{
		if ((rc = sid_manifest_read(cfg->noise_manifest, noise, err)) != SID_OK)
			return rc;
		if ((rc = sid_noise_store_load(&tr->noise_train, noise, "train", cfg->data_dir, tr->rate, err)) != SID_OK ||
			(rc = sid_noise_store_load(&tr->noise_test, noise, "test", cfg->data_dir, tr->rate, err)) != SID_OK)
			return rc;
	}
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	rc = sid_track_cache_load(&tr->train, music, cfg->train_split, 0, cfg->data_dir, cfg->cache_dir,
							  tr->rate, cfg->threads, err);
	if (rc != SID_OK)
		return rc;
	say(tr, "train split: %d tracks, %.1f h decoded in %.0f s; noise clips: %zu train, %zu test",
		tr->train.n - tr->train.n_skipped, tr->train.total_samples / (3600.0 * tr->rate),
		sid_clock_seconds(CLOCK_MONOTONIC) - t0, tr->noise_train.bank.n, tr->noise_test.bank.n);
	if (tr->train.n_skipped)
		say(tr, "skipped %d train tracks that do not decode, first: %s", tr->train.n_skipped,
			tr->train.skipped);
	if (tr->train.total_samples == 0)
		return sid_fail(err, SID_EINVAL, "no train track decodes");
	tr->pairs = sid_pair_source_create(&tr->train, &tr->noise_train.bank, &tr->features,
									   &tr->aug_train, err);
	if (!tr->pairs)
		return err->code;
	if (strcmp(cfg->recipe, "sample") == 0 && (rc = sample_recipe(tr, err)) != SID_OK)
		return rc;
	for (int k = 0; k < cfg->threads; k++)
		if ((tr->pair_workers[k] = sid_pair_worker_create(tr->pairs, err)) == NULL)
			return err->code;
	if (cfg->val_every > 0)
		return val_prepare(tr, music, err);
	return SID_OK;
}

/* ---- the loop ------------------------------------------------------------ */

/*
 * Validate at st->step: before the first step, the untrained baseline (so
 * the log shows what training added); later, a new best exact rate is
 * written to best_model.
 */
static sid_status
validate(trainer *tr, sid_train_state *st, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	double		exact = 0,
				near = 0,
				t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	sid_status	rc;

	if ((rc = val_run(tr, &exact, &near, err)) != SID_OK)
		return rc;
	if (st->step == 0)
	{
		say(tr, "validation before training: top-1 exact %.1f%% near %.1f%% (%d queries, chance %.2f%%) in %.0f s",
			100 * exact, 100 * near, cfg->val_queries, 100.0 / (double) tr->val_nref,
			sid_clock_seconds(CLOCK_MONOTONIC) - t0);
		return SID_OK;
	}
	say(tr, "validation at step %lld: top-1 exact %.1f%% near %.1f%% (%d queries, chance %.2f%%) in %.0f s",
		(long long) st->step, 100 * exact, 100 * near, cfg->val_queries,
		100.0 / (double) tr->val_nref, sid_clock_seconds(CLOCK_MONOTONIC) - t0);
	if (exact <= st->best_val)
		return SID_OK;
	st->best_val = exact;
	st->best_step = st->step;
	if (!cfg->best_model[0])
		return SID_OK;
	snprintf(tr->model.note, sizeof(tr->model.note),
			 "sampleid train (seed %llu): step %lld of %d, %d pairs/step; validation top-1 exact %.1f%% near %.1f%% on %d queries",
			 (unsigned long long) cfg->seed, (long long) st->step, cfg->steps, cfg->pairs,
			 100 * exact, 100 * near, cfg->val_queries);
	if ((rc = sid_model_save(&tr->model, cfg->best_model, err)) != SID_OK)
		return rc;
	say(tr, "best so far: wrote %s", cfg->best_model);
	return SID_OK;
}

/* The progress line after `step`: mean loss and speed since *t_last. */
static void
log_step(trainer *tr, int64_t step, double mean_loss, float gnorm, int64_t steps_in_log,
		 double *t_last)
{
	const sid_train_config *cfg = tr->cfg;
	double		t = sid_clock_seconds(CLOCK_MONOTONIC),
				rate = steps_in_log / (t - *t_last),
				eta = (cfg->steps - step) / rate;

	say(tr, "step %lld/%d loss %.4f lr %.2e grad %.3f %.3f steps/s (%.2f s/step, %.0f%% making pairs) ETA %02d:%02d:%02d",
		(long long) step, cfg->steps, mean_loss, sid_adam_lr(&tr->adam, (int) step - 1), gnorm,
		rate, 1.0 / rate, 100 * tr->make_seconds / (t - *t_last),
		(int) (eta / 3600), (int) fmod(eta / 60, 60), (int) fmod(eta, 60));
	tr->make_seconds = 0;
	*t_last = t;
}

/* Steps from st->step to cfg->steps (or a stop), with logs, validations, checkpoints. */
static sid_status
train_loop(trainer *tr, int resume, sid_train_state *st, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	const sid_train_hooks *hooks = tr->hooks;
	double		t_start,
				t_last,
				loss_sum = 0;
	int64_t		steps_in_log = 0;
	sid_status	rc;

	say(tr, "%s at step %lld of %d: %zu parameters, %d pairs per step, %.1f MFLOP per window",
		resume ? "resuming" : "starting", (long long) st->step, cfg->steps, tr->enc->num_params,
		cfg->pairs, sid_encoder_flops(&tr->enc->cfg) / 1e6);
	if (tr->val_ready && st->step == 0 && (rc = validate(tr, st, err)) != SID_OK)
		return rc;
	t_start = t_last = sid_clock_seconds(CLOCK_MONOTONIC);
	while (st->step < cfg->steps)
	{
		double		loss;
		float		gnorm;
		int			stopping;

		if ((rc = train_step(tr, st->step, &loss, &gnorm, err)) != SID_OK)
			return rc;
		if (!isfinite(loss))
			return sid_fail(err, SID_EINVAL, "step %lld: the loss is not finite; not checkpointing",
							(long long) st->step);
		st->step++;
		loss_sum += loss;
		steps_in_log++;
		if (st->step % cfg->log_every == 0 || st->step == cfg->steps)
		{
			log_step(tr, st->step, loss_sum / steps_in_log, gnorm, steps_in_log, &t_last);
			loss_sum = 0;
			steps_in_log = 0;
		}
		if (tr->val_ready && (st->step % cfg->val_every == 0 || st->step == cfg->steps))
		{
			double		t0 = sid_clock_seconds(CLOCK_MONOTONIC);

			if ((rc = validate(tr, st, err)) != SID_OK)
				return rc;
			t_last += sid_clock_seconds(CLOCK_MONOTONIC) - t0;	/* validation time is not training speed */
		}
		stopping = (hooks && hooks->stop && *hooks->stop) ||
			(hooks && hooks->stop_after > 0 && st->step >= hooks->stop_after);
		if (stopping || st->step == cfg->steps ||
			(cfg->checkpoint_every > 0 && st->step % cfg->checkpoint_every == 0))
		{
			if ((rc = save_checkpoint(tr, st, err)) != SID_OK)
				return rc;
			say(tr, "checkpoint at step %lld: %s", (long long) st->step, cfg->checkpoint);
		}
		if (st->step == cfg->steps && cfg->final_model[0])
		{
			sid_model	m = tr->model;

			snprintf(m.note, sizeof(m.note), "sampleid train (seed %llu): the last of %d steps",
					 (unsigned long long) st->seed, cfg->steps);
			if ((rc = sid_model_save(&m, cfg->final_model, err)) != SID_OK)
				return rc;
			say(tr, "the model after the last step: %s", cfg->final_model);
		}
		if (stopping)
			break;
	}
	say(tr, "stopped at step %lld after %.0f s of training; best validation exact %.1f%% at step %lld",
		(long long) st->step, sid_clock_seconds(CLOCK_MONOTONIC) - t_start,
		100 * (st->best_val > 0 ? st->best_val : 0), (long long) st->best_step);
	return SID_OK;
}

sid_status
sid_train_run(const sid_train_config *cfg, int resume, const sid_train_hooks *hooks,
			  sid_train_state *final_state, sid_error *err)
{
	trainer		tr;
	sid_manifest music,
				noise;
	sid_train_state st = {0, cfg->seed, -1.0, -1};
	sid_error	ignored;
	sid_status	rc;

	/* the phases read err->code after a failed call: give them somewhere to
	 * write when the caller passed no sid_error */
	if (!err)
		err = &ignored;
	if ((rc = sid_train_config_check(cfg, err)) != SID_OK)
		return rc;
	memset(&tr, 0, sizeof(tr));
	tr.cfg = cfg;
	tr.hooks = hooks;
	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	/* one BLAS thread per worker: the workers are the parallelism (and
	 * single-threaded BLAS keeps the sums in a fixed order) */
	sid_nn_set_threads(1);
	if ((rc = trainer_model(&tr, resume, &st, err)) == SID_OK &&
		(rc = trainer_setup(&tr, err)) == SID_OK &&
		(rc = trainer_data(&tr, &music, &noise, err)) == SID_OK)
		rc = train_loop(&tr, resume, &st, err);
	if (final_state)
		*final_state = st;
	trainer_free(&tr);
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	return rc;
}
