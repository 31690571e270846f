/*
 * sid_train.h - the contrastive trainer of the fingerprint encoder
 * (`sampleid train`): configuration file, data pipeline, training loop,
 * validation, checkpoints.  docs/training.md describes all of it.
 *
 * Determinism: every random draw of training step s, pair i comes from the
 * sid_rng stream (seed, STREAM_PAIR + s * pairs + i); validation queries from
 * fixed streams.  The "RNG state" of a run is therefore (seed, step) and a
 * checkpoint holding the step, the weights and the Adam moments resumes the
 * run bit for bit.  The work of a step is split over two threads in a fixed
 * way (each thread makes half of the pairs, then one thread encodes the
 * clean views and the other the degraded views; gradients are summed in a
 * fixed order) and OpenBLAS runs single-threaded, so results do not depend
 * on scheduling.
 */
#ifndef SID_TRAIN_H
#define SID_TRAIN_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "augment/sid_augment.h"
#include "nn/sid_encoder.h"
#include "core/sid_error.h"
#include "audio/sid_features.h"
#include "corpus/sid_manifest.h"
#include "nn/sid_nn.h"

#define SID_TRAIN_PATH_MAX 1024

typedef struct sid_train_config
{
	/* data */
	char		manifest[SID_TRAIN_PATH_MAX];	/* music manifest (data/manifest.tsv) */
	char		noise_manifest[SID_TRAIN_PATH_MAX];	/* noise manifest; "" = synthetic only */
	char		data_dir[SID_TRAIN_PATH_MAX];	/* corpus directory */
	char		cache_dir[SID_TRAIN_PATH_MAX];	/* decoded PCM cache; "" = memory only */
	char		train_split[SID_SPLIT_NAME_MAX];
	char		val_split[SID_SPLIT_NAME_MAX];
	/* optimisation */
	uint64_t	seed;
	int32_t		pairs;			/* positive pairs per step (batch = 2 x pairs windows) */
	int32_t		steps;			/* total steps (drives the cosine schedule) */
	float		lr, lr_min;
	int32_t		warmup_steps;
	float		weight_decay;
	float		temperature;
	float		clip_norm;
	/* augmentation of the second view (train part of noise and rooms) */
	float		max_offset_s;
	float		p_noise, p_synthetic, snr_min_db, snr_max_db;
	float		p_reverb, p_eq, gain_min_db, gain_max_db;
	/* the pair recipe: "fp", or "sample" (sid_pair_source_set_sample; the
	 * augmentation keys above are then its milder room, docs/sample-model.md) */
	char		recipe[16];
	char		overlay_manifest[SID_TRAIN_PATH_MAX];	/* overlay clips; "" = other tracks only */
	char		bank_dir[SID_TRAIN_PATH_MAX];	/* `sampleid bank` output; "" = rubberband per pair */
	float		p_track_overlay;
	float		overlay_ratio_min_db, overlay_ratio_max_db;
	float		p_transform, p_pitch, max_semitones, stretch_min, stretch_max;
	float		p_music_eq, p_compress, p_distort;
	/* the verifier recipe, "verify" (train/sid_verify_train.h): a frozen
	 * encoder, tracks of train_split split into a catalogue and
	 * out-of-catalogue tracks, the same of val_split for calibration */
	char		fp_model[SID_TRAIN_PATH_MAX];	/* the frozen fingerprint model (.sidm) */
	char		exclude_package[64];	/* tracks of this package are never used ("" = none) */
	char		init_model[SID_TRAIN_PATH_MAX];	/* fp/sample: start from these weights ("" = random) */
	int32_t		catalogue_tracks, out_tracks;
	int32_t		val_catalogue_tracks, val_out_tracks;
	float		catalogue_seconds;	/* the middle of each catalogue track that is embedded */
	int32_t		queries_per_track;
	int32_t		noise_queries_every;	/* every n-th out-of-catalogue query is steady noise (0 = none) */
	char		query_recipe[16];	/* "fp": the fp chain's queries; "sample": sample mode's
									 * conditions, copies and alignment (overlay_manifest's drums) */
	/* architecture (sid_encoder_config; defaults: sid_encoder_default_config) */
	int32_t		channels[SID_MAX_STAGES];
	int32_t		blocks[SID_MAX_STAGES];
	int32_t		n_stages;
	int32_t		knn_k;
	/* bookkeeping */
	char		checkpoint[SID_TRAIN_PATH_MAX];	/* checkpoint file */
	char		best_model[SID_TRAIN_PATH_MAX]; /* best-validation model (.sidm); "" = none */
	char		final_model[SID_TRAIN_PATH_MAX];	/* the model after the last step; "" = none */
	char		model_name[64];
	int32_t		checkpoint_every;	/* steps; 0 = only at the end / on a signal */
	int32_t		val_every;		/* steps; 0 = never */
	int32_t		val_tracks;		/* validation tracks used (0 = all) */
	float		val_seconds;	/* seconds of each validation track in the database */
	int32_t		val_queries;
	int32_t		log_every;
	int32_t		threads;		/* 1 or 2 workers */
} sid_train_config;

void		sid_train_config_default(sid_train_config *cfg);

/*
 * Read "key = value" lines ('#' starts a comment; blank lines ignored) over
 * the defaults.  Unknown keys, malformed values and out-of-range values are
 * errors naming the file and line.  Relative paths stay as written.
 */
sid_status	sid_train_config_read(const char *path, sid_train_config *cfg, sid_error *err);
/* One key = value assignment (also used for --set KEY=VALUE). */
sid_status	sid_train_config_set(sid_train_config *cfg, const char *key, const char *value,
								 sid_error *err);
sid_status	sid_train_config_check(const sid_train_config *cfg, sid_error *err);
/* The full configuration, one key = value per line (for the log). */
void		sid_train_config_write(FILE *out, const sid_train_config *cfg);

/* ---- checkpoints -------------------------------------------------------- */

/*
 * Checkpoints are the engine's (sid_checkpoint.h: the model file with its
 * architecture, features and weights, the Adam moments, the next step, and
 * an opaque trainer state).  The trainer's state is this struct, stored as
 * SID_TRAIN_STATE_BYTES little-endian bytes: seed (u64), best validation
 * exact top-1 (f64, -1 if none), its step (i64).  The random streams are a
 * function of (seed, step), so nothing else is needed to resume exactly.
 */
#define SID_TRAIN_STATE_BYTES 24

typedef struct sid_train_state
{
	int64_t		step;			/* steps done (the checkpoint's next step) */
	uint64_t	seed;
	double		best_val;		/* best validation exact top-1, -1 if none */
	int64_t		best_step;
} sid_train_state;

/* ---- the run ----------------------------------------------------------- */

typedef struct sid_train_hooks
{
	void		(*log) (void *arg, const char *msg);	/* progress lines; may be NULL */
	void	   *arg;
	volatile sig_atomic_t *stop;	/* set by a signal handler: checkpoint and return */
	int64_t		stop_after;		/* > 0: return after this step (tests) */
} sid_train_hooks;

/* A progress line through hooks->log (nothing when there is none). */
void		sid_train_vlog(const sid_train_hooks *hooks, const char *fmt, va_list ap);

/*
 * Train as the configuration says, from scratch or (resume) from the
 * checkpoint file, until cfg->steps, hooks->stop or hooks->stop_after.  A
 * checkpoint is written every checkpoint_every steps and on the way out.
 * *final_state (may be NULL) receives the state at return.
 */
sid_status	sid_train_run(const sid_train_config *cfg, int resume, const sid_train_hooks *hooks,
						  sid_train_state *final_state, sid_error *err);

#endif
