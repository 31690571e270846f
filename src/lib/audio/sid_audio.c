/*
 * sid_audio.c - libsndfile decoding (memory or file), mixdown, libsoxr.
 *
 * Decoding streams: libsndfile hands over interleaved float chunks, each chunk
 * is mixed down to mono and pushed through one libsoxr stream, so memory
 * holds the encoded input plus the mono output at the model rate only.
 */
#include "audio/sid_audio.h"
#include "audio/sid_ogg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
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

static sf_count_t
mem_seek(sf_count_t offset, int whence, void *user)
{
	mem_source *m = user;
	sf_count_t	base;

	switch (whence)
	{
		case SEEK_SET:
			base = 0;
			break;
		case SEEK_CUR:
			base = m->pos;
			break;
		case SEEK_END:
			base = m->len;
			break;
		default:
			return -1;
	}
	/* libsndfile may seek past the end (then reads return 0), never before 0 */
	if ((offset < 0 && -offset > base) || (offset > 0 && offset > INT64_MAX - base))
		return -1;
	m->pos = base + offset;
	return m->pos;
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

static SNDFILE *
open_memory(mem_source *src, SF_INFO *sfinfo, const sid_audio_limits *lim,
			sid_status *st, sid_error *err)
{
	SF_VIRTUAL_IO vio = {mem_get_filelen, mem_seek, mem_read, mem_write, mem_tell};
	SNDFILE    *sf;

	if (src->len == 0)
	{
		*st = sid_fail(err, SID_EFORMAT, "audio input is empty (0 bytes)");
		return NULL;
	}
	if (src->len > lim->max_input_bytes)
	{
		*st = sid_fail(err, SID_ELIMIT, "audio input of %lld bytes exceeds the limit of %lld bytes",
					   (long long) src->len, (long long) lim->max_input_bytes);
		return NULL;
	}
	if ((*st = sid_ogg_check_headers_memory(src->data, src->len, "audio input", err)) != SID_OK)
		return NULL;
	memset(sfinfo, 0, sizeof(*sfinfo));
	sf = sf_open_virtual(&vio, SFM_READ, sfinfo, src);
	if (sf == NULL)
		*st = open_failure("audio input", err);
	return sf;
}

static SNDFILE *
open_path(const char *path, SF_INFO *sfinfo, const sid_audio_limits *lim,
		  sid_status *st, sid_error *err)
{
	struct stat sb;
	SNDFILE    *sf;

	if (stat(path, &sb) != 0)
	{
		*st = sid_fail(err, SID_EIO, "could not open audio file \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(sb.st_mode))
	{
		*st = sid_fail(err, SID_EIO, "audio file \"%s\" is not a regular file", path);
		return NULL;
	}
	if (sb.st_size == 0)
	{
		*st = sid_fail(err, SID_EFORMAT, "audio file \"%s\" is empty (0 bytes)", path);
		return NULL;
	}
	if ((int64_t) sb.st_size > lim->max_input_bytes)
	{
		*st = sid_fail(err, SID_ELIMIT, "audio file \"%s\" of %lld bytes exceeds the limit of %lld bytes",
					   path, (long long) sb.st_size, (long long) lim->max_input_bytes);
		return NULL;
	}
	if ((*st = sid_ogg_check_headers_file(path, (int64_t) sb.st_size, "audio file", err)) != SID_OK)
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

/* libsndfile reports "unknown length" as SF_COUNT_MAX (or garbage). */
static int
frames_known(const SF_INFO *sfinfo)
{
	return sfinfo->frames > 0 && sfinfo->frames < SF_COUNT_MAX;
}

/* Rate, channel and duration limits on what the header declares. */
static sid_status
check_stream(const SF_INFO *sfinfo, const sid_audio_limits *lim, sid_error *err)
{
	if (sfinfo->channels < 1)
		return sid_fail(err, SID_EFORMAT, "audio declares %d channels", sfinfo->channels);
	if (sfinfo->channels > lim->max_channels)
		return sid_fail(err, SID_ELIMIT, "audio has %d channels, more than the limit of %d",
						sfinfo->channels, (int) lim->max_channels);
	if (sfinfo->samplerate < SID_AUDIO_MIN_SAMPLE_RATE)
		return sid_fail(err, SID_EUNSUPPORTED,
						"audio sample rate %d Hz is below the supported minimum of %d Hz",
						sfinfo->samplerate, SID_AUDIO_MIN_SAMPLE_RATE);
	if (sfinfo->samplerate > lim->max_sample_rate)
		return sid_fail(err, SID_ELIMIT, "audio sample rate %d Hz exceeds the limit of %d Hz",
						sfinfo->samplerate, (int) lim->max_sample_rate);
	if (frames_known(sfinfo) &&
		(double) sfinfo->frames / sfinfo->samplerate > lim->max_seconds)
		return sid_fail(err, SID_ELIMIT, "audio lasts %.1f s, longer than the limit of %g s",
						(double) sfinfo->frames / sfinfo->samplerate, lim->max_seconds);
	return SID_OK;
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

/* ---- decoding --------------------------------------------------------------- */

/* Growable mono output buffer. */
typedef struct pcm_sink
{
	float	   *data;
	int64_t		len;
	int64_t		capacity;
} pcm_sink;

static sid_status
sink_reserve(pcm_sink *s, int64_t extra, sid_error *err)
{
	int64_t		need = s->len + extra;
	int64_t		cap;
	float	   *p;

	if (need <= s->capacity)
		return SID_OK;
	cap = s->capacity > 0 ? s->capacity : 65536;
	while (cap < need)
		cap *= 2;
	if ((uint64_t) cap > SIZE_MAX / sizeof(float))
		return sid_fail(err, SID_ENOMEM, "audio buffer of %lld samples is too large", (long long) cap);
	p = realloc(s->data, (size_t) cap * sizeof(float));
	if (p == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for %lld audio samples", (long long) cap);
	s->data = p;
	s->capacity = cap;
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
 * into the sink.  rs == NULL means no rate change.
 */
static sid_status
sink_push(pcm_sink *s, soxr_t rs, double ratio, const float *in, int64_t n,
		  int end_of_input, sid_error *err)
{
	sid_status	st;

	if (rs == NULL)
	{
		if (n == 0)
			return SID_OK;
		if ((st = sink_reserve(s, n, err)) != SID_OK)
			return st;
		memcpy(s->data + s->len, in, (size_t) n * sizeof(float));
		s->len += n;
		return SID_OK;
	}
	for (;;)
	{
		int64_t		room = (int64_t) ceil(n * ratio) + 256;
		size_t		used = 0,
					made = 0;
		soxr_error_t e;

		if ((st = sink_reserve(s, room, err)) != SID_OK)
			return st;
		/* a NULL input tells libsoxr the stream has ended */
		e = soxr_process(rs, end_of_input ? NULL : in, (size_t) n, &used,
						 s->data + s->len, (size_t) room, &made);
		if (e != NULL)
			return sid_fail(err, SID_EINVAL, "resampling failed: %s", soxr_strerror(e));
		s->len += (int64_t) made;
		in += used;
		n -= (int64_t) used;
		if (n > 0)
			continue;
		/* flushing: repeat while the converter fills all the room it is given */
		if (!end_of_input || made < (size_t) room)
			return SID_OK;
	}
}

/* What one decoding keeps between its phases. */
typedef struct decode_state
{
	float	   *chunk;			/* interleaved frames as libsndfile reads them */
	float	   *mono;
	soxr_t		rs;				/* NULL: no rate change, or probing */
	double		ratio;
	pcm_sink	sink;
	int64_t		total;			/* frames decoded so far */
} decode_state;

static sid_status
decode_begin(decode_state *ds, const SF_INFO *sfinfo, int32_t target_rate, const sid_pcm *pcm,
			 sid_error *err)
{
	memset(ds, 0, sizeof(*ds));
	ds->ratio = target_rate > 0 ? (double) target_rate / sfinfo->samplerate : 1.0;
	ds->chunk = malloc((size_t) READ_CHUNK_FRAMES * sfinfo->channels * sizeof(float));
	ds->mono = malloc((size_t) READ_CHUNK_FRAMES * sizeof(float));
	if (ds->chunk == NULL || ds->mono == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for the decoding buffer");
	if (pcm != NULL && target_rate != sfinfo->samplerate)
	{
		sid_status	st = resampler_new(sfinfo->samplerate, target_rate, &ds->rs, err);

		if (st != SID_OK)
			return st;
	}
	/* one allocation up front when the length is known */
	if (pcm != NULL && frames_known(sfinfo))
		return sink_reserve(&ds->sink, (int64_t) ceil(sfinfo->frames * ds->ratio) + 1024, err);
	return SID_OK;
}

/* first_frame: the stream position of frame 0, to name a bad sample's frame */
static sid_status
mix_to_mono(const float *chunk, int64_t got, int channels, int64_t first_frame, float *mono,
			sid_error *err)
{
	for (int64_t i = 0; i < got; i++)
	{
		const float *frame = chunk + i * channels;
		float		sum = 0.0f;
		int			c;

		for (c = 0; c < channels; c++)
			sum += frame[c];
		mono[i] = channels == 1 ? sum : sum / (float) channels;
		if (!(fabsf(mono[i]) <= SID_AUDIO_MAX_AMPLITUDE))	/* also NaN */
			return sid_fail(err, SID_EFORMAT,
							"audio holds a NaN, infinite or absurdly large sample (%g) at frame %lld",
							(double) mono[i], (long long) (first_frame + i));
	}
	return SID_OK;
}

static sid_status
decode_chunks(decode_state *ds, SNDFILE *sf, const SF_INFO *sfinfo, const sid_audio_limits *lim,
			  const sid_pcm *pcm, sid_error *err)
{
	int64_t		max_frames = (int64_t) floor(lim->max_seconds * sfinfo->samplerate);
	sid_status	st;

	for (;;)
	{
		sf_count_t	got = sf_readf_float(sf, ds->chunk, READ_CHUNK_FRAMES);

		if (got <= 0)
			return SID_OK;
		if (lim->interrupted != NULL && lim->interrupted(lim->interrupted_arg))
			return sid_fail(err, SID_ELIMIT, "decoding was interrupted");
		if (ds->total + got > max_frames)
			return sid_fail(err, SID_ELIMIT, "audio is longer than the limit of %g s",
							lim->max_seconds);
		ds->total += got;
		if ((st = mix_to_mono(ds->chunk, got, sfinfo->channels, ds->total - got, ds->mono,
							  err)) != SID_OK)
			return st;
		if (pcm != NULL && (st = sink_push(&ds->sink, ds->rs, ds->ratio, ds->mono, got, 0,
										   err)) != SID_OK)
			return st;
	}
}

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

static sid_status
decode_finish(decode_state *ds, const SF_INFO *sfinfo, int32_t target_rate, int64_t *frames_read,
			  sid_pcm *pcm, sid_error *err)
{
	sid_status	st;

	if (pcm != NULL && (st = sink_push(&ds->sink, ds->rs, ds->ratio, ds->mono, 0, 1, err)) != SID_OK)
		return st;
	if (pcm != NULL && ds->sink.len == 0)
	{
		/* found by fuzz_decode: one frame at 48 kHz resamples to nothing */
		return sid_fail(err, SID_EINVAL, "audio is too short: %lld frames at %d Hz give no samples at %d Hz",
						(long long) ds->total, sfinfo->samplerate, (int) target_rate);
	}
	*frames_read = ds->total;
	if (pcm != NULL)
	{
		pcm->samples = ds->sink.data;
		pcm->n_samples = ds->sink.len;
		pcm->sample_rate = target_rate;
		ds->sink.data = NULL;
	}
	return SID_OK;
}

static void
decode_end(decode_state *ds)
{
	if (ds->rs != NULL)
		soxr_delete(ds->rs);
	free(ds->sink.data);
	free(ds->chunk);
	free(ds->mono);
}

/*
 * Read the whole stream, mix down to mono, resample to target_rate (0 = keep
 * the original rate, for probing: then nothing is stored, only counted).
 */
static sid_status
decode_stream(SNDFILE *sf, const SF_INFO *sfinfo, int32_t target_rate,
			  const sid_audio_limits *lim, int64_t *frames_read, sid_pcm *pcm, sid_error *err)
{
	decode_state ds;
	sid_status	st;

	st = decode_begin(&ds, sfinfo, target_rate, pcm, err);
	if (st == SID_OK)
		st = decode_chunks(&ds, sf, sfinfo, lim, pcm, err);
	if (st == SID_OK)
		st = check_decoded_length(sf, sfinfo, ds.total, err);
	if (st == SID_OK)
		st = decode_finish(&ds, sfinfo, target_rate, frames_read, pcm, err);
	decode_end(&ds);
	return st;
}

static sid_status
decode_open(SNDFILE *sf, const SF_INFO *sfinfo, int32_t target_rate,
			const sid_audio_limits *lim, sid_audio_info *info, sid_pcm *pcm, sid_error *err)
{
	int64_t		frames = 0;
	sid_status	st;

	if (pcm != NULL)
		memset(pcm, 0, sizeof(*pcm));
	if (pcm != NULL && (target_rate < SID_AUDIO_MIN_SAMPLE_RATE || target_rate > SID_AUDIO_MAX_TARGET_RATE))
		return sid_fail(err, SID_EINVAL, "target sample rate %d Hz is out of range", (int) target_rate);
	if ((st = check_stream(sfinfo, lim, err)) != SID_OK)
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

static sid_status
run_memory(const void *data, size_t len, int32_t target_rate, const sid_audio_limits *lim,
		   sid_audio_info *info, sid_pcm *pcm, sid_error *err)
{
	mem_source	src = {data, (sf_count_t) len, 0};
	SF_INFO		sfinfo;
	sid_status	st = SID_OK;
	SNDFILE    *sf;

	if (pcm != NULL)
		memset(pcm, 0, sizeof(*pcm));
	if (data == NULL && len > 0)
		return sid_fail(err, SID_EINVAL, "audio input pointer is NULL");
	if ((sf = open_memory(&src, &sfinfo, lim, &st, err)) == NULL)
		return st;
	st = decode_open(sf, &sfinfo, target_rate, lim, info, pcm, err);
	sf_close(sf);
	return st;
}

static sid_status
run_file(const char *path, int32_t target_rate, const sid_audio_limits *lim,
		 sid_audio_info *info, sid_pcm *pcm, sid_error *err)
{
	SF_INFO		sfinfo;
	sid_status	st = SID_OK;
	SNDFILE    *sf;

	if (pcm != NULL)
		memset(pcm, 0, sizeof(*pcm));
	if ((sf = open_path(path, &sfinfo, lim, &st, err)) == NULL)
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
	pcm_sink	sink = {NULL, 0, 0};
	soxr_t		rs = NULL;
	sid_status	st;

	*out = NULL;
	*n_out = 0;
	if (in_rate < SID_AUDIO_MIN_SAMPLE_RATE || out_rate < SID_AUDIO_MIN_SAMPLE_RATE ||
		out_rate > SID_AUDIO_MAX_TARGET_RATE || n_in < 0)
		return sid_fail(err, SID_EINVAL, "cannot resample %d Hz to %d Hz", (int) in_rate, (int) out_rate);
	if (in_rate != out_rate && (st = resampler_new(in_rate, out_rate, &rs, err)) != SID_OK)
		return st;
	st = sink_push(&sink, rs, (double) out_rate / in_rate, in, n_in, 0, err);
	if (st == SID_OK && rs != NULL)
		st = sink_push(&sink, rs, (double) out_rate / in_rate, in + n_in, 0, 1, err);
	if (rs != NULL)
		soxr_delete(rs);
	if (st != SID_OK)
	{
		free(sink.data);
		return st;
	}
	*out = sink.data;
	*n_out = sink.len;
	return SID_OK;
}
