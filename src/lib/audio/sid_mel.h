/*
 * sid_mel.h - log-mel spectrogram and model-window segmenting (FFTW3, float).
 *
 * API
 *   sid_mel *m = sid_mel_create(&cfg, &err);   plan + window + filterbank, once
 *   ... any number of signals ...
 *   sid_mel_free(m);
 *
 *   Frames (whole signal, frame f centred on sample f * hop):
 *     n = sid_mel_n_frames(m, n_samples);
 *     sid_mel_frames(m, pcm, n_samples, out[n][n_mels], &err);
 *
 *   Segments (model windows; segment s starts at sample s * segment_hop):
 *     F  = sid_mel_frames_per_segment(m);        1 + segment_samples / hop
 *     S  = sid_mel_n_segments(m, n_samples);     covers every sample
 *     t  = sid_mel_segment_start_seconds(m, s);  exact: start_sample / rate
 *     sid_mel_segments(m, pcm, n_samples, first, count,
 *                      out[count][F][n_mels], t_start[count] or NULL, &err);
 *     or, allocating everything:
 *     sid_segments segs; sid_mel_segments_alloc(m, pcm, n_samples, &segs, &err);
 *     ... segs.mel[(s * F + j) * n_mels + b], segs.t_start[s] ...
 *     sid_segments_free(&segs);
 *
 *   Whole pipeline (decode + mixdown + resample + log-mel + segments):
 *     sid_segments_from_memory(m, bytes, len, &limits, &info, &segs, &err);
 *     sid_segments_from_file(m, path, &limits, &info, &segs, &err);
 *
 * Values are 10 * log10(max(mel power, 1e-10)), i.e. dB re power 1.0 with a
 * floor of -100 dB; digital silence gives exactly -100 everywhere.  Slaney
 * mel scale and Slaney (area) filter normalisation; periodic Hann window; zero
 * padding outside the signal.  docs/audio.md states every convention.
 *
 * Threads: one sid_mel per thread (it owns scratch buffers); creating and
 * freeing contexts is safe from any thread (FFTW's planner is serialised by
 * the lock in core/sid_fft_lock.h, which any other FFTW user must take).
 */
#ifndef SID_MEL_H
#define SID_MEL_H

#include <stddef.h>
#include <stdint.h>

#include "audio/sid_audio.h"
#include "core/sid_error.h"
#include "audio/sid_features.h"

typedef struct sid_mel sid_mel;

typedef struct sid_segments
{
	float	   *mel;			/* [n_segments][frames_per_segment][n_mels] */
	double	   *t_start;		/* [n_segments], seconds */
	int64_t		n_segments;
	int32_t		frames_per_segment;
	int32_t		n_mels;
} sid_segments;

extern sid_mel *sid_mel_create(const sid_feature_config *cfg, sid_error *err);
extern void sid_mel_free(sid_mel *m);
extern const sid_feature_config *sid_mel_config(const sid_mel *m);

/* The triangular filter of band b: first FFT bin, bin count, weights. */
extern const float *sid_mel_filter(const sid_mel *m, int band, int *first_bin, int *n_bins);
/* Centre frequency (Hz) of band b: the peak of its triangle. */
extern double sid_mel_band_center_hz(const sid_mel *m, int band);

extern int64_t sid_mel_n_frames(const sid_mel *m, int64_t n_samples);
extern sid_status sid_mel_frames(sid_mel *m, const float *pcm, int64_t n_samples,
								 float *out, sid_error *err);

extern int32_t sid_mel_frames_per_segment(const sid_mel *m);
extern int64_t sid_mel_n_segments(const sid_mel *m, int64_t n_samples);
extern int64_t sid_mel_segment_start_sample(const sid_mel *m, int64_t seg);
extern double sid_mel_segment_start_seconds(const sid_mel *m, int64_t seg);
extern sid_status sid_mel_segments(sid_mel *m, const float *pcm, int64_t n_samples,
								   int64_t first_seg, int64_t n_seg,
								   float *out, double *t_start, sid_error *err);
extern sid_status sid_mel_segments_alloc(sid_mel *m, const float *pcm, int64_t n_samples,
										 sid_segments *segs, sid_error *err);
extern void sid_segments_free(sid_segments *segs);

extern sid_status sid_segments_from_memory(sid_mel *m, const void *data, size_t len,
										   const sid_audio_limits *lim, sid_audio_info *info,
										   sid_segments *segs, sid_error *err);
extern sid_status sid_segments_from_file(sid_mel *m, const char *path,
										 const sid_audio_limits *lim, sid_audio_info *info,
										 sid_segments *segs, sid_error *err);

#endif
