/*
 * sid_features.c - defaults and validation of the feature configuration.
 */
#include "audio/sid_features.h"

#include <math.h>

void
sid_features_default(sid_feature_config *cfg)
{
	cfg->sample_rate = 16000;
	cfg->n_fft = 1024;
	cfg->hop_length = 256;
	cfg->n_mels = 64;
	cfg->f_min = 0.0f;
	cfg->f_max = 8000.0f;
	cfg->segment_seconds = 1.0f;
	cfg->segment_hop_seconds = 0.5f;
}

int64_t
sid_features_segment_samples(const sid_feature_config *cfg)
{
	return (int64_t) llround((double) cfg->segment_seconds * cfg->sample_rate);
}

int64_t
sid_features_segment_hop_samples(const sid_feature_config *cfg)
{
	return (int64_t) llround((double) cfg->segment_hop_seconds * cfg->sample_rate);
}

sid_status
sid_features_validate(const sid_feature_config *cfg, sid_error *err)
{
	if (cfg->sample_rate < SID_FEATURES_MIN_RATE || cfg->sample_rate > SID_FEATURES_MAX_RATE)
		return sid_fail(err, SID_EINVAL, "feature sample rate %d Hz is outside %d..%d",
						(int) cfg->sample_rate, SID_FEATURES_MIN_RATE, SID_FEATURES_MAX_RATE);
	if (cfg->n_fft < 16 || cfg->n_fft > SID_FEATURES_MAX_NFFT || cfg->n_fft % 2 != 0)
		return sid_fail(err, SID_EINVAL, "n_fft %d must be even and within 16..%d",
						(int) cfg->n_fft, SID_FEATURES_MAX_NFFT);
	if (cfg->hop_length < 1 || cfg->hop_length > cfg->n_fft)
		return sid_fail(err, SID_EINVAL, "hop length %d must be within 1..n_fft (%d)",
						(int) cfg->hop_length, (int) cfg->n_fft);
	if (cfg->n_mels < 1 || cfg->n_mels > SID_FEATURES_MAX_MELS)
		return sid_fail(err, SID_EINVAL, "n_mels %d must be within 1..%d",
						(int) cfg->n_mels, SID_FEATURES_MAX_MELS);
	if (!isfinite(cfg->f_min) || !isfinite(cfg->f_max) || cfg->f_min < 0.0f ||
		cfg->f_max <= cfg->f_min || cfg->f_max > cfg->sample_rate / 2.0f)
		return sid_fail(err, SID_EINVAL,
						"mel band edges %g..%g Hz must satisfy 0 <= f_min < f_max <= %g",
						(double) cfg->f_min, (double) cfg->f_max, cfg->sample_rate / 2.0);
	if (!isfinite(cfg->segment_seconds) || !isfinite(cfg->segment_hop_seconds) ||
		cfg->segment_seconds > SID_FEATURES_MAX_SEGMENT_SECONDS ||
		cfg->segment_hop_seconds > SID_FEATURES_MAX_SEGMENT_SECONDS)
		return sid_fail(err, SID_EINVAL, "segment window %g s / hop %g s must be finite and at most %g s",
						(double) cfg->segment_seconds, (double) cfg->segment_hop_seconds,
						(double) SID_FEATURES_MAX_SEGMENT_SECONDS);
	if (sid_features_segment_samples(cfg) < cfg->hop_length)
		return sid_fail(err, SID_EINVAL, "segment window %g s is shorter than one hop (%d samples)",
						(double) cfg->segment_seconds, (int) cfg->hop_length);
	if (sid_features_segment_hop_samples(cfg) < 1)
		return sid_fail(err, SID_EINVAL, "segment hop %g s is shorter than one sample",
						(double) cfg->segment_hop_seconds);
	return SID_OK;
}
