/*
 * sid_audio.c - libsndfile decoding (memory or file), mixdown, libsoxr.
 *
 * Decoding streams: libsndfile hands over interleaved float chunks, each chunk
 * is mixed down to mono and pushed through one libsoxr stream, so memory
 * holds the encoded input plus the mono output at the model rate only.
 */
#include "audio/sid_audio.h"
#include "audio/sid_audio_stream.h"
#include "audio/sid_ogg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sndfile.h>
#include <soxr.h>

#define READ_CHUNK_FRAMES 4096

void
sid_audio_limits_default(sid_audio_limits *lim)
{
	lim->max_seconds = 3600.0;
	lim->max_sample_rate = 384000;
	lim->max_channels = 64;
	lim->max_input_bytes = INT64_C(1) << 30;
	lim->interrupted = NULL;
	lim->interrupted_arg = NULL;
	lim->decoder = SID_AUDIO_DECODER_AUTO;
}

void
sid_pcm_free(sid_pcm *pcm)
{
	if (pcm == NULL)
		return;
	free(pcm->samples);
	pcm->samples = NULL;
	pcm->n_samples = 0;
}

/* ---- libsndfile virtual I/O over a byte buffer ---------------------------- */

typedef struct mem_source
{
	const unsigned char *data;
	sf_count_t	len;
	sf_count_t	pos;
} mem_source;

static sf_count_t
mem_get_filelen(void *user)
{
	return ((mem_source *) user)->len;
}

int64_t
sid_audio_seek_target(int64_t pos, int64_t len, int64_t offset, int whence)
{
	int64_t		base;

	switch (whence)
	{
		case SEEK_SET:
			base = 0;
			break;
		case SEEK_CUR:
			base = pos;
			break;
		case SEEK_END:
			base = len;
			break;
		default:
			return -1;
	}
	/* past the end is allowed (reads then return nothing), before 0 is not */
	if ((offset < 0 && -offset > base) || (offset > 0 && offset > INT64_MAX - base))
		return -1;
	return base + offset;
}

static sf_count_t
mem_seek(sf_count_t offset, int whence, void *user)
{
	mem_source *m = user;
	int64_t		target = sid_audio_seek_target(m->pos, m->len, offset, whence);

	if (target >= 0)
		m->pos = target;
	return target;
}

static sf_count_t
mem_read(void *ptr, sf_count_t count, void *user)
{
	mem_source *m = user;
	sf_count_t	avail = m->pos < m->len ? m->len - m->pos : 0;

	if (count <= 0)
		return 0;
	if (count > avail)
		count = avail;
	memcpy(ptr, m->data + m->pos, (size_t) count);
	m->pos += count;
	return count;
}

static sf_count_t
mem_write(const void *ptr, sf_count_t count, void *user)
{
	(void) ptr;
	(void) count;
	(void) user;
	return 0;					/* read-only */
}

static sf_count_t
mem_tell(void *user)
{
	return ((mem_source *) user)->pos;
}

/* ---- opening ---------------------------------------------------------------- */

/* Map libsndfile's open failure to a status and message. */
static sid_status
open_failure(const char *what, sid_error *err)
{
	int			code = sf_error(NULL);
	const char *why = sf_error_number(code);

	switch (code)
	{
		case SF_ERR_UNRECOGNISED_FORMAT:
			return sid_fail(err, SID_EUNSUPPORTED,
							"%s is not in an audio format libsndfile recognises", what);
		case SF_ERR_UNSUPPORTED_ENCODING:
			return sid_fail(err, SID_EUNSUPPORTED, "%s uses an unsupported encoding: %s",
							what, why);
		case SF_ERR_SYSTEM:
			return sid_fail(err, SID_EIO, "%s could not be read: %s", what, why);
		default:
			return sid_fail(err, SID_EFORMAT, "%s is malformed or truncated: %s", what, why);
	}
}

sid_status
sid_audio_check_memory_size(size_t len, const sid_audio_limits *lim, sid_error *err)
{
	if (len == 0)
		return sid_fail(err, SID_EFORMAT, "audio input is empty (0 bytes)");
	if ((uint64_t) len > (uint64_t) lim->max_input_bytes)
		return sid_fail(err, SID_ELIMIT, "audio input of %llu bytes exceeds the limit of %lld bytes",
						(unsigned long long) len, (long long) lim->max_input_bytes);
	return SID_OK;
}

