/*
 * sid_audio.h - decode audio (bytes or file) to mono float PCM at the model rate.
 *
 * API
 *   sid_audio_limits lim; sid_audio_limits_default(&lim);
 *   sid_audio_probe_memory(buf, len, &lim, &info, &err)    header facts only
 *   sid_audio_probe_file(path, &lim, &info, &err)
 *   sid_audio_decode_memory(buf, len, rate, &lim, &info, &pcm, &err)
 *   sid_audio_decode_file(path, rate, &lim, &info, &pcm, &err)
 *       -> pcm.samples: malloc'd mono float, pcm.n_samples at pcm.sample_rate
 *          (= rate); free with sid_pcm_free(&pcm).  info may be NULL.
 *   sid_audio_resample(in, n, in_rate, out_rate, &out, &n_out, &err)
 *       one-shot libsoxr conversion (same converter as decoding)
 *
 * Two decoders behind this one interface, each serving the container/codec
 * pairs of the allow-list in docs/audio.md: libsndfile (WAV, AIFF, CAF, AU,
 * W64, RF64, FLAC, MP3) and FFmpeg, dlopened on first use (AAC, ALAC, Opus
 * in MP4; Opus, Vorbis in Matroska/WebM and in Ogg; WMA in ASF).
 * Anything else is refused with SID_EUNSUPPORTED.  Channels are mixed
 * down to mono by their mean, then resampled with libsoxr
 * (SID_AUDIO_RESAMPLER) in a streaming pass, so only the mono output is held
 * in memory.  Failures return a negative sid_status and fill the sid_error;
 * nothing is printed, nothing leaks.  Thread-safe (no shared state).
 */
#ifndef SID_AUDIO_H
#define SID_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/sid_error.h"

/* libsoxr quality recipe used for every rate change (docs/audio.md). */
#define SID_AUDIO_RESAMPLER		SOXR_HQ
#define SID_AUDIO_RESAMPLER_NAME "soxr HQ"

/*
 * Decoded samples are nominally within [-1, 1].  Float files can hold any
 * value; beyond this magnitude (120 dB over full scale) the data is treated as
 * corrupt, which also keeps every FFT power finite.
 */
#define SID_AUDIO_MAX_AMPLITUDE 1e6f

/* Input rates below this are rejected as absurd, whatever the limits say. */
#define SID_AUDIO_MIN_SAMPLE_RATE 1000

/* Highest model rate audio is resampled to. */
#define SID_AUDIO_MAX_TARGET_RATE 384000

/*
 * Which decoder serves an input is fixed by the allow-list (docs/audio.md,
 * "Decoders"); where both can (Ogg Vorbis, Ogg Opus), a benchmark may ask
 * for the one the list did not choose.
 */
typedef enum sid_audio_decoder
{
	SID_AUDIO_DECODER_AUTO = 0,
	SID_AUDIO_DECODER_SNDFILE,
	SID_AUDIO_DECODER_FFMPEG
} sid_audio_decoder;

typedef struct sid_audio_limits
{
	double		max_seconds;	/* longest accepted duration (3600) */
	int32_t		max_sample_rate;	/* highest accepted input rate, Hz (384000) */
	int32_t		max_channels;	/* most accepted input channels (64) */
	int64_t		max_input_bytes;	/* largest accepted encoded input (1 GiB) */

	/*
	 * Optional: polled once per decoded chunk (about 4096 frames); a nonzero
	 * return stops decoding with SID_ELIMIT "decoding was interrupted".  The
	 * extension stops on a pending cancel or termination.
	 */
	int			(*interrupted) (void *arg);
	void	   *interrupted_arg;

	sid_audio_decoder decoder;	/* SID_AUDIO_DECODER_AUTO: the allow-list's */
} sid_audio_limits;

typedef struct sid_audio_info
{
	double		duration_seconds;	/* frames / sample_rate */
	int64_t		frames;			/* per channel, at the original rate */
	int32_t		sample_rate;	/* original rate, Hz */
	int32_t		channels;		/* original channel count */
	int32_t		sf_format;		/* libsndfile SF_FORMAT_* (major | subtype); 0 from FFmpeg */
	char		format[32];		/* container: "wav", "flac", "ogg", "mp4", ... */
	char		encoding[32];	/* "pcm_16", "float", "vorbis", "opus", "aac", ... */
} sid_audio_info;

typedef struct sid_pcm
{
	float	   *samples;		/* mono, malloc'd */
	int64_t		n_samples;
	int32_t		sample_rate;
} sid_pcm;

extern void sid_audio_limits_default(sid_audio_limits *lim);

extern sid_status sid_audio_probe_memory(const void *data, size_t len,
										 const sid_audio_limits *lim,
										 sid_audio_info *info, sid_error *err);
extern sid_status sid_audio_probe_file(const char *path, const sid_audio_limits *lim,
									   sid_audio_info *info, sid_error *err);

extern sid_status sid_audio_decode_memory(const void *data, size_t len, int32_t target_rate,
										  const sid_audio_limits *lim, sid_audio_info *info,
										  sid_pcm *pcm, sid_error *err);
extern sid_status sid_audio_decode_file(const char *path, int32_t target_rate,
										const sid_audio_limits *lim, sid_audio_info *info,
										sid_pcm *pcm, sid_error *err);

extern sid_status sid_audio_resample(const float *in, int64_t n_in, int32_t in_rate,
									 int32_t out_rate, float **out, int64_t *n_out,
									 sid_error *err);

extern void sid_pcm_free(sid_pcm *pcm);

#endif
