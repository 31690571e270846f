/*
 * sid_audio_ffmpeg.c - the second decoder: FFmpeg's libavformat/libavcodec,
 * for the containers and codecs of the allow-list that libsndfile does not
 * read (AAC, ALAC, Opus in MP4; Opus, Vorbis in Matroska/WebM; WMA) and for
 * Ogg Vorbis and Ogg Opus, which FFmpeg's own decoders decode 2-3x faster
 * than libvorbis and libopus through libsndfile (docs/benchmarks.md,
 * "Decoders").
 *
 * The libraries are dlopened the first time an input is routed here, not
 * linked: linked, they and their dependencies add about 25 ms to every
 * backend's LOAD.  Input is always read through our own AVIOContext (over
 * the bytes, or over a file we opened), the demuxer is named, not probed,
 * and only the allow-list's decoders are opened, by name, one thread each.
 */
#include "audio/sid_audio_stream.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>

#define IO_BUFFER_BYTES 65536
#define FFMPEG_MAX_ALLOC_BYTES ((size_t) 64 << 20)

/*
 * MP4 states its length exactly (after the edit list); fewer decoded frames
 * than that, beyond one codec frame of priming, means the file was cut.
 */
#define MP4_LENGTH_SLACK_FRAMES 4096

/* ---- loading ------------------------------------------------------------------ */

#define AVUTIL_SYMBOLS(X) \
	X(av_malloc) X(av_freep) X(av_frame_alloc) X(av_frame_free) X(av_frame_unref) \
	X(av_strerror) X(av_log_set_level) X(av_sample_fmt_is_planar) X(av_get_packed_sample_fmt) \
	X(av_max_alloc)
#define AVCODEC_SYMBOLS(X) \
	X(avcodec_find_decoder_by_name) X(avcodec_alloc_context3) \
	X(avcodec_parameters_to_context) X(avcodec_open2) X(avcodec_send_packet) \
	X(avcodec_receive_frame) X(avcodec_free_context) X(avcodec_get_name) \
	X(av_packet_alloc) X(av_packet_free) X(av_packet_unref)
#define AVFORMAT_SYMBOLS(X) \
	X(avformat_alloc_context) X(avformat_open_input) X(avformat_close_input) \
	X(av_read_frame) X(av_find_input_format) X(avio_alloc_context) X(avio_context_free)

/* each entry point, with the prototype of the headers it was built against */
#define API_FIELD(name) __typeof__(name) *name;
typedef struct ffmpeg_api
{
	AVUTIL_SYMBOLS(API_FIELD)
	AVCODEC_SYMBOLS(API_FIELD)
	AVFORMAT_SYMBOLS(API_FIELD)
} ffmpeg_api;

static ffmpeg_api av;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_failure[512];	/* empty once loaded */

/* the sonames of the major versions the headers describe */
#define SONAME(lib, major) "lib" lib ".so." AV_STRINGIFY(major)

static void *
open_library(const char *soname)
{
	void	   *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL)
		snprintf(load_failure, sizeof(load_failure), "%s", dlerror());
	return h;
}

