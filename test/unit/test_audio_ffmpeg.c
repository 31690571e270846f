/*
 * test_audio_ffmpeg.c - the FFmpeg decoder behind sid_audio: the formats of
 * the allow-list decode, from a file and from memory alike, to fingerprints
 * close to the WAV they were encoded from; what the list refuses is refused;
 * the limits, the cancel hook and cut files behave as for libsndfile; and
 * FFmpeg's libraries are mapped only once such an input arrives.
 *
 * The inputs are made here with Debian's ffmpeg from 20 s of a Wesnoth
 * track (allowed audio, ../shared/data/corpus.md); without ffmpeg or the
 * track the checks are skipped, and say so.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/sid_audio.h"
#include "core/sid_bytes.h"
#include "model/sid_embed.h"
#include "model/sid_model.h"
#include "tap.h"

#define TRACK "/usr/share/games/wesnoth/1.16/data/core/music/knolls.ogg"
#define MODEL "models/fp.sidm"
#define CLIP_SECONDS 20

static char tmpdir[] = "/tmp/sid_test_audio_ffmpeg.XXXXXX";

typedef struct encoding
{
	const char *file;			/* name in tmpdir; its extension picks ffmpeg's muxer */
	const char *args;			/* ffmpeg's codec options */
	const char *format;			/* expected sid_audio_info */
	const char *codec;
	double		min_cosine;		/* mean fingerprint cosine to the WAV's */
} encoding;

/*
 * Lossy codecs at catalogue bit rates, measured 0.9987-0.9994 (WMA below);
 * ALAC is lossless, so equal bit for bit.
 */
static const encoding encodings[] = {
	{"aac.m4a", "-c:a aac -b:a 128k", "mp4", "aac", 0.95},
	{"faststart.m4a", "-c:a aac -b:a 128k -movflags +faststart", "mp4", "aac", 0.95},
	{"alac.m4a", "-c:a alac", "mp4", "alac", 1.0},
	{"opus.mp4", "-c:a libopus -b:a 96k", "mp4", "opus", 0.95},
	{"opus.webm", "-c:a libopus -b:a 96k", "matroska", "opus", 0.95},
	{"vorbis.webm", "-c:a libvorbis -q:a 4", "matroska", "vorbis", 0.95},
	/* WMA decodes 31 ms short and shifted (no encoder-delay field): measured 0.951 */
	{"wma.wma", "-c:a wmav2 -b:a 128k", "asf", "wmav2", 0.90},
	{"vorbis.ogg", "-c:a libvorbis -q:a 4", "ogg", "vorbis", 0.95},
};

static int
run(const char *fmt, const char *a, const char *b, const char *c)
{
	char		cmd[1024];

	snprintf(cmd, sizeof(cmd), fmt, a, b, c);
	return system(cmd) == 0;
}

