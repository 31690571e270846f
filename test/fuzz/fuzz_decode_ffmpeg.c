/*
 * fuzz_decode_ffmpeg.c - libFuzzer target for the FFmpeg decoder: arbitrary
 * bytes that start like a container the allow-list gives FFmpeg (MP4,
 * Matroska/WebM, ASF, Ogg) through probe, decode, mixdown, resampling and
 * log-mel segments; other inputs are fuzz_decode's.
 *
 * Found by this target (kept as a seed, found_*): an Ogg input with junk
 * before its first page went to libsndfile, which resynced, opened the
 * Vorbis stream and leaked libvorbis's vorbis_info; every Ogg input now goes
 * to FFmpeg.
 *
 * Seeds (test/fuzz/seeds/decode_ffmpeg/) are one short file per allowed
 * container/codec pair, made with Debian's ffmpeg from a Wesnoth track.
 * Every input must end in SID_OK or a negative sid_status with a message;
 * the limits are fuzz_decode's (30 s, 1 MiB, 8 channels).  FFmpeg itself is
 * not instrumented: ASan catches its leaks and bad frees, not its reads.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "audio/sid_audio.h"
#include "audio/sid_mel.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
starts_like_ffmpeg_input(const uint8_t *d, size_t n)
{
	static const uint8_t asf[4] = {0x30, 0x26, 0xb2, 0x75};

	return (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) ||
		(n >= 4 && memcmp(d, "\x1a\x45\xdf\xa3", 4) == 0) ||
		(n >= 16 && memcmp(d, asf, 4) == 0) ||
		(n >= 27 && memcmp(d, "OggS", 4) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sid_mel *mel;
	sid_audio_limits lim;
	sid_audio_info info;
	sid_segments segs;
	sid_error	err;
	sid_status	st;

	if (!starts_like_ffmpeg_input(data, size))
		return -1;				/* not kept in the corpus */
	if (mel == NULL)
	{
		sid_feature_config cfg;

		sid_features_default(&cfg);
		if ((mel = sid_mel_create(&cfg, &err)) == NULL)
			__builtin_trap();
	}
	sid_audio_limits_default(&lim);
	lim.max_seconds = 30.0;
	lim.max_input_bytes = 1 << 20;
	lim.max_channels = 8;

	memset(&err, 0, sizeof(err));
	st = sid_audio_probe_memory(data, size, &lim, &info, &err);
	if (st != SID_OK && (st != err.code || err.msg[0] == '\0'))
		__builtin_trap();		/* an error must come with its code and a message */

	memset(&err, 0, sizeof(err));
	st = sid_segments_from_memory(mel, data, size, &lim, &info, &segs, &err);
	if (st == SID_OK)
	{
		int64_t		n = segs.n_segments * segs.frames_per_segment * segs.n_mels;

		/* features are finite and never below the floor */
		for (int64_t i = 0; i < n; i++)
			if (!(segs.mel[i] >= SID_MEL_DB_FLOOR) || segs.mel[i] > 1e30f)
				__builtin_trap();
		if (segs.n_segments < 1 || info.channels < 1 || info.sample_rate < SID_AUDIO_MIN_SAMPLE_RATE)
			__builtin_trap();
	}
	else if (st != err.code || err.msg[0] == '\0' || segs.mel != NULL)
		__builtin_trap();
	sid_segments_free(&segs);
	return 0;
}
