/*
 * bench_pairs.c - how fast training pairs are made (sid_pair_batch), so the
 * data side can be compared with the training step it feeds: batches of 256
 * pairs from the first tracks of the committed manifest's train split, with
 * the default augmentation and with augmentation off (same run, ratio), on 1
 * and 2 worker threads.
 *
 *   make bench && SAMPLEID_DATA=/var/lib/sampleid-corpus \
 *       build/bench/bench_pairs [manifest] [noise manifest] [tracks] [batches]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "train/sid_pairs.h"

static double
clock_seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

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
	t0 = clock_seconds(CLOCK_MONOTONIC);
	c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (int b = 1; b <= batches; b++)
		if (sid_pair_batch(src, w, n, 1, b, pairs, windows, &err) != SID_OK)
		{
			fprintf(stderr, "bench_pairs: %s\n", err.msg);
			exit(1);
		}
	t = (clock_seconds(CLOCK_MONOTONIC) - t0) / batches;
	*cpu = (clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / batches;
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
	sid_feature_config fc;
	sid_pair_source_config pc;
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
	sid_pair_source_config_default(&pc);
	pc.data_dir = data ? data : "/var/lib/sampleid-corpus";
	pc.max_tracks = tracks;
	src = sid_pair_source_open(&music, &noise, &fc, NULL, &pc, &err);
	sid_augment_config_default(&off, 16000, 16000);
	off.p_noise = off.p_reverb = off.p_eq = 0;
	plain = src ? sid_pair_source_open(&music, &noise, &fc, &off, &pc, &err) : NULL;
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
		   sid_pair_source_tracks(src), sid_pair_source_seconds(src) / 3600, batches, pairs);
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
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	return 0;
}