static int
maps_library(const char *name)
{
	FILE	   *f = fopen("/proc/self/maps", "r");
	char		line[1024];
	int			found = 0;

	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

static sid_status
decode_path(const char *path, const sid_audio_limits *lim, sid_audio_info *info, sid_pcm *pcm,
			sid_error *err)
{
	return sid_audio_decode_file(path, 16000, lim, info, pcm, err);
}

static double
mean_cosine(const sid_embed_result *a, const sid_embed_result *b)
{
	int64_t		n = a->n_segments < b->n_segments ? a->n_segments : b->n_segments;
	double		sum = 0.0;

	for (int64_t s = 0; s < n; s++)
	{
		double		dot = 0.0;

		for (int i = 0; i < a->dim; i++)
			dot += (double) a->fp[s * a->dim + i] * b->fp[s * b->dim + i];
		sum += dot;
	}
	return n > 0 ? sum / (double) n : 0.0;
}

static int	interrupt_calls;

static int
interrupt_after_some(void *arg)
{
	(void) arg;
	return ++interrupt_calls > 3;
}

static void
test_formats(sid_embedder *e, const char *wav)
{
	sid_audio_limits lim;
	sid_audio_info info;
	sid_pcm		ref;
	sid_embed_result ref_fp;
	sid_error	err;

	sid_audio_limits_default(&lim);
	CHECK(decode_path(wav, &lim, &info, &ref, &err) == SID_OK, "reference WAV decodes");
	CHECK(maps_library("libavformat") == 0, "decoding a WAV does not load FFmpeg");
	CHECK(sid_embed_pcm(e, SID_DEVICE_CPU, ref.samples, ref.n_samples, &ref_fp, &err) == SID_OK,
		  "reference fingerprints");
	for (size_t i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++)
	{
		const encoding *enc = &encodings[i];
		char		path[256];
		sid_pcm		pcm,
					mem_pcm;
		sid_audio_info probed,
					mem_info;
		sid_embed_result fp;
		unsigned char *bytes;
		size_t		len;
		sid_status	st;

		snprintf(path, sizeof(path), "%s/%s", tmpdir, enc->file);
		if (!run("ffmpeg -nostdin -v error -y -i '%s' %s '%s'", wav, enc->args, path))
		{
			CHECK(0, "ffmpeg writes %s", enc->file);
			continue;
		}
		st = decode_path(path, &lim, &info, &pcm, &err);
		if (!CHECK(st == SID_OK, "%s decodes from a file (%s)", enc->file,
				   st == SID_OK ? "ok" : err.msg))
			continue;
		CHECK(strcmp(info.format, enc->format) == 0 && strcmp(info.encoding, enc->codec) == 0,
			  "%s is reported as %s/%s (got %s/%s)", enc->file, enc->format, enc->codec,
			  info.format, info.encoding);
		CHECK(fabs(info.duration_seconds - CLIP_SECONDS) < 0.1,
			  "%s lasts %d s (got %.3f s)", enc->file, CLIP_SECONDS, info.duration_seconds);
		CHECK(sid_audio_probe_file(path, &lim, &probed, &err) == SID_OK &&
			  probed.frames == info.frames && probed.sample_rate == info.sample_rate &&
			  probed.channels == info.channels,
			  "%s probes to the facts decoding found", enc->file);
		bytes = sid_read_file(path, (size_t) 1 << 30, &len, &err);
		CHECK(bytes != NULL &&
			  sid_audio_decode_memory(bytes, len, 16000, &lim, &mem_info, &mem_pcm, &err) == SID_OK &&
			  mem_pcm.n_samples == pcm.n_samples &&
			  memcmp(mem_pcm.samples, pcm.samples, sizeof(float) * (size_t) pcm.n_samples) == 0,
			  "%s decodes from memory to the same samples", enc->file);
		if (enc->min_cosine >= 1.0)
			CHECK(pcm.n_samples == ref.n_samples &&
				  memcmp(pcm.samples, ref.samples, sizeof(float) * (size_t) ref.n_samples) == 0,
				  "%s (lossless) equals the WAV bit for bit", enc->file);
		else if (CHECK(sid_embed_pcm(e, SID_DEVICE_CPU, pcm.samples, pcm.n_samples, &fp, &err) == SID_OK,
					   "%s fingerprints", enc->file))
		{
			double		cos = mean_cosine(&ref_fp, &fp);

			CHECK(cos >= enc->min_cosine && llabs(fp.n_segments - ref_fp.n_segments) <= 1,
				  "%s: fingerprints close to the WAV's (mean cosine %.4f >= %.2f, %lld vs %lld segments)",
				  enc->file, cos, enc->min_cosine, (long long) fp.n_segments,
				  (long long) ref_fp.n_segments);
			sid_embed_result_free(&fp);
		}
		/* cut in half: refused, or (Ogg, WebM, ASF stream on) the part that is there */
		if (bytes != NULL)
		{
			sid_pcm		half;

			memset(&err, 0, sizeof(err));
			st = sid_audio_decode_memory(bytes, len / 2, 16000, &lim, NULL, &half, &err);
			CHECK((st < 0 && err.msg[0] != '\0') ||
				  (st == SID_OK && half.n_samples < pcm.n_samples),
				  "%s cut in half: %s", enc->file, st == SID_OK ? "decodes to less" : err.msg);
			if (strcmp(enc->format, "mp4") == 0)
				CHECK(st == SID_EFORMAT, "a cut MP4 is refused as malformed or truncated");
			sid_pcm_free(&half);
		}
		free(bytes);
		sid_pcm_free(&pcm);
		sid_pcm_free(&mem_pcm);
	}
	CHECK(maps_library("libavformat") == 1, "FFmpeg is loaded once an M4A arrives");
	sid_embed_result_free(&ref_fp);
	sid_pcm_free(&ref);
}

/* Ogg Vorbis through both decoders, as the benchmark compares them */
static void
test_both_vorbis_decoders(void)
{
	sid_audio_limits lim;
	sid_pcm		a,
				b;
	sid_error	err;
	double		worst = 0.0;
	int			ok;

	sid_audio_limits_default(&lim);
	lim.decoder = SID_AUDIO_DECODER_SNDFILE;
	ok = sid_audio_decode_file(TRACK, 16000, &lim, NULL, &a, &err) == SID_OK;
	lim.decoder = SID_AUDIO_DECODER_FFMPEG;
	ok = ok && sid_audio_decode_file(TRACK, 16000, &lim, NULL, &b, &err) == SID_OK;
	if (!CHECK(ok, "a Wesnoth track decodes with libsndfile and with FFmpeg"))
		return;
	for (int64_t i = 0; i < a.n_samples && i < b.n_samples; i++)
		worst = fmax(worst, fabs((double) a.samples[i] - b.samples[i]));
	CHECK(llabs(a.n_samples - b.n_samples) <= 16 && worst < 1e-3,
		  "libvorbis and FFmpeg's Vorbis decoder agree (%lld vs %lld samples, max difference %.2g)",
		  (long long) a.n_samples, (long long) b.n_samples, worst);
	sid_pcm_free(&a);
	sid_pcm_free(&b);
}

static void
expect(sid_status want, sid_status got, const sid_error *err, const char *what)
{
	CHECK(got == want && err->msg[0] != '\0', "%s: status %d (want %d): %s", what, (int) got,
		  (int) want, err->msg);
}

static const struct
{
	int32_t		channels;
	double		seconds;
	int32_t		rate;
	int64_t		bytes;
	int			interrupt;
	const char *what;
}			limit_cases[] = {
	{1, 0, 0, 0, 0, "stereo M4A over a 1-channel limit"},
	{0, 5, 0, 0, 0, "20 s M4A over a 5 s limit"},
	{0, 0, 32000, 0, 0, "44.1 kHz M4A over a 32 kHz limit"},
	{0, 0, 0, 1000, 0, "M4A over the byte limit"},
	{0, 0, 0, 0, 1, "the cancel hook stops an M4A decode"},
};

static void
test_refusals(const char *wav)
{
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;
	char		m4a[256],
				path[256];
	sid_status	st;
	unsigned char junk[4096];

	snprintf(m4a, sizeof(m4a), "%s/aac.m4a", tmpdir);

	/* one limit tightened at a time; 0 keeps the default */
	for (size_t i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]); i++)
	{
		sid_audio_limits_default(&lim);
		if (limit_cases[i].channels)
			lim.max_channels = limit_cases[i].channels;
		if (limit_cases[i].seconds)
			lim.max_seconds = limit_cases[i].seconds;
		if (limit_cases[i].rate)
			lim.max_sample_rate = limit_cases[i].rate;
		if (limit_cases[i].bytes)
			lim.max_input_bytes = limit_cases[i].bytes;
		if (limit_cases[i].interrupt)
			lim.interrupted = interrupt_after_some;
		interrupt_calls = 0;
		memset(&err, 0, sizeof(err));
		expect(SID_ELIMIT, sid_audio_decode_file(m4a, 16000, &lim, NULL, &pcm, &err), &err,
			   limit_cases[i].what);
	}

	/* containers FFmpeg reads, codecs the allow-list does not give it */
	sid_audio_limits_default(&lim);
	snprintf(path, sizeof(path), "%s/flac.mkv", tmpdir);
	if (run("ffmpeg -nostdin -v error -y -i '%s' -c:a flac '%s'%s", wav, path, ""))
	{
		memset(&err, 0, sizeof(err));
		st = sid_audio_decode_file(path, 16000, &lim, NULL, &pcm, &err);
		expect(SID_EUNSUPPORTED, st, &err, "FLAC in Matroska is not on the list");
		CHECK(strstr(err.msg, "flac in matroska") != NULL, "the refusal names codec and container");
	}
	snprintf(path, sizeof(path), "%s/mp3.mp4", tmpdir);
	if (run("ffmpeg -nostdin -v error -y -i '%s' -c:a libmp3lame '%s'%s", wav, path, ""))
	{
		memset(&err, 0, sizeof(err));
		st = sid_audio_decode_file(path, 16000, &lim, NULL, &pcm, &err);
		expect(SID_EUNSUPPORTED, st, &err, "MP3 in MP4 is not on the list");
		CHECK(strstr(err.msg, "mp3 in mp4") != NULL, "the refusal names codec and container");
	}
	snprintf(path, sizeof(path), "%s/video.mp4", tmpdir);
	if (run("ffmpeg -nostdin -v error -y -f lavfi -i color=c=black:s=64x64:d=1 -c:v mpeg4 '%s'%s%s",
			path, "", ""))
	{
		memset(&err, 0, sizeof(err));
		st = sid_audio_decode_file(path, 16000, &lim, NULL, &pcm, &err);
		expect(SID_EFORMAT, st, &err, "an MP4 without audio");
	}
	/* found by fuzz_decode_ffmpeg: libsndfile resynced past it and leaked in libvorbis */
	memset(&err, 0, sizeof(err));
	st = sid_audio_decode_file("test/fuzz/seeds/decode_ffmpeg/found_ogg_junk_before_first_page",
							   16000, &lim, NULL, &pcm, &err);
	CHECK(st == SID_EFORMAT && strstr(err.msg, "audio input is malformed") != NULL,
		  "an Ogg input with junk before its first page goes to FFmpeg and is refused: %s", err.msg);
	/* garbage behind each magic the router knows */
	for (int k = 0; k < 3; k++)
	{
		static const char *names[] = {"MP4", "Matroska", "ASF"};
		static const unsigned char asf[16] = {0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11,
		0xa6, 0xd9, 0x00, 0xaa, 0x00, 0x62, 0xce, 0x6c};

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char) (i * 2654435761u >> 13);
		if (k == 0)
			memcpy(junk + 4, "ftypM4A ", 8);
		else if (k == 1)
			memcpy(junk, "\x1a\x45\xdf\xa3", 4);
		else
			memcpy(junk, asf, 16);
		memset(&err, 0, sizeof(err));
		st = sid_audio_decode_memory(junk, sizeof(junk), 16000, &lim, NULL, &pcm, &err);
		CHECK((st == SID_EFORMAT || st == SID_EUNSUPPORTED) && strstr(err.msg, "FFmpeg") == NULL,
			  "4 KB of noise behind the %s magic is refused: %s",
			  names[k], err.msg);
	}
}

int
main(void)
{
	char		wav[256];
	sid_model  *model;
	sid_embedder *e;
	sid_error	err;

	if (system("command -v ffmpeg >/dev/null 2>&1") != 0 || access(TRACK, R_OK) != 0 ||
		access(MODEL, R_OK) != 0)
	{
		tap_skip("needs Debian's ffmpeg, wesnoth-1.16-music and %s", MODEL);
		return tap_done();
	}
	if (mkdtemp(tmpdir) == NULL)
		return 2;
	model = sid_model_load(MODEL, &err);
	e = model != NULL ? sid_embedder_create(model, 0, 32, &err) : NULL;
	CHECK(e != NULL, "the shipped model loads");
	snprintf(wav, sizeof(wav), "%s/ref.wav", tmpdir);
	CHECK(run("ffmpeg -nostdin -v error -y -ss 30 -t %s -i '%s' -ar 44100 -ac 2 -c:a pcm_s16le '%s'",
			  "20", TRACK, wav), "20 s of a Wesnoth track as a 16-bit WAV");
	if (e != NULL)
		test_formats(e, wav);
	test_both_vorbis_decoders();
	test_refusals(wav);
	sid_embedder_free(e);
	sid_model_free(model);
	{
		char		cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return tap_done();
}
