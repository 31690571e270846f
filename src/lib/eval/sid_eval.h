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
 * The sample conditions (cfg->mode SID_EVAL_SAMPLE, issue 11) replace the
 * SNR x reverberation grid by a list of named conditions (sid_conditions.h):
 * pitch, speed, tempo, overlays of other music (tracks of
 * cfg->music_overlay_split, never the searched split) and drum loops (the
 * drums-* clips of the overlay manifest's test part).  Excerpts then start
 * at least the conditions' lead into the track and leave room for the
 * fastest tempo, so every list of conditions gets the same excerpts.
 *
 * With transposed copies (cfg->transpose_lo < 0 or transpose_hi > 0) each
 * degraded query is also searched as its pitch-only copies
 * (sid_transpose_copies); the copy whose best alignment scores highest is the
 * answer, and which copy won is counted.
 *
 * The model is reached only through sid_embed.h: reference tracks by
 * sid_embed_pcm_parallel (cfg->threads embedders), queries by sid_embed_batch.
 */
#ifndef SID_EVAL_H
#define SID_EVAL_H

#include <stdint.h>

#include "audio/sid_stretch.h"
#include "core/sid_error.h"
#include "corpus/sid_manifest.h"
#include "eval/sid_conditions.h"
#include "model/sid_model.h"
#include "search/sid_seqsearch.h"

#define SID_EVAL_MAX_CONDITIONS 8
#define SID_EVAL_MAX_SAMPLE_CONDITIONS 48

typedef enum sid_eval_mode
{
	SID_EVAL_NOISE,				/* SNR x reverberation (issue 5) */
	SID_EVAL_SAMPLE				/* the named sample conditions (issue 11) */
} sid_eval_mode;

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
	sid_eval_mode mode;
	int			n_sample;
	sid_condition sample[SID_EVAL_MAX_SAMPLE_CONDITIONS];
	const sid_manifest *overlays;	/* drum loops: drums-* of its test part */
	const char *music_overlay_split;	/* other music ("validation") */
	int			transpose_lo,	/* copies lo .. hi semitones; 0, 0 = none */
				transpose_hi;
	sid_stretch_engine transpose_engine;
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
	/* SID_EVAL_SAMPLE: table[0] and track[0] have a row per sample condition
	 * (row_values NULL) and a column per query length */
	int			n_copies;		/* searched copies per query (1 = no copies) */
	/* with copies: table and track as the unshifted copy alone answers, the
	 * same queries without transposition, from the same run */
	sid_hit_table unshifted[2];
	sid_hit_table unshifted_track[2];
	/* right recording first, by the copy that won: [condition][length][copy],
	 * conditions as the rows of the mode's tables (SID_EVAL_NOISE: reverb
	 * mode x SNR, in the order of the configured modes) */
	int64_t    *copy_wins;
	int64_t		copied_queries; /* degraded queries made into copies */
	double		transpose_cpu_seconds;	/* CPU in sid_transpose_copies */
	double		condition_cpu_seconds;	/* CPU making the degraded queries */
	int32_t		overlay_clips[2];	/* music, drum clips loaded */
} sid_eval_result;

/* Lengths 1, 2, 3, 5 s; SNR 0, 5, 10, 15, 20 dB; both reverb modes; k 20;
 * 100 queries per length; seed 5; the noise mode; every sample condition
 * (used in the sample mode), other music from "validation"; no copies,
 * R2 ("faster") when there are. */
void		sid_eval_config_default(sid_eval_config *cfg);

sid_status	sid_eval_run(sid_model *model, const sid_manifest *music,
						 const sid_manifest *noise, const sid_eval_config *cfg,
						 sid_eval_result *result, sid_error *err);
void		sid_eval_result_free(sid_eval_result *r);

#endif
