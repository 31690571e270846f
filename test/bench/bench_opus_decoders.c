/*
 * bench_opus_decoders.c - libsndfile (libopus) against FFmpeg (its opus
 * decoder) on the same Ogg Opus bytes: decode + mixdown at the file's own
 * rate, CPU time of this thread, the two decoders taking turns file by file,
 * best of REPEATS.
 *
 *   make bench && build/bench/bench_opus_decoders FILE.opus...
 *   (e.g. the Ogg Opus tracks of warzone2100-music)
 *
 * Works for any input both decoders accept (Ogg Vorbis too); a file one of
 * them refuses is named and left out of both totals.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/sid_bytes.h"
#include "core/sid_clock.h"
#include "audio/sid_audio.h"

#define REPEATS 2

static const struct
{
	const char *name;
	sid_audio_decoder decoder;
}			decoders[2] = {
	{"libsndfile", SID_AUDIO_DECODER_SNDFILE},
	{"FFmpeg", SID_AUDIO_DECODER_FFMPEG},
};

/* best CPU seconds of REPEATS decodes, or a negative number if refused */
static double
decode_cpu(const unsigned char *bytes, size_t len, int32_t rate, int d, int64_t *samples,
		   sid_error *err)
{
	sid_audio_limits lim;
	double		best = INFINITY;

	sid_audio_limits_default(&lim);
	lim.decoder = decoders[d].decoder;
	for (int r = 0; r < REPEATS; r++)
	{
		sid_pcm		pcm;
		double		t0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);

		if (sid_audio_decode_memory(bytes, len, rate, &lim, NULL, &pcm, err) != SID_OK)
			return -1;
		best = fmin(best, sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - t0);
		*samples = pcm.n_samples;
		sid_pcm_free(&pcm);
	}
	return best;
}

int
main(int argc, char **argv)
{
	double		total[2] = {0, 0},
				audio = 0;
	int			used = 0;

	if (argc < 2)
	{
		fprintf(stderr, "usage: bench_opus_decoders FILE...\n");
		return 2;
	}
	printf("%-28s %9s %12s %12s %12s %12s\n", "file", "audio s", "sndfile s", "FFmpeg s",
		   "sndfile smp", "FFmpeg smp");
	for (int i = 1; i < argc; i++)
	{
		size_t		len;
		unsigned char *bytes = sid_read_file(argv[i], SIZE_MAX, &len, NULL);
		sid_audio_limits lim;
		sid_audio_info info;
		sid_error	err;
		double		t[2];
		int64_t		n[2] = {0, 0};
		const char *base = argv[i];
		int			refused = 0;

		for (const char *p = argv[i]; *p; p++)
			if (*p == '/')
				base = p + 1;
		sid_audio_limits_default(&lim);
		lim.decoder = SID_AUDIO_DECODER_FFMPEG;
		if (bytes == NULL || sid_audio_probe_memory(bytes, len, &lim, &info, &err) != SID_OK)
		{
			printf("%-28s unreadable: %s\n", base, bytes ? err.msg : "cannot read");
			free(bytes);
			continue;
		}
		for (int d = 0; d < 2 && !refused; d++)
			if ((t[d] = decode_cpu(bytes, len, info.sample_rate, d, &n[d], &err)) < 0)
			{
				printf("%-28s %s refuses it: %s\n", base, decoders[d].name, err.msg);
				refused = 1;
			}
		free(bytes);
		if (refused)
			continue;
		printf("%-28s %9.1f %12.3f %12.3f %12lld %12lld\n", base, info.duration_seconds, t[0], t[1],
			   (long long) n[0], (long long) n[1]);
		total[0] += t[0];
		total[1] += t[1];
		audio += info.duration_seconds;
		used++;
	}
	if (used == 0)
		return 1;
	printf("%d files, %.1f s of audio; decode + mixdown, CPU s of this thread, best of %d:\n",
		   used, audio, REPEATS);
	for (int d = 0; d < 2; d++)
		printf("  %-10s %8.3f s  %6.0fx real time\n", decoders[d].name, total[d], audio / total[d]);
	printf("  FFmpeg / libsndfile speed: %.2fx\n", total[0] / total[1]);
	return 0;
}
