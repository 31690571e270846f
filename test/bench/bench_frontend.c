/*
 * bench_frontend.c - throughput of decode + resample + log-mel, one core.
 * The resampler table sets libsoxr (used) beside libsamplerate (the old path).
 *
 *   make bench && build/bench/bench_frontend [track.ogg ...]
 *
 * Default input: two tracks of wesnoth-1.16-music (Ogg Vorbis, 44.1 kHz
 * stereo).  Every figure is audio seconds per CPU second of this thread
 * ("x real time"), best of REPEATS runs; all comparisons come from the same
 * run.  Encoded bytes are read into memory first, as the extension gets them.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <samplerate.h>
#include <sndfile.h>
#include <soxr.h>

#include "core/sid_clock.h"
#include "audio/sid_audio.h"
#include "core/sid_bytes.h"
#include "audio/sid_features.h"
#include "audio/sid_mel.h"

#define REPEATS 2
#define MUSIC "/usr/share/games/wesnoth/1.16/data/core/music/"

typedef struct track
{
	const char *path;
	unsigned char *bytes;
	size_t		len;
	/* the same audio re-encoded by libsndfile: 16-bit WAV, FLAC, MP3 */
	unsigned char *coded[3];
	size_t		coded_len[3];
	/* and by Debian's ffmpeg: AAC in M4A, Opus in Ogg (NULL without ffmpeg) */
	unsigned char *ff[2];
	size_t		ff_len[2];
	int32_t		ff_rate[2];
	sid_audio_info info;
	sid_pcm		native;			/* mono at the original rate */
	sid_pcm		pcm16;			/* mono at 16 kHz */
} track;

static void
die(const char *what, const sid_error *err)
{
	fprintf(stderr, "bench_frontend: %s: %s\n", what, err ? err->msg : "failed");
	exit(1);
}

static sid_audio_limits limits;
static sid_audio_limits old_limits;	/* the old path: libsndfile for every format */

