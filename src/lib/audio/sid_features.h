/*
 * sid_features.h - the feature configuration a model was trained with.
 *
 * One struct carried inside every model file, so the extension, the CLI and
 * the trainer compute exactly the features the model expects.  The audio
 * front end (sid_audio / sid_mel) owns the computation; docs/audio.md states
 * every convention.
 *
 * API
 *   sid_features_default(&cfg)          16 kHz, n_fft 1024, hop 256, 64 mels,
 *                                       0..8000 Hz, 1 s windows every 0.5 s
 *   sid_features_validate(&cfg, &err)   SID_OK or SID_EINVAL with a reason
 *   sid_features_segment_samples(&cfg)  window length in samples (rounded)
 *   sid_features_segment_hop_samples(&cfg)  window spacing in samples (rounded)
 *
 * Conventions that are fixed (not configurable) are constants below, so a
 * model file needs only the fields of the struct.
 */
#ifndef SID_FEATURES_H
#define SID_FEATURES_H

#include <stdint.h>

#include "core/sid_error.h"

typedef struct sid_feature_config
{
	int32_t		sample_rate;	/* Hz after resampling, 16000 */
	int32_t		n_fft;			/* FFT size and Hann window length, 1024 */
	int32_t		hop_length;		/* samples between frames, 256 or 512 */
	int32_t		n_mels;			/* mel bands, 64 */
	float		f_min;			/* lowest mel band edge, Hz */
	float		f_max;			/* highest mel band edge, Hz (<= sample_rate / 2) */
	float		segment_seconds;	/* model window length, e.g. 1.0 */
	float		segment_hop_seconds;	/* distance between window starts, e.g. 0.5 */
} sid_feature_config;

/* Fixed conventions (docs/audio.md). */
#define SID_MEL_POWER_FLOOR		1e-10f	/* power floor before dB: -100 dB */
#define SID_MEL_DB_FLOOR		(-100.0f)	/* = 10 * log10(SID_MEL_POWER_FLOOR) */
#define SID_MEL_DB_REF			1.0f	/* dB relative to power 1.0 (absolute) */

/* Sanity bounds that validation enforces. */
#define SID_FEATURES_MIN_RATE	1000
#define SID_FEATURES_MAX_RATE	384000
#define SID_FEATURES_MAX_NFFT	65536
#define SID_FEATURES_MAX_MELS	1024
#define SID_FEATURES_MAX_SEGMENT_SECONDS 600.0f

extern void sid_features_default(sid_feature_config *cfg);
extern sid_status sid_features_validate(const sid_feature_config *cfg, sid_error *err);
extern int64_t sid_features_segment_samples(const sid_feature_config *cfg);
extern int64_t sid_features_segment_hop_samples(const sid_feature_config *cfg);

#endif