sid_status
sid_audio_check_file(const char *path, const sid_audio_limits *lim, int64_t *size,
					 sid_error *err)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return sid_fail(err, SID_EIO, "could not open audio file \"%s\": %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return sid_fail(err, SID_EIO, "audio file \"%s\" is not a regular file", path);
	if (sb.st_size == 0)
		return sid_fail(err, SID_EFORMAT, "audio file \"%s\" is empty (0 bytes)", path);
	if ((int64_t) sb.st_size > lim->max_input_bytes)
		return sid_fail(err, SID_ELIMIT, "audio file \"%s\" of %lld bytes exceeds the limit of %lld bytes",
						path, (long long) sb.st_size, (long long) lim->max_input_bytes);
	*size = (int64_t) sb.st_size;
	return SID_OK;
}

static SNDFILE *
open_memory(mem_source *src, SF_INFO *sfinfo, sid_status *st, sid_error *err)
{
	SF_VIRTUAL_IO vio = {mem_get_filelen, mem_seek, mem_read, mem_write, mem_tell};
	SNDFILE    *sf;

	if ((*st = sid_ogg_check_headers_memory(src->data, src->len, "audio input", err)) != SID_OK)
		return NULL;
	memset(sfinfo, 0, sizeof(*sfinfo));
	sf = sf_open_virtual(&vio, SFM_READ, sfinfo, src);
	if (sf == NULL)
		*st = open_failure("audio input", err);
	return sf;
}

static SNDFILE *
open_path(const char *path, int64_t size, SF_INFO *sfinfo, sid_status *st, sid_error *err)
{
	SNDFILE    *sf;

	if ((*st = sid_ogg_check_headers_file(path, size, "audio file", err)) != SID_OK)
		return NULL;
	memset(sfinfo, 0, sizeof(*sfinfo));
	sf = sf_open(path, SFM_READ, sfinfo);
	if (sf == NULL)
	{
		char		what[300];

		snprintf(what, sizeof(what), "audio file \"%.256s\"", path);
		*st = open_failure(what, err);
	}
	return sf;
}

/* ---- facts about the stream --------------------------------------------- */

static void
copy_lower(char *dst, size_t size, const char *src)
{
	size_t		i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (src[i] == ' ') ? '_' : (char) tolower((unsigned char) src[i]);
	dst[i] = '\0';
}

static void
describe_format(SNDFILE *sf, int format, sid_audio_info *info)
{
	static const struct
	{
		int			code;
		const char *name;
	}			majors[] = {
		{SF_FORMAT_WAV, "wav"}, {SF_FORMAT_WAVEX, "wav"}, {SF_FORMAT_RF64, "rf64"},
		{SF_FORMAT_AIFF, "aiff"}, {SF_FORMAT_AU, "au"}, {SF_FORMAT_FLAC, "flac"},
		{SF_FORMAT_OGG, "ogg"}, {SF_FORMAT_MPEG, "mpeg"}, {SF_FORMAT_CAF, "caf"},
		{SF_FORMAT_W64, "w64"},
	}, subtypes[] = {
		{SF_FORMAT_PCM_S8, "pcm_s8"}, {SF_FORMAT_PCM_U8, "pcm_u8"},
		{SF_FORMAT_PCM_16, "pcm_16"}, {SF_FORMAT_PCM_24, "pcm_24"},
		{SF_FORMAT_PCM_32, "pcm_32"}, {SF_FORMAT_FLOAT, "float"},
		{SF_FORMAT_DOUBLE, "double"}, {SF_FORMAT_ULAW, "ulaw"}, {SF_FORMAT_ALAW, "alaw"},
		{SF_FORMAT_IMA_ADPCM, "ima_adpcm"}, {SF_FORMAT_MS_ADPCM, "ms_adpcm"},
		{SF_FORMAT_GSM610, "gsm610"}, {SF_FORMAT_VORBIS, "vorbis"},
		{SF_FORMAT_OPUS, "opus"}, {SF_FORMAT_MPEG_LAYER_I, "mp1"},
		{SF_FORMAT_MPEG_LAYER_II, "mp2"}, {SF_FORMAT_MPEG_LAYER_III, "mp3"},
	};
	int			major = format & SF_FORMAT_TYPEMASK;
	int			subtype = format & SF_FORMAT_SUBMASK;
	SF_FORMAT_INFO fi;
	size_t		i;

	info->sf_format = format;
	info->format[0] = info->encoding[0] = '\0';
	for (i = 0; i < sizeof(majors) / sizeof(majors[0]); i++)
		if (majors[i].code == major)
			snprintf(info->format, sizeof(info->format), "%s", majors[i].name);
	for (i = 0; i < sizeof(subtypes) / sizeof(subtypes[0]); i++)
		if (subtypes[i].code == subtype)
			snprintf(info->encoding, sizeof(info->encoding), "%s", subtypes[i].name);
	/* anything else: libsndfile's own names */
	if (info->format[0] == '\0')
	{
		fi.format = major;
		if (sf_command(sf, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) == 0 && fi.extension)
			copy_lower(info->format, sizeof(info->format), fi.extension);
		else
			snprintf(info->format, sizeof(info->format), "0x%x", major);
	}
	if (info->encoding[0] == '\0')
	{
		fi.format = subtype;
		if (sf_command(sf, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) == 0 && fi.name)
			copy_lower(info->encoding, sizeof(info->encoding), fi.name);
		else
			snprintf(info->encoding, sizeof(info->encoding), "0x%x", subtype);
	}
}