static const struct
{
	const char *name;
	int			format;
}			recodings[3] = {
	{"16-bit WAV", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
	{"FLAC 16-bit", SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
	{"MP3 (LAME)", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III},
};

/* decode every channel at the original rate and store it re-encoded as recodings[f] */
static void
recode(track *t, int f)
{
	char		path[] = "/tmp/bench_frontend.XXXXXX";
	int			fd = mkstemp(path);
	SF_INFO		in = {0},
				out;
	SNDFILE    *src,
			   *dst;
	float		buf[8192];
	sf_count_t	got;

	close(fd);
	src = sf_open(t->path, SFM_READ, &in);
	out = in;
	out.format = recodings[f].format;
	dst = sf_open(path, SFM_WRITE, &out);
	if (!src || !dst)
		die(recodings[f].name, NULL);
	/* Vorbis decodes a little beyond full scale, which stops the FLAC encoder */
	sf_command(dst, SFC_SET_CLIPPING, NULL, SF_TRUE);
	while ((got = sf_readf_float(src, buf, 8192 / in.channels)) > 0)
		sf_writef_float(dst, buf, got);
	sf_close(src);
	sf_close(dst);
	t->coded[f] = sid_read_file(path, SIZE_MAX, &t->coded_len[f], NULL);
	unlink(path);
	{
		sid_audio_info info;
		sid_error	err;

		/* a recoding must hold the whole track, or its figure means nothing */
		if (t->coded[f] == NULL ||
			sid_audio_probe_memory(t->coded[f], t->coded_len[f], &limits, &info, &err) != SID_OK)
			die(recodings[f].name, NULL);
		if (fabs(info.duration_seconds - (double) in.frames / in.samplerate) > 0.2)
		{
			fprintf(stderr, "bench_frontend: %s of %s holds %.1f s of %.1f s\n", recodings[f].name,
					t->path, info.duration_seconds, (double) in.frames / in.samplerate);
			exit(1);
		}
	}
}

/* One measured phase: best CPU time of REPEATS over all tracks. */
typedef void (*phase_fn) (track *t, void *arg);

static double
measure(track *tracks, int n, phase_fn fn, void *arg)
{
	double		best = INFINITY;

	for (int r = 0; r < REPEATS; r++)
	{
		double		t0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);

		for (int i = 0; i < n; i++)
			fn(&tracks[i], arg);
		if (sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - t0 < best)
			best = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	return best;
}

static void
phase_full(track *t, void *arg)
{
	sid_segments segs;
	sid_error	err;

	if (sid_segments_from_memory(arg, t->bytes, t->len, &limits, NULL, &segs, &err) != SID_OK)
		die(t->path, &err);
	sid_segments_free(&segs);
}

static sid_mel *recoded_mel;	/* the context the recoded phases use */

/* the track's bytes: the original (f = -1) or recodings[f] */
static const unsigned char *
track_bytes(const track *t, int f, size_t *len)
{
	*len = f < 0 ? t->len : t->coded_len[f];
	return f < 0 ? t->bytes : t->coded[f];
}

static void
phase_full_recoded(track *t, void *arg)
{
	size_t		len;
	const unsigned char *bytes = track_bytes(t, *(const int *) arg, &len);
	sid_segments segs;
	sid_error	err;

	if (sid_segments_from_memory(recoded_mel, bytes, len, &limits, NULL, &segs, &err) != SID_OK)
		die(t->path, &err);
	sid_segments_free(&segs);
}

static void
phase_decode_native(track *t, void *arg)
{
	sid_pcm		pcm;
	sid_error	err;

	(void) arg;
	if (sid_audio_decode_memory(t->bytes, t->len, t->info.sample_rate, &limits, NULL, &pcm, &err) != SID_OK)
		die(t->path, &err);
	sid_pcm_free(&pcm);
}

static void
phase_decode_resample(track *t, void *arg)
{
	sid_pcm		pcm;
	sid_error	err;

	(void) arg;
	if (sid_audio_decode_memory(t->bytes, t->len, 16000, &limits, NULL, &pcm, &err) != SID_OK)
		die(t->path, &err);
	sid_pcm_free(&pcm);
}

static void
phase_mel(track *t, void *arg)
{
	sid_segments segs;
	sid_error	err;

	if (sid_mel_segments_alloc(arg, t->pcm16.samples, t->pcm16.n_samples, &segs, &err) != SID_OK)
		die(t->path, &err);
	sid_segments_free(&segs);
}

/* the naive alternative: a new context (FFTW plan, filterbank) per segment */
static void
phase_mel_fresh_plan(track *t, void *arg)
{
	const sid_feature_config *cfg = arg;
	sid_error	err;
	sid_mel    *m = sid_mel_create(cfg, &err);
	int64_t		S = sid_mel_n_segments(m, t->pcm16.n_samples);
	int64_t		per = (int64_t) sid_mel_frames_per_segment(m) * cfg->n_mels;
	float	   *out = malloc(sizeof(float) * (size_t) (S * per));

	sid_mel_free(m);
	for (int64_t s = 0; s < S; s++)
	{
		m = sid_mel_create(cfg, &err);
		if (m == NULL || sid_mel_segments(m, t->pcm16.samples, t->pcm16.n_samples, s, 1,
										  out + s * per, NULL, &err) != SID_OK)
			die(t->path, &err);
		sid_mel_free(m);
	}
	free(out);
}

/* one converter of the resampler table: libsamplerate or libsoxr */
typedef struct converter
{
	const char *name;
	int			is_soxr;
	int			type;			/* SRC_* converter or SOXR_* recipe */
} converter;

/* resample n mono samples at rate to 16 kHz into out (room for cap) */
static size_t
convert(const converter *c, const float *in, int64_t n, int rate, float *out, size_t cap)
{
	if (c->is_soxr)
	{
		soxr_quality_spec_t q = soxr_quality_spec(c->type, 0);
		soxr_runtime_spec_t rt = soxr_runtime_spec(1);
		size_t		done = 0;

		if (soxr_oneshot(rate, 16000, 1, in, (size_t) n, NULL, out, cap, &done, NULL, &q, &rt) != NULL)
			die("soxr_oneshot", NULL);
		return done;
	}
	else
	{
		SRC_DATA	d = {0};

		d.data_in = in;
		d.input_frames = n;
		d.data_out = out;
		d.output_frames = (long) cap;
		d.src_ratio = 16000.0 / rate;
		if (src_simple(&d, c->type, 1) != 0)
			die("src_simple", NULL);
		return (size_t) d.output_frames_gen;
	}
}

static void
phase_convert(track *t, void *arg)
{
	size_t		cap = (size_t) ceil(t->native.n_samples * 16000.0 / t->info.sample_rate) + 16;
	float	   *out = malloc(sizeof(float) * cap);

	convert(arg, t->native.samples, t->native.n_samples, t->info.sample_rate, out, cap);
	free(out);
}

/* the old path: decode at the original rate, libsamplerate SINC_MEDIUM, log-mel */
static void
phase_full_old(track *t, void *arg)
{
	size_t		len;
	const unsigned char *bytes = track_bytes(t, *(const int *) arg, &len);
	static const converter medium = {"SRC SINC_MEDIUM", 0, SRC_SINC_MEDIUM_QUALITY};
	sid_pcm		pcm;
	sid_segments segs;
	sid_error	err;
	size_t		cap;
	float	   *out;

	if (sid_audio_decode_memory(bytes, len, t->info.sample_rate, &old_limits, NULL, &pcm, &err) != SID_OK)
		die(t->path, &err);
	cap = (size_t) ceil(pcm.n_samples * 16000.0 / t->info.sample_rate) + 16;
	out = malloc(sizeof(float) * cap);
	cap = convert(&medium, pcm.samples, pcm.n_samples, t->info.sample_rate, out, cap);
	if (sid_mel_segments_alloc(recoded_mel, out, (int64_t) cap, &segs, &err) != SID_OK)
		die(t->path, &err);
	sid_segments_free(&segs);
	sid_pcm_free(&pcm);
	free(out);
}

/* level (dB) a converter leaves of a tone at hz, 44.1 kHz -> 16 kHz */
static double
tone_gain_db(const converter *c, double hz)
{
	int			n = 44100;
	float	   *in = malloc(sizeof(float) * n);
	float	   *out = malloc(sizeof(float) * 16100);
	size_t		made;
	double		e_in = 0,
				e_out = 0;

	for (int i = 0; i < n; i++)
		in[i] = (float) sin(2 * M_PI * hz * i / 44100.0);
	made = convert(c, in, n, 44100, out, 16100);
	for (int i = 4410; i < 39690; i++)
		e_in += (double) in[i] * in[i];
	for (size_t i = 1600; i < 14400 && i < made; i++)
		e_out += (double) out[i] * out[i];
	free(in);
	free(out);
	return 10 * log10((e_out / 12800) / (e_in / 35280));
}

static const struct
{
	const char *name;
	const char *args;
}			ff_recodings[2] = {
	{"AAC 128k M4A", "-c:a aac -b:a 128k"},
	{"Opus 96k Ogg", "-c:a libopus -b:a 96k -f ogg"},
};

/* the track re-encoded by ffmpeg as ff_recodings[f]; left NULL without ffmpeg */
static void
ff_recode(track *t, int f)
{
	char		path[] = "/tmp/bench_frontend_ff.XXXXXX";
	char		cmd[1024];
	int			fd = mkstemp(path);

	close(fd);
	snprintf(cmd, sizeof(cmd), "ffmpeg -nostdin -v error -y -i '%s' %s -f %s '%s' 2>/dev/null",
			 t->path, ff_recodings[f].args, f == 0 ? "mp4" : "ogg", path);
	if (system(cmd) == 0)
		t->ff[f] = sid_read_file(path, SIZE_MAX, &t->ff_len[f], NULL);
	unlink(path);
	if (t->ff[f] != NULL)
	{
		sid_audio_limits lim = limits;
		sid_audio_info info;
		sid_error	err;

		/* libsndfile refuses some of ffmpeg's Ogg Opus files; FFmpeg reads them all */
		lim.decoder = SID_AUDIO_DECODER_FFMPEG;
		if (sid_audio_probe_memory(t->ff[f], t->ff_len[f], &lim, &info, &err) != SID_OK)
			die(ff_recodings[f].name, &err);
		t->ff_rate[f] = info.sample_rate;
	}
}

/*
 * Everything measured is decoded here first, outside the timings; returns
 * the total audio seconds, or a negative number when a track cannot be read.
 * paths NULL: the default tracks.
 */
static double
load_tracks(track *tracks, int n, char *const *paths)
{
	const char *defaults[] = {MUSIC "battle.ogg", MUSIC "casualties_of_war.ogg", MUSIC "knolls.ogg"};
	double		seconds = 0;
	sid_error	err;

	for (int i = 0; i < n; i++)
	{
		track	   *t = &tracks[i];

		t->path = paths != NULL ? paths[i] : defaults[i];
		if (!(t->bytes = sid_read_file(t->path, SIZE_MAX, &t->len, NULL)))
		{
			fprintf(stderr, "bench_frontend: cannot read %s (apt-get install wesnoth-1.16-music)\n", t->path);
			return -1;
		}
		if (sid_audio_probe_memory(t->bytes, t->len, &limits, &t->info, &err) != SID_OK ||
			sid_audio_decode_memory(t->bytes, t->len, t->info.sample_rate, &limits, NULL, &t->native, &err) != SID_OK ||
			sid_audio_decode_memory(t->bytes, t->len, 16000, &limits, NULL, &t->pcm16, &err) != SID_OK)
			die(t->path, &err);
		for (int f = 0; f < 3; f++)
			recode(t, f);
		for (int f = 0; f < 2; f++)
			ff_recode(t, f);
		seconds += t->info.duration_seconds;
		printf("input: %s  %.1f s  %d Hz  %d ch  %s/%s\n", t->path, t->info.duration_seconds,
			   t->info.sample_rate, t->info.channels, t->info.format, t->info.encoding);
	}
	return seconds;
}

/* one row of the decoder table: which bytes, which decoder, how far */
typedef struct decoder_case
{
	int			source;			/* -1: the original Ogg Vorbis, else ff_recodings[] */
	sid_audio_decoder decoder;
	int			to_segments;	/* 0: decode + mixdown at the original rate only */
} decoder_case;

static void
phase_decoder(track *t, void *arg)
{
	const decoder_case *c = arg;
	const unsigned char *bytes = c->source < 0 ? t->bytes : t->ff[c->source];
	size_t		len = c->source < 0 ? t->len : t->ff_len[c->source];
	sid_audio_limits lim = limits;
	sid_error	err;

	lim.decoder = c->decoder;
	if (c->to_segments)
	{
		sid_segments segs;

		if (sid_segments_from_memory(recoded_mel, bytes, len, &lim, NULL, &segs, &err) != SID_OK)
			die(t->path, &err);
		sid_segments_free(&segs);
	}
	else
	{
		sid_pcm		pcm;
		int32_t		rate = c->source < 0 ? t->info.sample_rate : t->ff_rate[c->source];

		if (sid_audio_decode_memory(bytes, len, rate, &lim, NULL, &pcm, &err) != SID_OK)
			die(t->path, &err);
		sid_pcm_free(&pcm);
	}
}

/* libsndfile and FFmpeg on the same bytes, same run: what the allow-list chose by */
static void
print_decoder_table(track *tracks, int n, double seconds)
{
	static const struct
	{
		const char *name;
		int			source;
		sid_audio_decoder decoder;
	}			rows[] = {
		{"Ogg Vorbis  libsndfile (libvorbis)", -1, SID_AUDIO_DECODER_SNDFILE},
		{"Ogg Vorbis  FFmpeg (vorbis)", -1, SID_AUDIO_DECODER_FFMPEG},
		{"Ogg Opus    libsndfile (libopus)", 1, SID_AUDIO_DECODER_SNDFILE},
		{"Ogg Opus    FFmpeg (opus)", 1, SID_AUDIO_DECODER_FFMPEG},
		{"AAC M4A     FFmpeg (aac)", 0, SID_AUDIO_DECODER_AUTO},
	};
	sid_audio_info chosen;
	sid_error	err;

	for (int i = 0; i < n; i++)
		if (tracks[i].ff[0] == NULL || tracks[i].ff[1] == NULL)
		{
			printf("\ndecoders: skipped (needs Debian's ffmpeg to re-encode the tracks)\n");
			return;
		}
	printf("\ndecoders, the same bytes (Opus and AAC re-encoded by ffmpeg from the tracks):\n");
	printf("%-36s %9s %10s %12s %10s\n", "format / decoder", "decode s", "x realtime",
		   "segments s", "x realtime");
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
	{
		decoder_case dec = {rows[r].source, rows[r].decoder, 0},
					full = {rows[r].source, rows[r].decoder, 1};
		double		t_dec,
					t_full;
		int			refused = 0;

		/* a decoder that refuses these bytes gets a row saying so */
		for (int i = 0; i < n && !refused; i++)
		{
			sid_audio_limits lim = limits;
			sid_audio_info info;

			lim.decoder = rows[r].decoder;
			if (sid_audio_probe_memory(rows[r].source < 0 ? tracks[i].bytes : tracks[i].ff[rows[r].source],
									   rows[r].source < 0 ? tracks[i].len : tracks[i].ff_len[rows[r].source],
									   &lim, &info, &err) != SID_OK)
			{
				printf("%-36s refuses the input: %s\n", rows[r].name, err.msg);
				refused = 1;
			}
		}
		if (refused)
			continue;
		t_dec = measure(tracks, n, phase_decoder, &dec);
		t_full = measure(tracks, n, phase_decoder, &full);
		printf("%-36s %9.3f %10.0f %12.3f %10.0f\n", rows[r].name, t_dec, seconds / t_dec,
			   t_full, seconds / t_full);
	}
	if (sid_audio_probe_memory(tracks[0].bytes, tracks[0].len, &limits, &chosen, &err) == SID_OK)
		printf("(the allow-list serves Ogg Vorbis with %s)\n",
			   chosen.sf_format == 0 ? "FFmpeg" : "libsndfile");
}

/* the same audio re-encoded: new path and old path, same run */
static void
print_recoded_table(track *tracks, int n, double seconds)
{
	printf("\nthe same audio re-encoded by libsndfile, bytes -> segments (1 s / 0.5 s, hop 256):\n");
	printf("%-14s %9s %10s %12s %10s %9s\n", "format", "CPU s", "x realtime", "old CPU s", "old x rt",
		   "new/old");
	for (int f = 0; f < 3; f++)
	{
		double		t_new = measure(tracks, n, phase_full_recoded, &f),
					t_old = measure(tracks, n, phase_full_old, &f);

		printf("%-14s %9.3f %10.0f %12.3f %10.0f %8.2fx\n", recodings[f].name, t_new, seconds / t_new,
			   t_old, seconds / t_old, t_old / t_new);
	}
}

static void
print_pipeline_table(track *tracks, int n, double seconds, sid_mel *mel, sid_mel *mel_long,
					 sid_feature_config *cfg)
{
	double		t_full,
				t_full_old,
				t_dec,
				t_dec_rs,
				t_mel,
				t_mel_long,
				t_fresh;

	int			original = -1;

	recoded_mel = mel;
	t_full = measure(tracks, n, phase_full, mel);
	t_full_old = measure(tracks, n, phase_full_old, &original);
	t_dec = measure(tracks, n, phase_decode_native, NULL);
	t_dec_rs = measure(tracks, n, phase_decode_resample, NULL);
	t_mel = measure(tracks, n, phase_mel, mel);
	t_mel_long = measure(tracks, n, phase_mel, mel_long);
	t_fresh = measure(tracks, n, phase_mel_fresh_plan, cfg);

	printf("%-58s %9s %10s\n", "phase", "CPU s", "x realtime");
#define ROW(name, t) printf("%-58s %9.3f %10.0f\n", name, t, seconds / (t))
	ROW("full: Ogg Vorbis bytes -> segments (1 s / 0.5 s, hop 256)", t_full);
	ROW("  old path: the same with libsamplerate SINC_MEDIUM", t_full_old);
	ROW("  decode Vorbis + mixdown only (no resampling)", t_dec);
	ROW("  decode Vorbis + mixdown + resample to 16 kHz (" SID_AUDIO_RESAMPLER_NAME ")", t_dec_rs);
	ROW("  log-mel segments 1 s / 0.5 s (per-segment frames)", t_mel);
	ROW("  log-mel segments 4.08 s / 0.512 s (shared frames)", t_mel_long);
	ROW("  log-mel 1 s / 0.5 s, fresh FFTW plan per segment", t_fresh);
#undef ROW
	printf("\nVorbis pipeline, " SID_AUDIO_RESAMPLER_NAME " vs the old SINC_MEDIUM path: %.2fx faster\n",
		   t_full_old / t_full);
	printf("plan reuse vs fresh plan per segment: %.2fx faster\n", t_fresh / t_mel);
	printf("share of the Vorbis pipeline: decode %.0f%%, resample %.0f%%, log-mel %.0f%%\n",
		   100 * t_dec / t_full, 100 * (t_dec_rs - t_dec) / t_full, 100 * t_mel / t_full);
}

static void
print_resampler_table(track *tracks, int n, double seconds)
{
	static const converter conv[] = {
		{"SRC SINC_FASTEST", 0, SRC_SINC_FASTEST},
		{"SRC SINC_MEDIUM", 0, SRC_SINC_MEDIUM_QUALITY},
		{"SRC SINC_BEST", 0, SRC_SINC_BEST_QUALITY},
		{"soxr LQ", 1, SOXR_LQ},
		{"soxr MQ", 1, SOXR_MQ},
		{"soxr HQ", 1, SOXR_HQ},
		{"soxr VHQ", 1, SOXR_VHQ},
	};
	double		t[sizeof(conv) / sizeof(conv[0])],
				t_medium = 0;

	for (size_t c = 0; c < sizeof(conv) / sizeof(conv[0]); c++)
	{
		t[c] = measure(tracks, n, phase_convert, (void *) &conv[c]);
		if (!conv[c].is_soxr && conv[c].type == SRC_SINC_MEDIUM_QUALITY)
			t_medium = t[c];
	}
	printf("\nresampler (mono, original rate -> 16 kHz, one thread), same tracks:\n");
	printf("%-17s %9s %10s %9s %10s %10s %10s %10s\n", "converter", "CPU s", "x realtime",
		   "vs MEDIUM", "6 kHz dB", "7 kHz dB", "7.6 kHz dB", "8.5 kHz dB");
	for (size_t c = 0; c < sizeof(conv) / sizeof(conv[0]); c++)
		printf("%-17s %9.3f %10.0f %8.1fx %10.2f %10.2f %10.2f %10.2f%s\n", conv[c].name, t[c],
			   seconds / t[c], t_medium / t[c],
			   tone_gain_db(&conv[c], 6000), tone_gain_db(&conv[c], 7000),
			   tone_gain_db(&conv[c], 7600), tone_gain_db(&conv[c], 8500),
			   conv[c].is_soxr && conv[c].type == SID_AUDIO_RESAMPLER ? "   <- used" : "");
}

int
main(int argc, char **argv)
{
	int			n = argc > 1 ? argc - 1 : 2;
	track	   *tracks = calloc(n, sizeof(track));
	sid_feature_config cfg,
				cfg_long;
	sid_mel    *mel,
			   *mel_long;
	sid_error	err;
	double		seconds;

	sid_audio_limits_default(&limits);
	old_limits = limits;
	old_limits.decoder = SID_AUDIO_DECODER_SNDFILE;
	sid_features_default(&cfg);
	cfg_long = cfg;
	cfg_long.segment_seconds = 4.08f;
	cfg_long.segment_hop_seconds = 0.512f;
	if (!(mel = sid_mel_create(&cfg, &err)) || !(mel_long = sid_mel_create(&cfg_long, &err)))
		die("mel context", &err);
	if ((seconds = load_tracks(tracks, n, argc > 1 ? argv + 1 : NULL)) < 0)
		return 1;
	printf("total audio: %.1f s (%.2f min); best of %d runs; CPU time of this thread\n\n",
		   seconds, seconds / 60, REPEATS);
	print_pipeline_table(tracks, n, seconds, mel, mel_long, &cfg);
	print_recoded_table(tracks, n, seconds);
	print_decoder_table(tracks, n, seconds);
	print_resampler_table(tracks, n, seconds);

	for (int i = 0; i < n; i++)
	{
		free(tracks[i].bytes);
		for (int f = 0; f < 3; f++)
			free(tracks[i].coded[f]);
		for (int f = 0; f < 2; f++)
			free(tracks[i].ff[f]);
		sid_pcm_free(&tracks[i].native);
		sid_pcm_free(&tracks[i].pcm16);
	}
	free(tracks);
	sid_mel_free(mel);
	sid_mel_free(mel_long);
	return 0;
}
