/*
 * test_audio.c - known answers for the audio front end (sid_audio, sid_mel).
 *
 * Every input is synthesised here: sines written through libsndfile in each
 * format it can write, WAV headers crafted byte by byte for the bad cases.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "audio/sid_audio.h"
#include "core/sid_bytes.h"
#include "audio/sid_features.h"
#include "audio/sid_mel.h"
#include "tap.h"

static char tmpdir[] = "/tmp/sid_test_audio.XXXXXX";

/* amplitude-weighted sum of sines at rate, n frames, channels identical */
static float *
render_tones(const double *hz, const double *amp, int n_tones, int rate, int64_t n, int channels)
{
	float	   *x = malloc(sizeof(float) * (size_t) (n * channels));
	int64_t		i;

	for (i = 0; i < n; i++)
	{
		double		v = 0.0;
		int			k,
					c;

		for (k = 0; k < n_tones; k++)
			v += amp[k] * sin(2.0 * M_PI * hz[k] * (double) i / rate);
		for (c = 0; c < channels; c++)
			x[i * channels + c] = (float) v;
	}
	return x;
}

static int
write_sound(const char *path, int format, int rate, int channels, const float *x, int64_t n)
{
	SF_INFO		info = {0};
	SNDFILE    *sf;
	sf_count_t	w;

	info.samplerate = rate;
	info.channels = channels;
	info.format = format;
	if (!sf_format_check(&info))
		return -1;
	if ((sf = sf_open(path, SFM_WRITE, &info)) == NULL)
		return -1;
	w = sf_writef_float(sf, x, n);
	sf_close(sf);
	return w == n ? 0 : -1;
}

/* little-endian RIFF/WAVE: 16-bit PCM (or 32-bit float when is_float) */
static size_t
craft_wav(unsigned char *out, int rate, int channels, int is_float,
		  uint32_t declared_data_bytes, const void *data, uint32_t data_bytes)
{
	int			bits = is_float ? 32 : 16;
	uint32_t	block = (uint32_t) (channels * bits / 8);
	unsigned char *p = out;

#define PUT4(s) (memcpy(p, s, 4), p += 4)
#define PUT32(v) do { uint32_t v_ = (v); for (int i_ = 0; i_ < 4; i_++) *p++ = (unsigned char) (v_ >> (8 * i_)); } while (0)
#define PUT16(v) do { uint32_t v_ = (v); *p++ = (unsigned char) v_; *p++ = (unsigned char) (v_ >> 8); } while (0)
	PUT4("RIFF");
	PUT32(36 + declared_data_bytes);
	PUT4("WAVE");
	PUT4("fmt ");
	PUT32(16);
	PUT16(is_float ? 3 : 1);
	PUT16((uint32_t) channels);
	PUT32((uint32_t) rate);
	PUT32((uint32_t) rate * block);
	PUT16(block);
	PUT16((uint32_t) bits);
	PUT4("data");
	PUT32(declared_data_bytes);
	memcpy(p, data, data_bytes);
	p += data_bytes;
	return (size_t) (p - out);
}

