/*
 * sid_music.h - the musical side of a sample pair: what a producer does to a
 * sample, from a seed.
 *
 * The chain, in order: the sample is mixed with other material (another
 * track, a drum loop, an instrument) at a drawn sample-to-overlay ratio;
 * then the whole mix goes through one of a pitch shift (semitones, tempo
 * kept) or a time stretch (pitch kept), with librubberband (audio/
 * sid_stretch.h); then EQ (sid_eq_draw), compression and soft-clip
 * distortion.  The fp chain (sid_augment.h: noise, rooms) runs after it at
 * milder levels (sid_music_room_defaults).  As in sid_augment, everything
 * random is drawn first into a plan (sid_music_draw), then applied
 * (sid_music_run), so evaluation can set one condition exactly.
 *
 * Overlays come as clips (a sid_noise_bank of the allowed overlay sources:
 * other tracks of the train split, drum kits, instrument samples, rendered
 * MIDI; docs/sample-model.md).  A stretch changes how much input one output
 * window needs: sid_music_input_len says how much to pass.
 */
#ifndef SID_MUSIC_H
#define SID_MUSIC_H

#include <stddef.h>

#include "augment/sid_augment.h"
#include "core/sid_error.h"
#include "core/sid_rng.h"

typedef struct sid_music_config
{
	float		sample_rate;
	size_t		max_len;		/* longest output span, samples */
	float		p_overlay;		/* chance of an overlay */
	float		ratio_min_db,	/* sample-to-overlay power ratio */
				ratio_max_db;
	float		p_transform;	/* chance of a pitch shift or a time stretch */
	float		p_pitch;		/* given one, chance it is the pitch shift */
	float		max_semitones;	/* shifts uniform in +- this */
	float		stretch_min,	/* time ratios log-uniform in [min, max] */
				stretch_max;
	float		p_eq;
	float		p_compress;
	float		p_distort;
} sid_music_config;

typedef enum sid_music_transform
{
	SID_MUSIC_NONE,
	SID_MUSIC_PITCH,
	SID_MUSIC_STRETCH
} sid_music_transform;

typedef struct sid_music_plan
{
	int			overlay;
	size_t		clip;			/* overlay clip and where in it to start */
	size_t		clip_start;
	float		ratio_db;		/* sample power over overlay power */
	sid_music_transform transform;
	float		semitones;
	float		time_ratio;		/* output length over input length */
	int			eq_on;
	sid_eq_plan eq;
	int			compress;
	float		threshold_db;	/* relative to the span's peak */
	float		comp_ratio;
	int			distort;
	float		drive;			/* tanh(drive x) / drive */
} sid_music_plan;

/* The paper's recipe: overlay at +-10 dB, then one of +-3 semitones or a
 * stretch of 0.7 .. 1.5, always. */
void		sid_music_config_default(sid_music_config *cfg, float sample_rate, size_t max_len);
sid_status	sid_music_config_check(const sid_music_config *cfg, sid_error *err);

/* The fp chain at the levels of a produced record: less noise, fewer and
 * smaller rooms, no second EQ. */
void		sid_music_room_defaults(sid_augment_config *aug, float sample_rate, size_t max_len);

void		sid_music_draw(const sid_music_config *cfg, const sid_noise_bank *overlays,
						   sid_rng *rng, sid_music_plan *plan);

/* Input samples the plan needs for n output samples (a margin each side
 * keeps rubberband's edges out of the window). */
size_t		sid_music_input_len(const sid_music_plan *plan, size_t n);

/*
 * Apply a plan: in[sid_music_input_len(plan, n)] is the sample, out[n]
 * receives the centre n samples of the produced mix.  out must not alias in.
 */
sid_status	sid_music_run(const sid_music_config *cfg, const sid_noise_bank *overlays,
						  const sid_music_plan *plan, const float *in, float *out, size_t n,
						  sid_error *err);

/* Dynamic-range compression of x[n] in place: above threshold_db (dBFS) the
 * level rises 1/ratio as fast; 5 ms attack, 80 ms release; no make-up gain. */
void		sid_compress(float *x, size_t n, float sample_rate, float threshold_db, float ratio);

void		sid_music_describe(const sid_music_plan *plan, char *buf, size_t size);

#endif