/*
 * libsndfile's part of the allow-list: the containers below.  It opens more
 * (PAF, SVX, VOC, IRCAM, MAT, SD2, XI, HTK, ...), which no catalogue holds
 * and which untrusted input need not reach.
 */
static sid_status
check_sndfile_format(SNDFILE *sf, int format, sid_error *err)
{
	static const int allowed[] = {
		SF_FORMAT_WAV, SF_FORMAT_WAVEX, SF_FORMAT_RF64, SF_FORMAT_W64, SF_FORMAT_AIFF,
		SF_FORMAT_CAF, SF_FORMAT_AU, SF_FORMAT_FLAC, SF_FORMAT_OGG, SF_FORMAT_MPEG,
	};
	sid_audio_info described;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((format & SF_FORMAT_TYPEMASK) == allowed[i])
			return SID_OK;
	describe_format(sf, format, &described);
	return sid_fail(err, SID_EUNSUPPORTED,
					"audio input is in the %s format, which is not among the accepted formats",
					described.format);
}

/* libsndfile reports "unknown length" as SF_COUNT_MAX (or garbage). */
static int
frames_known(const SF_INFO *sfinfo)
{
	return sfinfo->frames > 0 && sfinfo->frames < SF_COUNT_MAX;
}

/*
 * A WAV/AIFF file cut inside its sample data opens fine: libsndfile shortens
 * the data chunk to what is present and says so only in its log, as
 * "data : 6400 (should be 1000)" (AIFF: " SSND : ...").  Declared sizes of 0 or >= 0x7ffff000 are
 * the placeholders streaming writers leave (sox, ffmpeg pipes), not damage.
 */
