/*
 * sid_augment.h - degrading one view of a positive pair the way a recording
 * through a room and a microphone does, from a seed.
 *
 * The chain, in order: room reverberation (a synthesised impulse response,
 * FFT convolution, with the audio before the span fed in so the tail of
 * what came before is heard), equalisation / band-limiting (biquads),
 * background noise at a target SNR (a clip from the noise bank or synthetic
 * white / pink / brown / hum noise), and gain.  The time offset between the
 * two views is drawn here too but applied by the caller, who cuts the views.
 *
 * Everything random is drawn first into a sid_augment_plan
 * (sid_augment_draw), then applied (sid_augment_run): evaluation draws a plan
 * and overrides the SNR and reverberation of the condition it measures.
 * Noise clips and impulse responses of the train and test parts never mix:
 * the bank holds one part's clips, and the config's part picks the seed range
 * of responses and synthetic noise.  docs/corpus.md lists the defaults.
 */
#ifndef SID_AUGMENT_H
#define SID_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "augment/sid_biquad.h"
#include "core/sid_error.h"
#include "augment/sid_noise.h"
#include "augment/sid_rir.h"
#include "core/sid_rng.h"

#define SID_AUGMENT_MAX_EQ 4

/* Noise clips of one part, at the model's sample rate (owned by the caller). */
typedef struct sid_noise_bank
{
	const float *const *clips;
	const size_t *lengths;
	size_t		n;
} sid_noise_bank;

typedef struct sid_augment_config
{
	float		sample_rate;
	size_t		max_len;		/* longest span augmented, samples */
	size_t		max_preroll;	/* most audio fed before the span, samples */
	float		max_offset_s;	/* the views' starts differ by up to +- this */
	float		p_noise;		/* chance of background noise */
	float		p_synthetic;	/* given noise, chance it is synthetic, not a clip */
	float		snr_min_db,
				snr_max_db;
	float		p_reverb;
	sid_rir_ranges rir;
	uint32_t	n_rirs;			/* responses in the part's pool */
	sid_data_part part;			/* train or test responses and synthetic noise */
	float		p_eq;
	float		gain_min_db,
				gain_max_db;
} sid_augment_config;

/* A drawn equaliser: band-limiting like a small loudspeaker or a phone, then
 * up to two bells (also the musical chain's EQ, sid_music.h). */
typedef struct sid_eq_plan
{
	int			n;
	sid_biquad_type type[SID_AUGMENT_MAX_EQ];
	float		f0[SID_AUGMENT_MAX_EQ];
	float		q[SID_AUGMENT_MAX_EQ];
	float		gain_db[SID_AUGMENT_MAX_EQ];
} sid_eq_plan;

typedef enum sid_augment_noise
{
	SID_AUG_NOISE_NONE,
	SID_AUG_NOISE_SYNTHETIC,
	SID_AUG_NOISE_CLIP
} sid_augment_noise;

/* Everything random about one augmentation. */
typedef struct sid_augment_plan
{
	sid_augment_noise noise;
	sid_noise_kind synthetic_kind;
	uint64_t	noise_seed;		/* synthetic noise (part-ranged like sid_rir_seed) */
	size_t		clip;			/* bank clip and where in it to start */
	size_t		clip_start;
	float		snr_db;
	int			reverb;
	uint32_t	rir_index;		/* response sid_rir_seed(part, rir_index) */
	sid_eq_plan eq;
	float		gain_db;
} sid_augment_plan;

typedef struct sid_augment_work sid_augment_work;

/* Defaults for training at sample_rate with spans of max_len samples. */
void		sid_augment_config_default(sid_augment_config *cfg, float sample_rate, size_t max_len);

/* Buffers and FFT plans for one thread. */
sid_augment_work *sid_augment_work_create(const sid_augment_config *cfg, sid_error *err);
void		sid_augment_work_free(sid_augment_work *w);

/* Offset of the second view, in samples, uniform in +- max_offset_s. */
long		sid_augment_offset(const sid_augment_config *cfg, sid_rng *rng);

/* Draw a plan for a span of n samples (bank may be NULL or empty). */
void		sid_augment_draw(const sid_augment_config *cfg, const sid_noise_bank *bank,
							 sid_rng *rng, size_t n, sid_augment_plan *plan);

/*
 * Apply a plan: in[0 .. preroll + n) is the audio, out[0 .. n) receives the
 * augmented span in[preroll .. preroll + n).  out must not alias in.
 */
sid_status	sid_augment_run(sid_augment_work *w, const sid_noise_bank *bank,
							const sid_augment_plan *plan, const float *in, size_t preroll,
							float *out, size_t n, sid_error *err);

/* n samples of bank clip `clip` from `start` on, repeating a short clip as a
 * looped ambience or drum loop would. */
sid_status	sid_bank_excerpt(const sid_noise_bank *bank, size_t clip, size_t start, float *out,
							 size_t n, sid_error *err);

/* Draw an equaliser for audio at sample_rate. */
void		sid_eq_draw(sid_rng *rng, float sample_rate, sid_eq_plan *eq);
/* Run it over x[n] in place. */
sid_status	sid_eq_run(const sid_eq_plan *eq, float sample_rate, float *x, size_t n, sid_error *err);

/* One line describing a plan, for logs. */
void		sid_augment_describe(const sid_augment_plan *plan, char *buf, size_t size);

#endif
