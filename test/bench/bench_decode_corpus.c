/*
 * bench_decode_corpus.c - decode every file given (decode + mixdown + resample
 * to 16 kHz + log-mel segments), report any that fail, and the throughput.
 *
 *   make bench && build/bench/bench_decode_corpus DIR/\*.ogg  (e.g. wesnoth-1.16-music)
 *
 * A check of the front end on real files (no false "truncated" or "corrupt"),
 * and a whole-corpus figure to set beside bench_frontend's.
 */
#include <stdio.h>

#include "core/sid_clock.h"
#include "audio/sid_audio.h"
#include "audio/sid_mel.h"

int
main(int argc, char **argv)
{
	sid_feature_config cfg;
	sid_audio_limits lim;
	sid_error	err;
	sid_mel    *mel;
	double		audio = 0.0,
				cpu = 0.0;
	int64_t		segments = 0;
	int			failed = 0;

	sid_features_default(&cfg);
	sid_audio_limits_default(&lim);
	if ((mel = sid_mel_create(&cfg, &err)) == NULL)
	{
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	for (int i = 1; i < argc; i++)
	{
		sid_audio_info info;
		sid_segments segs;
		double		t0 = sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID);
		sid_status	st = sid_segments_from_file(mel, argv[i], &lim, &info, &segs, &err);

		cpu += sid_clock_seconds(CLOCK_THREAD_CPUTIME_ID) - t0;
		if (st != SID_OK)
		{
			printf("FAILED %s: %s\n", argv[i], err.msg);
			failed++;
			continue;
		}
		audio += info.duration_seconds;
		segments += segs.n_segments;
		printf("ok %s: %s/%s %d Hz %d ch %.2f s, %lld segments\n", argv[i], info.format,
			   info.encoding, info.sample_rate, info.channels, info.duration_seconds,
			   (long long) segs.n_segments);
		sid_segments_free(&segs);
	}
	printf("%d files, %d failed; %.1f s of audio (%.2f h), %lld segments, %.2f CPU s: %.0fx real time\n",
		   argc - 1, failed, audio, audio / 3600, (long long) segments, cpu, audio / cpu);
	sid_mel_free(mel);
	return failed ? 1 : 0;
}