static sid_status
check_truncated_chunk(SNDFILE *sf, sid_error *err)
{
	char		log[4096];
	const char *line;

	log[0] = '\0';
	sf_command(sf, SFC_GET_LOG_INFO, log, sizeof(log));
	log[sizeof(log) - 1] = '\0';
	for (line = log; line != NULL && *line != '\0'; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
	{
		unsigned long long declared,
					present;

		while (*line == ' ')
			line++;
		if ((strncmp(line, "data : ", 7) == 0 || strncmp(line, "SSND : ", 7) == 0) &&
			sscanf(line + 7, "%llu (should be %llu)", &declared, &present) == 2 &&
			declared > present && declared != 0 && declared < 0x7ffff000ULL)
			return sid_fail(err, SID_EFORMAT,
							"audio is truncated: its data chunk declares %llu bytes, only %llu are present",
							declared, present);
	}
	return SID_OK;
}

static void
fill_info(SNDFILE *sf, const SF_INFO *sfinfo, int64_t frames, sid_audio_info *info)
{
	if (info == NULL)
		return;
	info->frames = frames;
	info->sample_rate = sfinfo->samplerate;
	info->channels = sfinfo->channels;
	info->duration_seconds = (double) frames / sfinfo->samplerate;
	describe_format(sf, sfinfo->format, info);
}

/* ---- the stream both decoders feed ------------------------------------------ */

sid_status
sid_audio_check_stream(int32_t rate, int32_t channels, int64_t frames,
					   const sid_audio_limits *lim, sid_error *err)
{
	if (channels < 1)
		return sid_fail(err, SID_EFORMAT, "audio declares %d channels", (int) channels);
	if (channels > lim->max_channels)
		return sid_fail(err, SID_ELIMIT, "audio has %d channels, more than the limit of %d",
						(int) channels, (int) lim->max_channels);
	if (rate < SID_AUDIO_MIN_SAMPLE_RATE)
		return sid_fail(err, SID_EUNSUPPORTED,
						"audio sample rate %d Hz is below the supported minimum of %d Hz",
						(int) rate, SID_AUDIO_MIN_SAMPLE_RATE);
	if (rate > lim->max_sample_rate)
		return sid_fail(err, SID_ELIMIT, "audio sample rate %d Hz exceeds the limit of %d Hz",
						(int) rate, (int) lim->max_sample_rate);
	if (frames > 0 && (double) frames / rate > lim->max_seconds)
		return sid_fail(err, SID_ELIMIT, "audio lasts %.1f s, longer than the limit of %g s",
						(double) frames / rate, lim->max_seconds);
	return SID_OK;
}

static sid_status
stream_reserve(sid_audio_stream *s, int64_t extra, sid_error *err)
{
	int64_t		need = s->out_len + extra;
	int64_t		cap;
	float	   *p;

	if (need <= s->out_cap)
		return SID_OK;
	cap = s->out_cap > 0 ? s->out_cap : 65536;
	while (cap < need)
		cap *= 2;
	if ((uint64_t) cap > SIZE_MAX / sizeof(float))
		return sid_fail(err, SID_ENOMEM, "audio buffer of %lld samples is too large", (long long) cap);
	p = realloc(s->out, (size_t) cap * sizeof(float));
	if (p == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for %lld audio samples", (long long) cap);
	s->out = p;
	s->out_cap = cap;
	return SID_OK;
}

/*
 * One mono stream from in_rate to out_rate.  One thread: the library runs
 * inside database backends and beside the caller's own worker threads.
 */
static sid_status
resampler_new(int32_t in_rate, int32_t out_rate, soxr_t *rs, sid_error *err)
{
	soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	soxr_quality_spec_t quality = soxr_quality_spec(SID_AUDIO_RESAMPLER, 0);
	soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
	soxr_error_t e = NULL;

	*rs = soxr_create(in_rate, out_rate, 1, &e, &io, &quality, &runtime);
	if (*rs == NULL)
		return sid_fail(err, SID_ENOMEM, "could not create the resampler (%d Hz to %d Hz): %s",
						(int) in_rate, (int) out_rate, soxr_strerror(e));
	return SID_OK;
}

/*
 * Push n mono samples (or, with end_of_input, flush) through the resampler
 * into the output.  rs == NULL means no rate change.
 */
static sid_status
stream_emit(sid_audio_stream *s, const float *in, int64_t n, int end_of_input, sid_error *err)
{
	sid_status	st;

	if (s->rs == NULL)
	{
		if (n == 0)
			return SID_OK;
		if ((st = stream_reserve(s, n, err)) != SID_OK)
			return st;
		memcpy(s->out + s->out_len, in, (size_t) n * sizeof(float));
		s->out_len += n;
		return SID_OK;
	}
	for (;;)
	{
		int64_t		room = (int64_t) ceil(n * s->ratio) + 256;
		size_t		used = 0,
					made = 0;
		soxr_error_t e;

		if ((st = stream_reserve(s, room, err)) != SID_OK)
			return st;
		/* a NULL input tells libsoxr the stream has ended */
		e = soxr_process(s->rs, end_of_input ? NULL : in, (size_t) n, &used,
						 s->out + s->out_len, (size_t) room, &made);
		if (e != NULL)
			return sid_fail(err, SID_EINVAL, "resampling failed: %s", soxr_strerror(e));
		s->out_len += (int64_t) made;
		in += used;
		n -= (int64_t) used;
		if (n > 0)
			continue;
		/* flushing: repeat while the converter fills all the room it is given */
		if (!end_of_input || made < (size_t) room)
			return SID_OK;
	}
}

sid_status
sid_audio_stream_begin(sid_audio_stream *s, int32_t in_rate, int32_t channels,
					   int32_t target_rate, int64_t expected_frames,
					   const sid_audio_limits *lim, sid_error *err)
{
	sid_status	st;

	memset(s, 0, sizeof(*s));
	if ((st = sid_audio_check_stream(in_rate, channels, expected_frames, lim, err)) != SID_OK)
		return st;
	s->lim = lim;
	s->in_rate = in_rate;
	s->channels = channels;
	s->target_rate = target_rate;
	s->max_frames = (int64_t) floor(lim->max_seconds * in_rate);
	s->ratio = target_rate > 0 ? (double) target_rate / in_rate : 1.0;
	if ((s->mono = malloc((size_t) READ_CHUNK_FRAMES * sizeof(float))) == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for the decoding buffer");
	if (target_rate > 0 && target_rate != in_rate &&
		(st = resampler_new(in_rate, target_rate, &s->rs, err)) != SID_OK)
		return st;
	/* one allocation up front when the length is known */
	if (target_rate > 0 && expected_frames > 0)
		return stream_reserve(s, (int64_t) ceil(expected_frames * s->ratio) + 1024, err);
	return SID_OK;
}

sid_status
sid_audio_stream_push(sid_audio_stream *s, const float *frames, int64_t n, sid_error *err)
{
	const sid_audio_limits *lim = s->lim;
	sid_status	st;

	if (lim->interrupted != NULL && lim->interrupted(lim->interrupted_arg))
		return sid_fail(err, SID_ELIMIT, "decoding was interrupted");
	if (n > s->max_frames - s->total)
		return sid_fail(err, SID_ELIMIT, "audio is longer than the limit of %g s",
						lim->max_seconds);
	while (n > 0)
	{
		int64_t		got = n < READ_CHUNK_FRAMES ? n : READ_CHUNK_FRAMES;
		int			channels = s->channels;

		for (int64_t i = 0; i < got; i++)
		{
			const float *frame = frames + i * channels;
			float		sum = 0.0f;

			for (int c = 0; c < channels; c++)
				sum += frame[c];
			s->mono[i] = channels == 1 ? sum : sum / (float) channels;
			if (!(fabsf(s->mono[i]) <= SID_AUDIO_MAX_AMPLITUDE))	/* also NaN */
				return sid_fail(err, SID_EFORMAT,
								"audio holds a NaN, infinite or absurdly large sample (%g) at frame %lld",
								(double) s->mono[i], (long long) (s->total + i));
		}
		s->total += got;
		if (s->target_rate > 0 && (st = stream_emit(s, s->mono, got, 0, err)) != SID_OK)
			return st;
		frames += got * channels;
		n -= got;
	}
	return SID_OK;
}

sid_status
sid_audio_stream_finish(sid_audio_stream *s, sid_pcm *pcm, sid_error *err)
{
	sid_status	st;

	if (s->total == 0)
		return sid_fail(err, SID_EINVAL, "audio holds no samples");
	if (pcm == NULL)
		return SID_OK;
	if ((st = stream_emit(s, s->mono, 0, 1, err)) != SID_OK)
		return st;
	if (s->out_len == 0)
	{
		/* found by fuzz_decode: one frame at 48 kHz resamples to nothing */
		return sid_fail(err, SID_EINVAL, "audio is too short: %lld frames at %d Hz give no samples at %d Hz",
						(long long) s->total, (int) s->in_rate, (int) s->target_rate);
	}
	pcm->samples = s->out;
	pcm->n_samples = s->out_len;
	pcm->sample_rate = s->target_rate;
	s->out = NULL;
	return SID_OK;
}

void
sid_audio_stream_end(sid_audio_stream *s)
{
	if (s->rs != NULL)
		soxr_delete(s->rs);
	free(s->out);
	free(s->mono);
	memset(s, 0, sizeof(*s));
}

/* ---- libsndfile decoding -------------------------------------------------- */

static sid_status
check_decoded_length(SNDFILE *sf, const SF_INFO *sfinfo, int64_t total, sid_error *err)
{
	if (sf_error(sf) != SF_ERR_NO_ERROR)
		return sid_fail(err, SID_EFORMAT, "audio is corrupt: decoding stopped after %lld frames: %s",
						(long long) total, sf_strerror(sf));
	if (total == 0)
		return sid_fail(err, SID_EINVAL, "audio holds no samples");
	/*
	 * Fewer frames than the header declares means the input was cut, where the
	 * header states the length exactly (FLAC, PCM containers).  Not for MPEG:
	 * without a Xing/Info header libsndfile's length is mpg123's estimate from
	 * the file size, and real MP3s decode 0.1 % short of it.  Not for Ogg:
	 * the length is read from the last page's granule position, and a real
	 * Vorbis track (wesnoth's northerners.ogg) decodes 5806 frames short.
	 */
	if (frames_known(sfinfo) && total < sfinfo->frames &&
		(sfinfo->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG &&
		(sfinfo->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_OGG)
		return sid_fail(err, SID_EFORMAT, "audio is truncated: %lld frames declared, %lld decoded",
						(long long) sfinfo->frames, (long long) total);
	return SID_OK;
}

/*
 * Read the whole stream, mix down to mono, resample to target_rate (0 = keep
 * the original rate, for probing: then nothing is stored, only counted).
 */
static sid_status
decode_stream(SNDFILE *sf, const SF_INFO *sfinfo, int32_t target_rate,
			  const sid_audio_limits *lim, int64_t *frames_read, sid_pcm *pcm, sid_error *err)
{
	sid_audio_stream s;
	float	   *chunk;
	sid_status	st;

	st = sid_audio_stream_begin(&s, sfinfo->samplerate, sfinfo->channels,
								pcm != NULL ? target_rate : 0,
								frames_known(sfinfo) ? sfinfo->frames : 0, lim, err);
	chunk = malloc((size_t) READ_CHUNK_FRAMES * sfinfo->channels * sizeof(float));
	if (st == SID_OK && chunk == NULL)
		st = sid_fail(err, SID_ENOMEM, "out of memory for the decoding buffer");
	while (st == SID_OK)
	{
		sf_count_t	got = sf_readf_float(sf, chunk, READ_CHUNK_FRAMES);

		if (got <= 0)
			break;
		st = sid_audio_stream_push(&s, chunk, got, err);
	}
	if (st == SID_OK)
		st = check_decoded_length(sf, sfinfo, s.total, err);
	if (st == SID_OK)
		st = sid_audio_stream_finish(&s, pcm, err);
	*frames_read = s.total;
	free(chunk);
	sid_audio_stream_end(&s);
	return st;
}

static sid_status
decode_open(SNDFILE *sf, const SF_INFO *sfinfo, int32_t target_rate,
			const sid_audio_limits *lim, sid_audio_info *info, sid_pcm *pcm, sid_error *err)
{
	int64_t		frames = 0;
	sid_status	st;

	if ((st = check_sndfile_format(sf, sfinfo->format, err)) != SID_OK)
		return st;
	if ((st = sid_audio_check_stream(sfinfo->samplerate, sfinfo->channels,
									 frames_known(sfinfo) ? sfinfo->frames : 0, lim, err)) != SID_OK)
		return st;
	if ((st = check_truncated_chunk(sf, err)) != SID_OK)
		return st;
	/*
	 * Probing needs no decoding when the header states the length.  Not for
	 * FLAC: its header states the length exactly, so a cut file would probe
	 * fine and then fail to decode; counting the frames (0.1 s per minute
	 * of 44.1 kHz stereo, docs/testing.md) refuses it here too.  MP3 and Ogg lengths are
	 * estimates that real files fall short of (check_decoded_length), and a
	 * cut one decodes as shorter audio, so their probe stays cheap.
	 */
	if (pcm == NULL && frames_known(sfinfo) &&
		(sfinfo->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_FLAC)
		frames = sfinfo->frames;
	else if ((st = decode_stream(sf, sfinfo, target_rate, lim, &frames, pcm, err)) != SID_OK)
		return st;
	fill_info(sf, sfinfo, frames, info);
	return SID_OK;
}

/* ---- which decoder serves the input --------------------------------------- */

/*
 * The allow-list (docs/audio.md, "Decoders"): the container is told by its
 * magic bytes.  MP4, Matroska/WebM, ASF and Ogg go to FFmpeg, which checks
 * the codec against its part of the list; everything else goes to
 * libsndfile, which checks its container (check_sndfile_format).  Enough
 * bytes for an Ogg first packet's magic:
 */
#define ROUTE_HEAD_BYTES (27 + 255 + 8)

static sid_audio_decoder
route(const unsigned char *head, size_t n, sid_audio_decoder forced,
	  sid_ffmpeg_container *container)
{
	static const unsigned char asf_guid[16] = {
		0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11,
		0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c
	};
	if (n >= 12 && memcmp(head + 4, "ftyp", 4) == 0)
	{
		*container = SID_FFMPEG_MP4;
		return SID_AUDIO_DECODER_FFMPEG;
	}
	if (n >= 4 && memcmp(head, "\x1a\x45\xdf\xa3", 4) == 0)
	{
		*container = SID_FFMPEG_MATROSKA;
		return SID_AUDIO_DECODER_FFMPEG;
	}
	if (n >= 16 && memcmp(head, asf_guid, 16) == 0)
	{
		*container = SID_FFMPEG_ASF;
		return SID_AUDIO_DECODER_FFMPEG;
	}
	/*
	 * Ogg is FFmpeg's, by measurement (docs/benchmarks.md, "Decoders"): it
	 * decodes Vorbis 2.0x and Opus 3.2x faster than libvorbis / libopus
	 * through libsndfile, and reads an Ogg Opus file of ffmpeg's that
	 * libsndfile 1.2.0 calls malformed.  Every Ogg input goes there, so a
	 * damaged first page never reaches libsndfile, whose Vorbis open path
	 * leaks (docs/audio.md, "Leak checks"); a benchmark may still ask
	 * libsndfile for the two codecs it reads.
	 */
	if (n >= 27 && memcmp(head, "OggS", 4) == 0)
	{
		size_t		packet = 27 + (size_t) head[26];
		int			both_read = (packet + 7 <= n && memcmp(head + packet, "\x01vorbis", 7) == 0) ||
			(packet + 8 <= n && memcmp(head + packet, "OpusHead", 8) == 0);

		*container = SID_FFMPEG_OGG;
		return both_read && forced == SID_AUDIO_DECODER_SNDFILE ?
			SID_AUDIO_DECODER_SNDFILE : SID_AUDIO_DECODER_FFMPEG;
	}
	return SID_AUDIO_DECODER_SNDFILE;
}

static sid_status
check_target_rate(int32_t target_rate, sid_error *err)
{
	if (target_rate != 0 &&
		(target_rate < SID_AUDIO_MIN_SAMPLE_RATE || target_rate > SID_AUDIO_MAX_TARGET_RATE))
		return sid_fail(err, SID_EINVAL, "target sample rate %d Hz is out of range", (int) target_rate);
	return SID_OK;
}

static sid_status
run_memory(const void *data, size_t len, int32_t target_rate, const sid_audio_limits *lim,
		   sid_audio_info *info, sid_pcm *pcm, sid_error *err)
{
	mem_source	src = {data, (sf_count_t) len, 0};
	sid_ffmpeg_container container;
	SF_INFO		sfinfo;
	sid_status	st = SID_OK;
	SNDFILE    *sf;

	if (pcm != NULL)
		memset(pcm, 0, sizeof(*pcm));
	if (data == NULL && len > 0)
		return sid_fail(err, SID_EINVAL, "audio input pointer is NULL");
	if ((st = check_target_rate(target_rate, err)) != SID_OK ||
		(st = sid_audio_check_memory_size(len, lim, err)) != SID_OK)
		return st;
	if (route(data, len, lim->decoder, &container) == SID_AUDIO_DECODER_FFMPEG)
	{
		/* cut or damaged Ogg header pages get the same message from both decoders */
		if (container == SID_FFMPEG_OGG &&
			(st = sid_ogg_check_headers_memory(data, len, "audio input", err)) != SID_OK)
			return st;
		return sid_ffmpeg_decode(data, len, NULL, container, target_rate, lim, info, pcm, err);
	}
	if ((sf = open_memory(&src, &sfinfo, &st, err)) == NULL)
		return st;
	st = decode_open(sf, &sfinfo, target_rate, lim, info, pcm, err);
	sf_close(sf);
	return st;
}

static sid_status
run_file(const char *path, int32_t target_rate, const sid_audio_limits *lim,
		 sid_audio_info *info, sid_pcm *pcm, sid_error *err)
{
	unsigned char head[ROUTE_HEAD_BYTES];
	sid_ffmpeg_container container;
	size_t		n = 0;
	int64_t		size = 0;
	SF_INFO		sfinfo;
	sid_status	st = SID_OK;
	SNDFILE    *sf;
	FILE	   *f;

	if (pcm != NULL)
		memset(pcm, 0, sizeof(*pcm));
	if ((st = check_target_rate(target_rate, err)) != SID_OK ||
		(st = sid_audio_check_file(path, lim, &size, err)) != SID_OK)
		return st;
	if ((f = fopen(path, "rb")) == NULL)
		return sid_fail(err, SID_EIO, "could not open audio file \"%s\": %s", path, strerror(errno));
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (route(head, n, lim->decoder, &container) == SID_AUDIO_DECODER_FFMPEG)
	{
		if (container == SID_FFMPEG_OGG &&
			(st = sid_ogg_check_headers_file(path, size, "audio file", err)) != SID_OK)
			return st;
		return sid_ffmpeg_decode(NULL, 0, path, container, target_rate, lim, info, pcm, err);
	}
	if ((sf = open_path(path, size, &sfinfo, &st, err)) == NULL)
		return st;
	st = decode_open(sf, &sfinfo, target_rate, lim, info, pcm, err);
	sf_close(sf);
	return st;
}

sid_status
sid_audio_probe_memory(const void *data, size_t len, const sid_audio_limits *lim,
					   sid_audio_info *info, sid_error *err)
{
	return run_memory(data, len, 0, lim, info, NULL, err);
}

sid_status
sid_audio_probe_file(const char *path, const sid_audio_limits *lim,
					 sid_audio_info *info, sid_error *err)
{
	return run_file(path, 0, lim, info, NULL, err);
}

sid_status
sid_audio_decode_memory(const void *data, size_t len, int32_t target_rate,
						const sid_audio_limits *lim, sid_audio_info *info,
						sid_pcm *pcm, sid_error *err)
{
	return run_memory(data, len, target_rate, lim, info, pcm, err);
}

sid_status
sid_audio_decode_file(const char *path, int32_t target_rate, const sid_audio_limits *lim,
					  sid_audio_info *info, sid_pcm *pcm, sid_error *err)
{
	return run_file(path, target_rate, lim, info, pcm, err);
}

sid_status
sid_audio_resample(const float *in, int64_t n_in, int32_t in_rate, int32_t out_rate,
				   float **out, int64_t *n_out, sid_error *err)
{
	sid_audio_stream s;
	sid_status	st;

	*out = NULL;
	*n_out = 0;
	if (in_rate < SID_AUDIO_MIN_SAMPLE_RATE || out_rate < SID_AUDIO_MIN_SAMPLE_RATE ||
		out_rate > SID_AUDIO_MAX_TARGET_RATE || n_in < 0)
		return sid_fail(err, SID_EINVAL, "cannot resample %d Hz to %d Hz", (int) in_rate, (int) out_rate);
	memset(&s, 0, sizeof(s));
	s.ratio = (double) out_rate / in_rate;
	if (in_rate != out_rate && (st = resampler_new(in_rate, out_rate, &s.rs, err)) != SID_OK)
		return st;
	st = stream_emit(&s, in, n_in, 0, err);
	if (st == SID_OK && s.rs != NULL)
		st = stream_emit(&s, in + n_in, 0, 1, err);
	if (st == SID_OK)
	{
		*out = s.out;
		*n_out = s.out_len;
		s.out = NULL;
	}
	sid_audio_stream_end(&s);
	return st;
}
