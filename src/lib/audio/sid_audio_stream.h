/*
 * sid_audio_stream.h - what both decoders share (internal to src/lib/audio):
 * the input checks, the stream limits, and the mixdown + resampling sink that
 * turns interleaved float frames into mono PCM at the model rate.  A decoder
 * opens its input, calls sid_audio_stream_begin() with the stream's rate and
 * channels, pushes what it decodes, and finishes; the limits, the interrupt
 * hook and the bad-sample rule are applied here, once for both.
 */
#ifndef SID_AUDIO_STREAM_H
#define SID_AUDIO_STREAM_H

#include "audio/sid_audio.h"

#include <soxr.h>

typedef struct sid_audio_stream
{
	const sid_audio_limits *lim;
	int32_t		in_rate;
	int32_t		channels;
	int32_t		target_rate;	/* 0: probing, frames are only counted */
	int64_t		max_frames;		/* lim->max_seconds at in_rate */
	float	   *mono;			/* one chunk of mixed-down frames */
	soxr_t		rs;				/* NULL: no rate change, or probing */
	double		ratio;
	float	   *out;			/* mono output at target_rate, growing */
	int64_t		out_len;
	int64_t		out_cap;
	int64_t		total;			/* frames pushed so far, at in_rate */
} sid_audio_stream;

/* Empty input, byte limit; for a file also stat()'s verdict and its size. */
extern sid_status sid_audio_check_memory_size(size_t len, const sid_audio_limits *lim,
											  sid_error *err);
extern sid_status sid_audio_check_file(const char *path, const sid_audio_limits *lim,
									   int64_t *size, sid_error *err);

/* Position after a seek (SEEK_SET/CUR/END) in an input of len bytes; -1 if invalid. */
extern int64_t sid_audio_seek_target(int64_t pos, int64_t len, int64_t offset, int whence);

/* Channel, rate and (when frames > 0) duration limits on declared facts. */
extern sid_status sid_audio_check_stream(int32_t rate, int32_t channels, int64_t frames,
										 const sid_audio_limits *lim, sid_error *err);

/* expected_frames > 0 reserves the output once; target_rate 0 only counts. */
extern sid_status sid_audio_stream_begin(sid_audio_stream *s, int32_t in_rate, int32_t channels,
										 int32_t target_rate, int64_t expected_frames,
										 const sid_audio_limits *lim, sid_error *err);

/* n interleaved frames: interrupt hook, duration limit, bad samples, mixdown. */
extern sid_status sid_audio_stream_push(sid_audio_stream *s, const float *frames, int64_t n,
										sid_error *err);

/* Flush; hands the samples to pcm (when not probing); refuses no output. */
extern sid_status sid_audio_stream_finish(sid_audio_stream *s, sid_pcm *pcm, sid_error *err);

extern void sid_audio_stream_end(sid_audio_stream *s);

/*
 * The FFmpeg decoder (sid_audio_ffmpeg.c), for the containers the allow-list
 * gives it.  data/len or path: one of them.  target_rate 0 probes.
 */
typedef enum sid_ffmpeg_container
{
	SID_FFMPEG_MP4,
	SID_FFMPEG_MATROSKA,
	SID_FFMPEG_OGG,
	SID_FFMPEG_ASF
} sid_ffmpeg_container;

extern sid_status sid_ffmpeg_decode(const void *data, size_t len, const char *path,
									sid_ffmpeg_container container, int32_t target_rate,
									const sid_audio_limits *lim, sid_audio_info *info,
									sid_pcm *pcm, sid_error *err);

#endif
