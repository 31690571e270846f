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
 * The checks and limits are fuzz_decode's (fuzz_decode_input.h).  FFmpeg is
 * not instrumented: ASan catches its leaks and bad frees, not its reads.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_decode_input.h"

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
	if (!starts_like_ffmpeg_input(data, size))
		return -1;				/* not kept in the corpus */
	return fuzz_decode_input(data, size);
}
