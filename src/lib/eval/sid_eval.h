/*
 * sid_eval.h - the identification benchmark of issue 5: a reference database
 * from one split of the manifest, seeded degraded queries cut from it, exact
 * sequence search, and top-1 hit-rate tables.
 *
 * For every query length L and query index q a (track, start) is drawn
 * (tracks weighted by duration, start uniform); that excerpt is then
 * degraded under every condition - each SNR, without and with reverberation
 * - so the cells of a table are paired: they differ only in the condition.
 * Noise clips come from the noise manifest's "test" part, impulse responses
 * and synthetic noise from the test seed range (sid_rir_seed); nothing the
 * trainer sees.  Queries are searched together (sid_seqsearch) and each
 * answer is classified exact / near against the true start.
 *
 * The model is reached only through sid_embed.h: reference tracks by
 * sid_embed_pcm_parallel (cfg->threads embedders), queries by sid_embed_batch.
 */
#ifndef SID_EVAL_H
#define SID_EVAL_H

#include <stdint.h>

#include "core/sid_error.h"
#include "corpus/sid_manifest.h"
#include "model/sid_model.h"
#include "search/sid_seqsearch.h"

#define SID_EVAL_MAX_CONDITIONS 8

typedef struct sid_eval_config
{
	const char *data_dir;		/* manifest paths are relative to it */
	const char *split;			/* manifest split searched ("reference") */
	double		hop_seconds;	/* reference hop; 0 = the model's segment hop */
	int32_t		hop_ratio;		/* query segment spacing, in reference hops */
	int32_t		k;				/* neighbours per query segment */
	int32_t		queries;		/* excerpts per query length */
	int			n_lengths;
	double		lengths[SID_EVAL_MAX_CONDITIONS];	/* seconds */
	int			n_snrs;
	double		snrs[SID_EVAL_MAX_CONDITIONS];	/* dB; INFINITY = no noise */
	int			reverb_modes;	/* bit 0: without reverb, bit 1: with reverb */
	float		p_synthetic;	/* share of synthetic (vs recorded) noise */
	uint64_t	seed;
	int32_t		max_tracks;		/* 0 = every track of the split */
	int			align_starts;	/* starts on the hop grid (tests, --grid-starts) */
	int32_t		batch;			/* windows per encoder call */
	int			threads;		/* embedders for reference tracks (1) */
	/* progress messages (may be NULL): the library never prints */
	void		(*progress) (void *arg, const char *msg);
	void	   *progress_arg;
} sid_eval_config;

/* The tables' row and column values point into the config's lengths and
 * snrs: keep the config alive while using them. */
typedef struct sid_eval_result
{
	sid_hit_table table[2];		/* [0] noise only, [1] noise + reverberation */
	/* right track at any offset (its "exact" counts; "near" equal): the
	 * same tolerance whatever the hop, so hops can be compared fairly */
	sid_hit_table track[2];
	int			has_table[2];
	int32_t		ref_tracks;
	int64_t		ref_segments;
	double		ref_seconds;
	double		hop_seconds;
	int32_t		dim;
	int64_t		queries;		/* searched (all conditions) */
	int64_t		query_segments;
	double		embed_seconds;	/* wall time in the encoder */
	double		search_seconds; /* wall time in sid_seqsearch */
} sid_eval_result;

/* Lengths 1, 2, 3, 5 s; SNR 0, 5, 10, 15, 20 dB; both reverb modes; k 20;
 * 100 queries per length; seed 5. */
void		sid_eval_config_default(sid_eval_config *cfg);

sid_status	sid_eval_run(sid_model *model, const sid_manifest *music,
						 const sid_manifest *noise, const sid_eval_config *cfg,
						 sid_eval_result *result, sid_error *err);
void		sid_eval_result_free(sid_eval_result *r);

#endif
