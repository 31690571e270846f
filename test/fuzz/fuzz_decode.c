/*
 * fuzz_decode.c - libFuzzer target: arbitrary bytes through probe, decode,
 * mixdown, resampling and log-mel segments.
 *
 * Every input must end in SID_OK or a negative sid_status with a message;
 * ASan/UBSan/LeakSanitizer flag anything else.  Limits are tighter than the
 * defaults so one input cannot take seconds (duration 30 s, 1 MiB, 8 channels).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_decode_input.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libvorbis (through libsndfile's Ogg Vorbis open path) leaks its
 * vorbis_info on malformed stream headers: an upstream bug (docs/audio.md).
 * audio/sid_ogg.c refuses cut or checksum-damaged header pages before the
 * decoder sees them; headers with a right checksum and a wrong Vorbis setup
 * can still leak, so allocations made inside libvorbis stay excused.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libvorbis.so\n";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decode_input(data, size);
}