static int
argmax(const float *v, int n)
{
	int			best = 0;

	for (int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/* mean over frames of each band */
static void
band_means(const float *frames, int64_t n_frames, int n_mels, int64_t skip, float *mean)
{
	for (int b = 0; b < n_mels; b++)
	{
		double		s = 0.0;

		for (int64_t f = skip; f < n_frames - skip; f++)
			s += frames[f * n_mels + b];
		mean[b] = (float) (s / (double) (n_frames - 2 * skip));
	}
}

/* the band whose triangle weighs frequency hz the most */
static int
expected_band(const sid_mel *m, double hz)
{
	const sid_feature_config *c = sid_mel_config(m);
	int			bin = (int) lround(hz * c->n_fft / c->sample_rate);
	int			best = -1;
	float		best_w = 0.0f;

	for (int b = 0; b < c->n_mels; b++)
	{
		int			first,
					len;
		const float *w = sid_mel_filter(m, b, &first, &len);

		if (bin >= first && bin < first + len && w[bin - first] > best_w)
		{
			best_w = w[bin - first];
			best = b;
		}
	}
	return best;
}

static void
test_sine_peak(sid_mel *m)
{
	const double freqs[] = {250.0, 1000.0, 3000.0, 6500.0};
	int			n_mels = sid_mel_config(m)->n_mels;
	int64_t		n = 16000;

	for (size_t i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++)
	{
		double		amp = 0.5;
		float	   *x = render_tones(&freqs[i], &amp, 1, 16000, n, 1);
		int64_t		nf = sid_mel_n_frames(m, n);
		float	   *frames = malloc(sizeof(float) * (size_t) (nf * n_mels));
		float		mean[1024];
		sid_error	err;
		int			want = expected_band(m, freqs[i]);

		CHECK(sid_mel_frames(m, x, n, frames, &err) == SID_OK, "frames of a %.0f Hz sine", freqs[i]);
		band_means(frames, nf, n_mels, 4, mean);
		CHECK(argmax(mean, n_mels) == want && want >= 0,
			  "%.0f Hz sine peaks in mel band %d (got %d, centre %.0f Hz)",
			  freqs[i], want, argmax(mean, n_mels), sid_mel_band_center_hz(m, argmax(mean, n_mels)));
		free(x);
		free(frames);
	}
}

static void
test_silence(sid_mel *m)
{
	float	   *x = calloc(8000, sizeof(float));
	sid_segments segs;
	sid_error	err;
	int			all_floor = 1;

	CHECK(sid_mel_segments_alloc(m, x, 8000, &segs, &err) == SID_OK && segs.n_segments == 1,
		  "half a second of silence gives one segment");
	for (int64_t i = 0; i < segs.n_segments * segs.frames_per_segment * segs.n_mels; i++)
		all_floor &= segs.mel[i] == SID_MEL_DB_FLOOR;
	CHECK(all_floor, "digital silence is exactly %.0f dB in every band and frame", (double) SID_MEL_DB_FLOOR);
	sid_segments_free(&segs);
	free(x);
}

/* 44.1 kHz through libsndfile + libsamplerate vs the same tones rendered at 16 kHz */
static void
test_resampled_matches(sid_mel *m)
{
	const double hz[] = {220.0, 1250.0, 3100.0, 5200.0, 7000.0};
	const double amp[] = {0.3, 0.2, 0.15, 0.1, 0.1};
	int			n_mels = sid_mel_config(m)->n_mels;
	double		seconds = 2.0;
	int64_t		n44 = (int64_t) (44100 * seconds),
				n16 = (int64_t) (16000 * seconds);
	float	   *x44 = render_tones(hz, amp, 5, 44100, n44, 1);
	float	   *x16 = render_tones(hz, amp, 5, 16000, n16, 1);
	char		path[128];
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;
	double		max_diff = 0.0;
	int			n_compared = 0;

	sid_audio_limits_default(&lim);
	snprintf(path, sizeof(path), "%s/tones44.wav", tmpdir);
	CHECK(write_sound(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, x44, n44) == 0, "write 44.1 kHz float WAV");
	CHECK(sid_audio_decode_file(path, 16000, &lim, NULL, &pcm, &err) == SID_OK, "decode and resample 44.1 kHz to 16 kHz");
	CHECK(llabs(pcm.n_samples - n16) <= 1, "resampled length %lld is %lld +- 1",
		  (long long) pcm.n_samples, (long long) n16);
	{
		int64_t		nf = sid_mel_n_frames(m, n16);
		float	   *a = malloc(sizeof(float) * (size_t) (nf * n_mels));
		float	   *b = malloc(sizeof(float) * (size_t) (nf * n_mels));

		sid_mel_frames(m, pcm.samples, n16, a, &err);
		sid_mel_frames(m, x16, n16, b, &err);
		/* interior frames (the resampler's edges differ), bands within 40 dB of the top */
		for (int64_t f = 8; f < nf - 8; f++)
		{
			float		top = b[f * n_mels + argmax(b + f * n_mels, n_mels)];

			for (int k = 0; k < n_mels; k++)
				if (b[f * n_mels + k] > top - 40.0f)
				{
					double		d = fabs(a[f * n_mels + k] - b[f * n_mels + k]);

					if (d > max_diff)
						max_diff = d;
					n_compared++;
				}
		}
		CHECK(n_compared > 100 && max_diff < 0.5,
			  "44.1 kHz resampled equals 16 kHz rendered within 0.5 dB, tones 220 Hz..7 kHz (max %.4f dB over %d bins within 40 dB of each frame's top)",
			  max_diff, n_compared);
		free(a);
		free(b);
	}
	sid_pcm_free(&pcm);
	free(x44);
	free(x16);
}

static void
test_stereo_equals_mono(sid_mel *m)
{
	const double hz[] = {440.0, 2000.0};
	const double amp[] = {0.4, 0.2};
	int64_t		n = 24000;
	float	   *mono = render_tones(hz, amp, 2, 22050, n, 1);
	float	   *stereo = render_tones(hz, amp, 2, 22050, n, 2);
	char		p1[128],
				p2[128];
	sid_audio_limits lim;
	sid_segments a,
				b;
	sid_audio_info ia,
				ib;
	sid_error	err;
	int			same = 1;

	sid_audio_limits_default(&lim);
	snprintf(p1, sizeof(p1), "%s/mono.wav", tmpdir);
	snprintf(p2, sizeof(p2), "%s/stereo.wav", tmpdir);
	write_sound(p1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 1, mono, n);
	write_sound(p2, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 2, stereo, n);
	CHECK(sid_segments_from_file(m, p1, &lim, &ia, &a, &err) == SID_OK, "mono 22.05 kHz file to segments");
	CHECK(sid_segments_from_file(m, p2, &lim, &ib, &b, &err) == SID_OK, "stereo 22.05 kHz file to segments");
	CHECK(ia.channels == 1 && ib.channels == 2 && ib.sample_rate == 22050, "info reports 1 and 2 channels at 22050 Hz");
	same = a.n_segments == b.n_segments && a.n_segments > 0;
	for (int64_t i = 0; same && i < a.n_segments * a.frames_per_segment * a.n_mels; i++)
		same = a.mel[i] == b.mel[i];
	CHECK(same, "stereo with identical channels equals mono bit for bit (%lld segments)",
		  (long long) a.n_segments);
	sid_segments_free(&a);
	sid_segments_free(&b);
	free(mono);
	free(stereo);
}

static void
test_segments(void)
{
	sid_feature_config cfg;
	sid_mel    *m;
	sid_error	err;

	/* 1 s windows every 0.5 s: starts off the 256-sample frame grid */
	sid_features_default(&cfg);
	m = sid_mel_create(&cfg, &err);
	CHECK(sid_mel_frames_per_segment(m) == 63, "1 s window, hop 256: 63 frames per segment");
	CHECK(sid_mel_n_segments(m, 0) == 0 && sid_mel_n_segments(m, 1) == 1 &&
		  sid_mel_n_segments(m, 16000) == 1 && sid_mel_n_segments(m, 16001) == 2 &&
		  sid_mel_n_segments(m, 24000) == 2 && sid_mel_n_segments(m, 24001) == 3,
		  "segment count covers every sample (0, 1, 16000, 16001, 24000, 24001 samples)");
	{
		int			exact = 1;

		for (int64_t s = 0; s < 7200; s++)
			exact &= sid_mel_segment_start_seconds(m, s) == (double) s * 0.5 &&
				sid_mel_segment_start_sample(m, s) == s * 8000;
		CHECK(exact, "segment s starts at sample 8000 s, exactly s * 0.5 s, for an hour of segments");
	}
	{
		/* each segment equals frames computed at its own sample offsets */
		int64_t		n = 40000;
		double		hz = 700.0,
					amp = 0.5;
		float	   *x = render_tones(&hz, &amp, 1, 16000, n, 1);
		sid_segments segs;
		float	   *tail = malloc(sizeof(float) * 63 * 64);
		int			same = 1;

		for (int64_t i = 0; i < n; i++)
			x[i] *= (float) i / n;	/* a ramp, so shifted frames differ */
		CHECK(sid_mel_segments_alloc(m, x, n, &segs, &err) == SID_OK && segs.n_segments == 4,
			  "2.5 s gives 4 segments");
		/* segment 3 (1.5 s .. 2.5 s) as a stand-alone signal shifted to 0 */
		sid_mel_segments(m, x + 24000, n - 24000, 0, 1, tail, NULL, &err);
		for (int j = 3; j < 60 && same; j++)	/* away from the padded edges */
			for (int b = 0; b < 64; b++)
				same &= fabsf(tail[j * 64 + b] - segs.mel[(3 * 63 + j) * 64 + b]) < 1e-3f;
		CHECK(same && segs.t_start[3] == 1.5, "segment 3 starts at 1.5 s and holds the frames of the audio from 1.5 s");
		sid_segments_free(&segs);
		free(tail);
		free(x);
	}
	sid_mel_free(m);

	/* 4.08 s windows every 0.512 s: on the grid, shared frames path */
	cfg.segment_seconds = 4.08f;
	cfg.segment_hop_seconds = 0.512f;
	m = sid_mel_create(&cfg, &err);
	CHECK(sid_mel_frames_per_segment(m) == 256, "4.08 s window, hop 256: 256 frames per segment");
	{
		int64_t		n = 16000 * 10;
		double		hz = 1500.0,
					amp = 0.5;
		float	   *x = render_tones(&hz, &amp, 1, 16000, n, 1);
		int64_t		nf = sid_mel_n_frames(m, n);
		float	   *frames = malloc(sizeof(float) * (size_t) (nf * 64));
		sid_segments segs;
		int			same = 1,
					exact = 1;

		for (int64_t i = 0; i < n; i++)
			x[i] *= (float) (1.0 + sin(i * 0.001));
		sid_mel_frames(m, x, n, frames, &err);
		sid_mel_segments_alloc(m, x, n, &segs, &err);
		CHECK(segs.n_segments == 1 + (n - 65280 + 8191) / 8192, "10 s gives %lld segments",
			  (long long) segs.n_segments);
		for (int64_t s = 0; s < segs.n_segments; s++)
		{
			exact &= segs.t_start[s] == (double) (s * 8192) / 16000.0 &&
				fabs(segs.t_start[s] - s * 0.512) < 1e-12;
			for (int j = 0; j < 256 && s * 32 + j < nf; j++)
				same &= memcmp(&segs.mel[(s * 256 + j) * 64], &frames[(s * 32 + j) * 64],
							   64 * sizeof(float)) == 0;
		}
		CHECK(exact, "segment s starts at s * 0.512 s (sample 8192 s)");
		CHECK(same, "segments are exact copies of the whole-signal frames (shared-frame path)");
		sid_segments_free(&segs);
		free(frames);
		free(x);
	}
	sid_mel_free(m);
}

/* each format the installed libsndfile can write, decoded from file and memory */
static void
test_formats(sid_mel *m)
{
	static const struct
	{
		const char *name;
		const char *ext;
		int			format;
		int			rate;
	}			formats[] = {
		{"WAV 16-bit", "wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100},
		{"WAV float", "wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000},
		{"FLAC", "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100},
		{"Ogg Vorbis", "ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100},
		{"Ogg Opus", "opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000},
		{"MP3", "mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100},
		{"AIFF", "aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 32000},
	};
	int			n_mels = sid_mel_config(m)->n_mels;
	sid_audio_limits lim;

	sid_audio_limits_default(&lim);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
	{
		int			rate = formats[i].rate;
		double		hz = 1000.0,
					amp = 0.5;
		int64_t		n = rate * 3 / 2;
		float	   *x = render_tones(&hz, &amp, 1, rate, n, 2);
		char		path[128];
		sid_audio_info info;
		sid_pcm		pcm;
		sid_error	err;
		unsigned char *bytes;
		size_t		len = 0;

		snprintf(path, sizeof(path), "%s/sine.%s", tmpdir, formats[i].ext);
		if (write_sound(path, formats[i].format, rate, 2, x, n) != 0)
		{
			tap_skip("this libsndfile cannot write %s", formats[i].name);
			free(x);
			continue;
		}
		CHECK(sid_audio_decode_file(path, 16000, &lim, &info, &pcm, &err) == SID_OK,
			  "%s: decode file (%s)", formats[i].name, err.msg);
		CHECK(info.channels == 2 && info.sample_rate == rate && fabs(info.duration_seconds - 1.5) < 0.1,
			  "%s: info %s/%s, %d Hz, %d ch, %.3f s", formats[i].name, info.format, info.encoding,
			  info.sample_rate, info.channels, info.duration_seconds);
		{
			int64_t		nf = sid_mel_n_frames(m, pcm.n_samples);
			float	   *frames = malloc(sizeof(float) * (size_t) (nf * n_mels));
			float		mean[1024];

			sid_mel_frames(m, pcm.samples, pcm.n_samples, frames, &err);
			band_means(frames, nf, n_mels, 8, mean);
			CHECK(argmax(mean, n_mels) == expected_band(m, hz), "%s: 1 kHz peaks in band %d",
				  formats[i].name, expected_band(m, hz));
			free(frames);
		}
		bytes = sid_read_file(path, SIZE_MAX, &len, NULL);
		{
			sid_pcm		pcm2;
			sid_audio_info info2;
			sid_status	st2;
			int			same;

			CHECK(sid_audio_decode_memory(bytes, len, 16000, &lim, &info2, &pcm2, &err) == SID_OK,
				  "%s: decode the same bytes from memory", formats[i].name);
			same = pcm2.n_samples == pcm.n_samples &&
				memcmp(pcm2.samples, pcm.samples, sizeof(float) * (size_t) pcm.n_samples) == 0;
			CHECK(same, "%s: memory and file decoding agree bit for bit", formats[i].name);
			sid_pcm_free(&pcm2);
			/*
			 * cut in half: an error, except MP3, whose length libsndfile only
			 * estimates (docs/audio.md): it decodes to the half that is there
			 */
			st2 = sid_audio_decode_memory(bytes, len / 2, 16000, &lim, &info2, &pcm2, &err);
			if ((formats[i].format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG)
				CHECK(st2 == SID_OK && pcm2.n_samples < pcm.n_samples * 3 / 4,
					  "%s: first half of the file decodes to %.2f s", formats[i].name,
					  pcm2.n_samples / 16000.0);
			else
				CHECK(st2 == SID_EFORMAT && pcm2.samples == NULL, "%s: first half of the file is an error (%s)",
					  formats[i].name, err.msg);
			sid_pcm_free(&pcm2);
		}
		free(bytes);
		sid_pcm_free(&pcm);
		free(x);
	}
}

static void
test_bad_input(void)
{
	sid_audio_limits lim;
	sid_audio_info info;
	sid_pcm		pcm;
	sid_error	err;
	sid_status	st;
	unsigned char buf[65536];
	int16_t		pcm16[3200];
	size_t		len;

	sid_audio_limits_default(&lim);
	for (int i = 0; i < 3200; i++)
		pcm16[i] = (int16_t) (8000 * sin(i * 0.2));

	st = sid_audio_decode_memory(buf, 0, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_EFORMAT,
		  "empty input: SID_EFORMAT (%s)", err.msg);
	memset(buf, 'x', 1000);
	st = sid_audio_decode_memory(buf, 1000, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_EUNSUPPORTED,
		  "text is not audio: SID_EUNSUPPORTED (%s)", err.msg);
	len = craft_wav(buf, 16000, 1, 0, sizeof(pcm16), pcm16, sizeof(pcm16));
	CHECK(sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err) == SID_OK &&
		  pcm.n_samples == 3200, "crafted 16 kHz WAV decodes to 3200 samples");
	sid_pcm_free(&pcm);
	st = sid_audio_decode_memory(buf, 30, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_EFORMAT, "WAV cut inside its header: SID_EFORMAT (%s)", err.msg);
	len = craft_wav(buf, 16000, 1, 0, sizeof(pcm16), pcm16, 1000);
	st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_EFORMAT,
		  "WAV cut inside its data: SID_EFORMAT (%s)", err.msg);
	len = craft_wav(buf, 16000, 1, 0, 0, pcm16, 0);
	st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_EINVAL,
		  "zero-length WAV: SID_EINVAL (%s)", err.msg);
	/* libsoxr gives round(n * ratio) samples: one frame at 48 kHz gives none */
	len = craft_wav(buf, 48000, 1, 0, 2, pcm16 + 1, 2);
	st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_EINVAL && pcm.samples == NULL,
		  "one frame at 48 kHz (nothing at 16 kHz): SID_EINVAL (%s)", err.msg);
	len = craft_wav(buf, 4, 1, 0, sizeof(pcm16), pcm16, sizeof(pcm16));
	st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_EUNSUPPORTED,
		  "4 Hz sample rate: SID_EUNSUPPORTED (%s)", err.msg);
	len = craft_wav(buf, 2000000, 1, 0, sizeof(pcm16), pcm16, sizeof(pcm16));
	st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_ELIMIT,
		  "2 MHz sample rate: SID_ELIMIT (%s)", err.msg);
	len = craft_wav(buf, 16000, 100, 0, sizeof(pcm16), pcm16, sizeof(pcm16));
	st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_ELIMIT,
		  "100 channels over a limit of 64: SID_ELIMIT (%s)", err.msg);
	len = craft_wav(buf, 16000, 1, 0, sizeof(pcm16), pcm16, sizeof(pcm16));
	lim.max_seconds = 0.1;
	st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_ELIMIT,
		  "0.2 s over a 0.1 s limit: SID_ELIMIT (%s)", err.msg);
	sid_audio_limits_default(&lim);
	lim.max_input_bytes = 100;
	st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_ELIMIT,
		  "%zu bytes over a 100-byte limit: SID_ELIMIT (%s)", len, err.msg);
	sid_audio_limits_default(&lim);
	{
		float		f[4] = {0.1f, NAN, 0.2f, 0.3f};

		len = craft_wav(buf, 16000, 1, 1, sizeof(f), f, sizeof(f));
		st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
		CHECK(st == SID_EFORMAT, "float WAV holding a NaN: SID_EFORMAT (%s)", err.msg);
		f[1] = 1e30f;			/* found by fuzz_decode: its power overflowed to inf dB */
		len = craft_wav(buf, 16000, 1, 1, sizeof(f), f, sizeof(f));
		st = sid_audio_decode_memory(buf, len, 16000, &lim, &info, &pcm, &err);
		CHECK(st == SID_EFORMAT, "float WAV holding 1e30: SID_EFORMAT (%s)", err.msg);
	}
	st = sid_audio_decode_file("/nonexistent/x.wav", 16000, &lim, &info, &pcm, &err);
	CHECK(st == SID_EIO,
		  "missing file: SID_EIO (%s)", err.msg);
	CHECK(pcm.samples == NULL, "failed decoding leaves no buffer behind");
	{
		sid_feature_config cfg;

		sid_features_default(&cfg);
		cfg.n_mels = 512;
		CHECK(sid_mel_create(&cfg, &err) == NULL && err.code == SID_EINVAL,
			  "512 mel bands over 513 bins: refused (%s)", err.msg);
		sid_features_default(&cfg);
		cfg.f_max = 9000.0f;
		CHECK(sid_mel_create(&cfg, &err) == NULL && err.code == SID_EINVAL,
			  "f_max above Nyquist: refused (%s)", err.msg);
	}
}

/* 8 kHz telephone audio is upsampled; a 1 kHz tone keeps its band */
static void
test_upsampled(sid_mel *m)
{
	double		hz = 1000.0,
				amp = 0.5;
	int			n_mels = sid_mel_config(m)->n_mels;
	float	   *x = render_tones(&hz, &amp, 1, 8000, 8000, 1);
	float	   *y = NULL;
	int64_t		ny = 0;
	sid_error	err;
	sid_status	st = sid_audio_resample(x, 8000, 8000, 16000, &y, &ny, &err);

	CHECK(st == SID_OK && llabs(ny - 16000) <= 1, "1 s at 8 kHz resamples to %lld samples at 16 kHz",
		  (long long) ny);
	if (st == SID_OK)
	{
		int64_t		nf = sid_mel_n_frames(m, ny);
		float	   *frames = malloc(sizeof(float) * (size_t) (nf * n_mels));
		float		mean[1024];

		sid_mel_frames(m, y, ny, frames, &err);
		band_means(frames, nf, n_mels, 8, mean);
		CHECK(argmax(mean, n_mels) == expected_band(m, hz), "8 kHz source: 1 kHz still peaks in band %d",
			  expected_band(m, hz));
		free(frames);
	}
	free(y);
	free(x);
}

/* Contexts made and freed concurrently (FFTW planner under the mutex) agree bit for bit. */
typedef struct thread_job
{
	const float *x;
	int64_t		n;
	const float *want;
	int			mismatches;
} thread_job;

static void *
mel_thread(void *arg)
{
	thread_job *job = arg;
	sid_feature_config cfg;
	sid_error	err;

	sid_features_default(&cfg);
	for (int round = 0; round < 20; round++)
	{
		sid_mel    *m = sid_mel_create(&cfg, &err);
		sid_segments segs;

		if (m == NULL || sid_mel_segments_alloc(m, job->x, job->n, &segs, &err) != SID_OK)
		{
			job->mismatches++;
			sid_mel_free(m);
			continue;
		}
		if (memcmp(segs.mel, job->want, sizeof(float) * (size_t) (segs.n_segments * 63 * 64)) != 0)
			job->mismatches++;
		sid_segments_free(&segs);
		sid_mel_free(m);
	}
	return NULL;
}

static void
test_threads(sid_mel *m)
{
	double		hz[] = {300.0, 2500.0},
				amp[] = {0.3, 0.3};
	int64_t		n = 24000;
	float	   *x = render_tones(hz, amp, 2, 16000, n, 1);
	sid_segments want;
	sid_error	err;
	pthread_t	tid[4];
	thread_job	jobs[4];
	int			bad = 0;

	sid_mel_segments_alloc(m, x, n, &want, &err);
	for (int t = 0; t < 4; t++)
	{
		jobs[t] = (thread_job) {x, n, want.mel, 0};
		pthread_create(&tid[t], NULL, mel_thread, &jobs[t]);
	}
	for (int t = 0; t < 4; t++)
	{
		pthread_join(tid[t], NULL);
		bad += jobs[t].mismatches;
	}
	CHECK(bad == 0, "4 threads x 20 contexts created, used and freed concurrently agree bit for bit (%d mismatches)", bad);
	sid_segments_free(&want);
	free(x);
}

int
main(void)
{
	sid_feature_config cfg;
	sid_mel    *m;
	sid_error	err;

	if (mkdtemp(tmpdir) == NULL)
		return 2;
	sid_features_default(&cfg);
	m = sid_mel_create(&cfg, &err);
	CHECK(m != NULL, "default mel context");
	test_sine_peak(m);
	test_silence(m);
	test_resampled_matches(m);
	test_upsampled(m);
	test_threads(m);
	test_stereo_equals_mono(m);
	test_segments();
	test_formats(m);
	test_bad_input();
	sid_mel_free(m);

	{
		char		cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return tap_done();
}
