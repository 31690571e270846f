/*
 * bench_pairs.c - how fast the trainer's pairs are made (sid_pair_batch),
 * so the data side can be compared with the training step it feeds: batches
 * of 256 pairs from the first tracks of the committed manifest's train split
 * (decoded by the corpus loader), with the default augmentation and with
 * augmentation off (same run, ratio), on 1 and 2 worker threads.
 *
 *   make bench && SAMPLEID_DATA=/var/lib/sampleid-corpus \
 *       build/bench/bench_pairs [manifest] [noise manifest] [tracks] [batches]
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/sid_clock.h"
#include "corpus/sid_corpus.h"
#include "train/sid_pairs.h"

/*
 * Wall seconds per batch of `pairs` on n workers; *cpu receives the process
 * CPU seconds per batch (on a shared, overloaded machine the wall clock
 * counts time spent waiting for a core, CPU time does not).
 */
static double
time_batches(const sid_pair_source *src, int n, int batches, int pairs, float *windows,
			 double *cpu)
{
	sid_pair_worker *w[2];
	sid_error	err;
	double		t0,
				c0,
				t;

	for (int k = 0; k < n; k++)
		w[k] = sid_pair_worker_create(src, &err);
	sid_pair_batch(src, w, n, 1, 0, pairs, windows, &err);	/* warm-up */
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	c0 = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (int b = 1; b <= batches; b++)
		if (sid_pair_batch(src, w, n, 1, b, pairs, windows, &err) != SID_OK)
		{
			fprintf(stderr, "bench_pairs: %s\n", err.msg);
			exit(1);
		}
	t = (sid_clock_seconds(CLOCK_MONOTONIC) - t0) / batches;
	*cpu = (sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / batches;
	for (int k = 0; k < n; k++)
		sid_pair_worker_free(w[k]);
	return t;
}

int
main(int argc, char **argv)
{
	const char *manifest_path = argc > 1 ? argv[1] : "data/manifest.tsv";
	const char *noise_path = argc > 2 ? argv[2] : "data/noise.tsv";
	int			tracks = argc > 3 ? atoi(argv[3]) : 8;
	int			batches = argc > 4 ? atoi(argv[4]) : 5;
	const char *data = getenv("SAMPLEID_DATA");
	const int	pairs = 256;
	sid_manifest music,
				noise;
	const char *data_dir = data ? data : "/var/lib/sampleid-corpus";
	sid_feature_config fc;
	sid_track_cache cache;
	sid_noise_store bank;
	sid_augment_config off;
	sid_pair_source *src,
			   *plain;
	sid_error	err;
	float	   *windows;
	double		aug1,
				aug2,
				off1,
				cpu_aug1,
				cpu_aug2,
				cpu_off1;

	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	if (sid_manifest_read(manifest_path, &music, &err) != SID_OK ||
		sid_manifest_read(noise_path, &noise, &err) != SID_OK)
	{
		fprintf(stderr, "bench_pairs: %s\n", err.msg);
		return 1;
	}
	sid_features_default(&fc);
	if (sid_track_cache_load(&cache, &music, "train", tracks, data_dir, "", fc.sample_rate, 2,
							 &err) != SID_OK ||
		sid_noise_store_load(&bank, &noise, "train", data_dir, fc.sample_rate, &err) != SID_OK)
	{
		fprintf(stderr, "bench_pairs: %s\n", err.msg);
		return 1;
	}
	src = sid_pair_source_create(&cache, &bank.bank, &fc, NULL, &err);
	sid_augment_config_default(&off, 16000, 16000);
	off.p_noise = off.p_reverb = off.p_eq = 0;
	plain = src ? sid_pair_source_create(&cache, &bank.bank, &fc, &off, &err) : NULL;
	if (!src || !plain)
	{
		fprintf(stderr, "bench_pairs: %s\n", err.msg);
		return 1;
	}
	windows = malloc((size_t) 2 * pairs * sid_pair_window_floats(src) * sizeof(float));
	aug1 = time_batches(src, 1, batches, pairs, windows, &cpu_aug1);
	aug2 = time_batches(src, 2, batches, pairs, windows, &cpu_aug2);
	off1 = time_batches(plain, 1, batches, pairs, windows, &cpu_off1);
	printf("train tracks %d (%.2f h), %d batches of %d pairs each\n",
		   cache.n - cache.n_skipped, cache.total_samples / (3600.0 * fc.sample_rate), batches, pairs);
	printf("augmented, 1 worker:     wall %.3f s/batch (%.0f pairs/s), CPU %.3f s/batch (%.0f pairs per CPU-s)\n",
		   aug1, pairs / aug1, cpu_aug1, pairs / cpu_aug1);
	printf("augmented, 2 workers:    wall %.3f s/batch (%.0f pairs/s, %.2fx 1 worker), CPU %.3f s/batch\n",
		   aug2, pairs / aug2, aug1 / aug2, cpu_aug2);
	printf("not augmented, 1 worker: wall %.3f s/batch (%.0f pairs/s), CPU %.3f s/batch (%.0f pairs per CPU-s)\n",
		   off1, pairs / off1, cpu_off1, pairs / cpu_off1);
	printf("augmentation costs %.2fx CPU (same run)\n", cpu_aug1 / cpu_off1);
	free(windows);
	sid_pair_source_free(src);
	sid_pair_source_free(plain);
	sid_track_cache_free(&cache);
	sid_noise_store_free(&bank);
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	return 0;
}