#define API_LOAD(name) \
	if ((*(void **) &av.name = dlsym(handle, #name)) == NULL) \
	{ \
		snprintf(load_failure, sizeof(load_failure), "%s lacks %s", soname, #name); \
		return; \
	}

static void
load_ffmpeg(void)
{
	const char *soname;
	void	   *handle;

	snprintf(load_failure, sizeof(load_failure), "not loaded");
	soname = SONAME("avutil", LIBAVUTIL_VERSION_MAJOR);
	if ((handle = open_library(soname)) == NULL)
		return;
	AVUTIL_SYMBOLS(API_LOAD);
	soname = SONAME("avcodec", LIBAVCODEC_VERSION_MAJOR);
	if ((handle = open_library(soname)) == NULL)
		return;
	AVCODEC_SYMBOLS(API_LOAD);
	soname = SONAME("avformat", LIBAVFORMAT_VERSION_MAJOR);
	if ((handle = open_library(soname)) == NULL)
		return;
	AVFORMAT_SYMBOLS(API_LOAD);
	/* the library prints nothing; FFmpeg's messages would land on stderr */
	av.av_log_set_level(AV_LOG_QUIET);
	/*
	 * No single allocation inside FFmpeg beyond this (its default is INT_MAX):
	 * a packet or frame of the allowed codecs is kilobytes, so only a header
	 * claiming absurd sizes gets near it, and it then fails with ENOMEM
	 * instead of taking the memory.  Process-wide, like the log level; only
	 * this library uses FFmpeg in the processes it runs in.
	 */
	av.av_max_alloc(FFMPEG_MAX_ALLOC_BYTES);
	load_failure[0] = '\0';
}

/* Loaded once per process; a failure is remembered, not retried. */
static sid_status
ffmpeg_loaded(sid_error *err)
{
	pthread_once(&load_once, load_ffmpeg);
	if (load_failure[0] != '\0')
		return sid_fail(err, SID_EUNSUPPORTED,
						"audio input needs FFmpeg's libraries, which could not be loaded: %s",
						load_failure);
	return SID_OK;
}

/* ---- the allow-list's FFmpeg part ---------------------------------------- */

typedef struct container_rule
{
	const char *demuxer;		/* FFmpeg's name, never probed */
	const char *format;			/* sid_audio_info.format */
	const char *decoders[4];	/* FFmpeg decoder names, NULL-terminated */
} container_rule;

static const container_rule rules[] = {
	[SID_FFMPEG_MP4] = {"mov", "mp4", {"aac", "alac", "opus", NULL}},
	[SID_FFMPEG_MATROSKA] = {"matroska", "matroska", {"opus", "vorbis", NULL}},
	[SID_FFMPEG_OGG] = {"ogg", "ogg", {"vorbis", "opus", NULL}},
	[SID_FFMPEG_ASF] = {"asf", "asf", {"wmav1", "wmav2", NULL}},
};

/* ---- input: bytes or a file, through our own AVIOContext ------------------ */

typedef struct io_source
{
	const unsigned char *data;	/* NULL: read file */
	FILE	   *file;
	int64_t		len;
	int64_t		pos;
	const sid_audio_limits *lim;	/* its cancel hook, asked on every read */
} io_source;

/* the caller's cancel hook, asked by FFmpeg inside its own loops too */
static int
io_interrupted(void *opaque)
{
	const sid_audio_limits *lim = opaque;

	return lim->interrupted != NULL && lim->interrupted(lim->interrupted_arg);
}

static int
io_read(void *opaque, uint8_t *buf, int size)
{
	io_source  *src = opaque;
	int64_t		avail = src->pos < src->len ? src->len - src->pos : 0;
	size_t		got;

	/*
	 * FFmpeg asks its own interrupt callback only in some loops; asked here,
	 * the hook also stops a demuxer that reads and skips without decoding.
	 */
	if (io_interrupted((void *) src->lim))
		return AVERROR_EXIT;
	if (size <= 0 || avail == 0)
		return AVERROR_EOF;
	if ((int64_t) size > avail)
		size = (int) avail;
	if (src->data != NULL)
	{
		memcpy(buf, src->data + src->pos, (size_t) size);
		got = (size_t) size;
	}
	else
	{
		if (fseeko(src->file, (off_t) src->pos, SEEK_SET) != 0)
			return AVERROR(EIO);
		got = fread(buf, 1, (size_t) size, src->file);
		if (got == 0)
			return ferror(src->file) ? AVERROR(EIO) : AVERROR_EOF;
	}
	src->pos += (int64_t) got;
	return (int) got;
}

static int64_t
io_seek(void *opaque, int64_t offset, int whence)
{
	io_source  *src = opaque;
	int64_t		target;

	if ((whence & ~AVSEEK_FORCE) == AVSEEK_SIZE)
		return src->len;
	target = sid_audio_seek_target(src->pos, src->len, offset, whence & ~AVSEEK_FORCE);
	if (target < 0)
		return AVERROR(EINVAL);
	src->pos = target;
	return target;
}

/* ---- decoding ----------------------------------------------------------------- */

typedef struct ffmpeg_decode
{
	io_source	src;
	AVIOContext *avio;
	AVFormatContext *fmt;
	AVCodecContext *codec;
	AVPacket   *packet;
	AVFrame    *frame;
	float	   *interleaved;	/* one frame as floats */
	size_t		interleaved_cap;	/* in floats */
	sid_audio_stream stream;
	int			started;		/* stream begun, at the first frame's format */
} ffmpeg_decode;

static sid_status
av_failure(int code, sid_status status, const char *what, sid_error *err)
{
	char		why[128];

	if (code == AVERROR_EXIT)
		return sid_fail(err, SID_ELIMIT, "decoding was interrupted");
	if (code == AVERROR(ENOMEM))
		return sid_fail(err, SID_ENOMEM, "out of memory while %s", what);
	if (av.av_strerror(code, why, sizeof(why)) < 0)
		snprintf(why, sizeof(why), "error %d", code);
	return sid_fail(err, status, "audio input is malformed or truncated: %s: %s", what, why);
}

/* One decoded frame as interleaved floats, whatever FFmpeg's sample format. */
static sid_status
frame_to_float(ffmpeg_decode *d, const AVFrame *f, int channels, sid_error *err)
{
	int			planar = av.av_sample_fmt_is_planar(f->format);
	enum AVSampleFormat packed = av.av_get_packed_sample_fmt(f->format);
	size_t		n = (size_t) f->nb_samples;
	size_t		need;

	if (n > SIZE_MAX / sizeof(float) / (size_t) channels)
		return sid_fail(err, SID_EFORMAT, "audio frame of %zu samples is too large", n);
	need = n * (size_t) channels;
	if (need > d->interleaved_cap)
	{
		float	   *p = realloc(d->interleaved, need * sizeof(float));

		if (p == NULL)
			return sid_fail(err, SID_ENOMEM, "out of memory for a decoded frame");
		d->interleaved = p;
		d->interleaved_cap = need;
	}
	for (int c = 0; c < (planar ? channels : 1); c++)
	{
		const uint8_t *plane = f->extended_data[c];
		/* packed: one plane holds every channel, in the order we want */
		size_t		count = planar ? n : need;
		size_t		step = planar ? (size_t) channels : 1;
		float	   *out = d->interleaved + c;

#define CONVERT(type, expr) \
		for (size_t i = 0; i < count; i++) \
		{ \
			type		x = ((const type *) plane)[i]; \
			out[i * step] = (expr); \
		}
		switch (packed)
		{
			case AV_SAMPLE_FMT_FLT:
				CONVERT(float, x);
				break;
			case AV_SAMPLE_FMT_DBL:
				CONVERT(double, (float) x);
				break;
			case AV_SAMPLE_FMT_S16:
				CONVERT(int16_t, x * (1.0f / 32768.0f));
				break;
			case AV_SAMPLE_FMT_S32:
				CONVERT(int32_t, (float) (x * (1.0 / 2147483648.0)));
				break;
			case AV_SAMPLE_FMT_U8:
				CONVERT(uint8_t, (x - 128) * (1.0f / 128.0f));
				break;
			default:
				return sid_fail(err, SID_EUNSUPPORTED, "the decoder gave sample format %d",
								f->format);
		}
#undef CONVERT
	}
	return SID_OK;
}

static sid_status
take_frames(ffmpeg_decode *d, int32_t target_rate, int64_t declared, const sid_audio_limits *lim,
			sid_error *err)
{
	for (;;)
	{
		int			r = av.avcodec_receive_frame(d->codec, d->frame);
		int			channels;
		sid_status	st;

		if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
			return SID_OK;
		if (r < 0)
			return av_failure(r, SID_EFORMAT, "decoding", err);
		channels = d->frame->ch_layout.nb_channels;
		if (!d->started)
		{
			/* the first frame's format, not the header's: HE-AAC doubles the rate */
			if ((st = sid_audio_stream_begin(&d->stream, d->frame->sample_rate, channels,
											 target_rate, declared, lim, err)) != SID_OK)
				return st;
			d->started = 1;
		}
		else if (d->frame->sample_rate != d->stream.in_rate || channels != d->stream.channels)
			return sid_fail(err, SID_EFORMAT,
							"audio changes from %d Hz, %d channels to %d Hz, %d channels mid-stream",
							(int) d->stream.in_rate, (int) d->stream.channels,
							d->frame->sample_rate, channels);
		if (d->frame->nb_samples > 0 &&
			((st = frame_to_float(d, d->frame, channels, err)) != SID_OK ||
			 (st = sid_audio_stream_push(&d->stream, d->interleaved, d->frame->nb_samples,
										 err)) != SID_OK))
			return st;
		av.av_frame_unref(d->frame);
	}
}

/* The first audio stream, if the allow-list gives its codec to this container. */
static sid_status
open_decoder(ffmpeg_decode *d, const container_rule *rule, int *index, int64_t *declared,
			 const sid_audio_limits *lim, sid_audio_info *info, sid_error *err)
{
	const AVStream *stream = NULL;
	const AVCodec *decoder = NULL;
	const char *codec_name;
	int			r;

	for (unsigned i = 0; i < d->fmt->nb_streams; i++)
	{
		if (stream == NULL && d->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
		{
			stream = d->fmt->streams[i];
			*index = (int) i;
		}
		else
			d->fmt->streams[i]->discard = AVDISCARD_ALL;
	}
	if (stream == NULL)
		return sid_fail(err, SID_EFORMAT, "audio input (%s) holds no audio stream", rule->format);
	codec_name = av.avcodec_get_name(stream->codecpar->codec_id);
	for (int k = 0; rule->decoders[k] != NULL && decoder == NULL; k++)
		if (strcmp(codec_name, rule->decoders[k]) == 0)
			decoder = av.avcodec_find_decoder_by_name(rule->decoders[k]);
	if (decoder == NULL)
		return sid_fail(err, SID_EUNSUPPORTED,
						"audio input holds %s in %s, which is not among the accepted formats",
						codec_name, rule->format);
	if (info != NULL)
	{
		snprintf(info->format, sizeof(info->format), "%s", rule->format);
		snprintf(info->encoding, sizeof(info->encoding), "%s", codec_name);
	}
	*declared = 0;
	if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0 &&
		stream->codecpar->sample_rate > 0 && stream->time_base.den > 0)
		*declared = (int64_t) ((double) stream->duration * stream->time_base.num /
							   stream->time_base.den * stream->codecpar->sample_rate);
	/* the header's facts are checked before any decoding */
	{
		sid_status	st = sid_audio_check_stream(stream->codecpar->sample_rate,
												stream->codecpar->ch_layout.nb_channels,
												*declared, lim, err);

		if (st != SID_OK)
			return st;
	}
	if ((d->codec = av.avcodec_alloc_context3(decoder)) == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for the %s decoder", codec_name);
	if ((r = av.avcodec_parameters_to_context(d->codec, stream->codecpar)) < 0)
		return av_failure(r, SID_EFORMAT, "reading the codec parameters", err);
	/* one thread: the library runs inside database backends */
	d->codec->thread_count = 1;
	if ((r = av.avcodec_open2(d->codec, decoder, NULL)) < 0)
		return av_failure(r, SID_EFORMAT, "opening the decoder", err);
	return SID_OK;
}

static sid_status
open_input(ffmpeg_decode *d, const container_rule *rule, const sid_audio_limits *lim,
		   sid_error *err)
{
	const AVInputFormat *demuxer = av.av_find_input_format(rule->demuxer);
	unsigned char *buffer;
	int			r;

	if (demuxer == NULL)
		return sid_fail(err, SID_EUNSUPPORTED, "this FFmpeg has no %s demuxer", rule->demuxer);
	if ((buffer = av.av_malloc(IO_BUFFER_BYTES)) == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for the input buffer");
	d->avio = av.avio_alloc_context(buffer, IO_BUFFER_BYTES, 0, &d->src, io_read, NULL, io_seek);
	if (d->avio == NULL)
	{
		av.av_freep(&buffer);
		return sid_fail(err, SID_ENOMEM, "out of memory for the input");
	}
	if ((d->fmt = av.avformat_alloc_context()) == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for the demuxer");
	d->fmt->pb = d->avio;
	d->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	d->fmt->interrupt_callback.callback = io_interrupted;
	d->fmt->interrupt_callback.opaque = (void *) lim;
	/* on failure avformat_open_input frees the context and sets it to NULL */
	if ((r = av.avformat_open_input(&d->fmt, "", demuxer, NULL)) < 0)
		return av_failure(r, SID_EFORMAT, "reading the container", err);
	return SID_OK;
}

static sid_status
decode_packets(ffmpeg_decode *d, int index, int32_t target_rate, int64_t declared,
			   const sid_audio_limits *lim, sid_error *err)
{
	sid_status	st = SID_OK;
	int			r;

	if ((d->packet = av.av_packet_alloc()) == NULL || (d->frame = av.av_frame_alloc()) == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for decoding");
	while (st == SID_OK && (r = av.av_read_frame(d->fmt, d->packet)) >= 0)
	{
		if (d->packet->stream_index == index)
		{
			if ((r = av.avcodec_send_packet(d->codec, d->packet)) < 0)
				st = av_failure(r, SID_EFORMAT, "decoding", err);
			else
				st = take_frames(d, target_rate, declared, lim, err);
		}
		av.av_packet_unref(d->packet);
	}
	if (st != SID_OK)
		return st;
	if (r != AVERROR_EOF)
		return av_failure(r, SID_EFORMAT, "reading the container", err);
	/* drain the decoder's delay */
	if ((r = av.avcodec_send_packet(d->codec, NULL)) < 0)
		return av_failure(r, SID_EFORMAT, "decoding", err);
	return take_frames(d, target_rate, declared, lim, err);
}

static void
ffmpeg_decode_end(ffmpeg_decode *d)
{
	av.av_frame_free(&d->frame);
	av.av_packet_free(&d->packet);
	av.avcodec_free_context(&d->codec);
	av.avformat_close_input(&d->fmt);
	if (d->avio != NULL)
	{
		av.av_freep(&d->avio->buffer);
		av.avio_context_free(&d->avio);
	}
	if (d->src.file != NULL)
		fclose(d->src.file);
	free(d->interleaved);
	sid_audio_stream_end(&d->stream);
}

sid_status
sid_ffmpeg_decode(const void *data, size_t len, const char *path, sid_ffmpeg_container container,
				  int32_t target_rate, const sid_audio_limits *lim, sid_audio_info *info,
				  sid_pcm *pcm, sid_error *err)
{
	const container_rule *rule = &rules[container];
	ffmpeg_decode d;
	int64_t		declared = 0;
	int			index = -1;
	sid_status	st;

	if ((st = ffmpeg_loaded(err)) != SID_OK)
		return st;
	memset(&d, 0, sizeof(d));
	d.src.lim = lim;
	if (path != NULL)
	{
		if ((st = sid_audio_check_file(path, lim, &d.src.len, err)) != SID_OK)
			return st;
		if ((d.src.file = fopen(path, "rb")) == NULL)
			return sid_fail(err, SID_EIO, "could not open audio file \"%s\": %s", path,
							strerror(errno));
	}
	else
	{
		d.src.data = data;
		d.src.len = (int64_t) len;
	}
	st = open_input(&d, rule, lim, err);
	if (st == SID_OK)
		st = open_decoder(&d, rule, &index, &declared, lim, info, err);
	if (st == SID_OK)
		st = decode_packets(&d, index, pcm != NULL ? target_rate : 0, declared, lim, err);
	if (st == SID_OK && !d.started)
		st = sid_fail(err, SID_EINVAL, "audio holds no samples");
	if (st == SID_OK && container == SID_FFMPEG_MP4 &&
		declared > 0 && d.stream.total + MP4_LENGTH_SLACK_FRAMES < declared)
		st = sid_fail(err, SID_EFORMAT, "audio is truncated: %lld frames declared, %lld decoded",
					  (long long) declared, (long long) d.stream.total);
	if (st == SID_OK)
		st = sid_audio_stream_finish(&d.stream, pcm, err);
	if (st == SID_OK && info != NULL)
	{
		info->frames = d.stream.total;
		info->sample_rate = d.stream.in_rate;
		info->channels = d.stream.channels;
		info->duration_seconds = (double) d.stream.total / d.stream.in_rate;
		info->sf_format = 0;
	}
	ffmpeg_decode_end(&d);
	return st;
}
