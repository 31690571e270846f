/*
 * sid_features.h - the feature configuration a model was trained with.
 *
 * One struct carried inside every model file, so the extension, the CLI and
 * the trainer compute exactly the features the model expects.  The audio
 * front end (sid_audio / sid_mel) owns the computation; docs/audio.md states
 * every convention.
 */
#ifndef SID_FEATURES_H
#define SID_FEATURES_H

#include <stdint.h>

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

#endif
