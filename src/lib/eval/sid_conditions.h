/*
 * sid_conditions.h - the sample-identification conditions of sampleid eval
 * (issue 11): what a producer does to a catalogue recording before it is
 * heard in a new work, one named condition at a time.
 *
 * A condition is applied to a span of the reference track, in order:
 *   1. speed: resampling (audio/sid_audio_resample), pitch and tempo together;
 *   2. pitch and tempo: librubberband's R3 ("finer") engine (audio/
 *      sid_stretch), the transform a producer would use;
 *   3. overlay: other music or a drum loop at a sample-to-overlay power
 *      ratio, set over the query's own samples (augment/sid_music's overlay
 *      mixing, with no transform of its own), so the overlay is not
 *      transposed with the sample.
 * The query's first sample comes from the reference track's sample
 * `sid_condition_lead(c, rate)` into the span: that reference time is the
 * query's true start, whatever the tempo.
 */
#ifndef SID_CONDITIONS_H
#define SID_CONDITIONS_H

#include <stddef.h>
#include <stdint.h>

#include "augment/sid_augment.h"
#include "core/sid_error.h"
#include "corpus/sid_corpus.h"
#include "corpus/sid_manifest.h"

#define SID_CONDITION_NAME_MAX 32
/* Most reference seconds one second of query may take (tempo or speed up
 * to this); the excerpt draws leave room for it whatever the conditions, so
 * the same excerpts are drawn for any list of them. */
#define SID_CONDITION_MAX_SOURCE 1.25
/* Reference audio before the query's start that the transforms see, so
 * rubberband's and the resampler's edges stay out of the query. */
#define SID_CONDITION_LEAD_SECONDS 0.25

typedef enum sid_condition_group
{
	SID_COND_CLEAN,
	SID_COND_PITCH,
	SID_COND_SPEED,
	SID_COND_TEMPO,
	SID_COND_PITCH_TEMPO,
	SID_COND_OVERLAY,
	SID_COND_PITCH_OVERLAY,
	SID_COND_N_GROUPS
} sid_condition_group;

typedef enum sid_overlay_source
{
	SID_OVERLAY_NONE,
	SID_OVERLAY_MUSIC,			/* a track of a split outside the reference */
	SID_OVERLAY_DRUMS			/* a rendered drum loop of the overlays' test part */
} sid_overlay_source;

typedef struct sid_condition
{
	char		name[SID_CONDITION_NAME_MAX];
	sid_condition_group group;
	double		semitones;		/* pitch shift, tempo kept */
	double		tempo;			/* playback rate, pitch kept: 1.1 = 10 % faster */
	double		speed;			/* playback rate by resampling: pitch moves with it */
	sid_overlay_source overlay;
	float		ratio_db;		/* sample power over overlay power */
} sid_condition;

/* The group's name ("pitch", "pitch+overlay", ...). */
const char *sid_condition_group_name(sid_condition_group g);

/* The goal for the group, % right recording first at 10 s in the
 * sample mode; 0 when it has none. */
double		sid_condition_group_goal(sid_condition_group g);

/*
 * The standard list into out[max] (returns how many): clean; pitch -3 .. +3
 * and -1.5, +1.5, +2.5; speed 0.85, 0.9, 1.1, 1.15; tempo 0.8, 0.9, 1.1, 1.2;
 * four pitch plus tempo; music and drums at 0, 3, 6 dB; +-2 semitones under
 * music and drums at 3 dB.
 */
int			sid_conditions_default(sid_condition *out, int max);

/*
 * Select from the standard list by comma-separated names: a condition's
 * name or a group's name (all of the group), or "sample" for all.  Returns
 * the count, or -1 with err set for an unknown name or too many.
 */
int			sid_conditions_select(const char *list, sid_condition *out, int max, sid_error *err);

/* Checks a condition's ranges (rates 0.5 .. SID_CONDITION_MAX_SOURCE). */
sid_status	sid_condition_check(const sid_condition *c, sid_error *err);

/* Reference samples before the query's start that the span passes. */
size_t		sid_condition_lead(const sid_condition *c, int rate);

/* Reference samples a query of n samples needs, the lead included. */
size_t		sid_condition_span(const sid_condition *c, int rate, size_t n);

/*
 * out[n] is the query made from in[sid_condition_span(c, rate, n)] under c.
 * The overlay (when c has one) is overlays' clip `clip` from clip_start on,
 * looped if short.  out must not alias in.
 */
sid_status	sid_condition_apply(const sid_condition *c, const sid_noise_bank *overlays,
								size_t clip, size_t clip_start, const float *in, int rate,
								float *out, size_t n, sid_error *err);

/*
 * The drum loops of an overlay manifest (scripts/overlays.sh): its drums-*
 * clips of `part` ("test" for evaluation, "train" for training), decoded
 * into s; SID_EINVAL when there are none.
 */
sid_status	sid_drum_loops_load(sid_noise_store *s, const sid_manifest *overlays, const char *part,
								const char *data_dir, int32_t rate, sid_error *err);

#endif
