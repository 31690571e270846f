/*
 * bench_pairs.c - how fast the trainer's pairs are made (sid_pair_batch),
 * so the data side can be compared with the training step it feeds: batches
 * of 256 pairs from the first tracks of the committed manifest's train split
 * (decoded by the corpus loader), with the default augmentation and with
 * augmentation off (same run, ratio), on 1 and 2 worker threads; then the
 * sample recipe (sid_pair_source_set_sample, rubberband on the fly) at the
 * fp window and at the paper's 4.08 s / hop 512 window, against the fp
 * recipe at the same window.
 *
 *   make bench && SAMPLEID_DATA=/var/lib/sampleid-corpus \
 *       build/bench/bench_pairs [manifest] [noise manifest] [tracks] [batches] [bank dir]
 *
 * With a bank directory (`sampleid bank --max-tracks` of at least as many
 * tracks), the sample recipe is also timed fed from the banks.
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

/*
 * The sample recipe's CPU per batch against the fp recipe's at the same
 * window (fp_cpu, or measured here when negative).
 */
static void
sample_recipe(const sid_track_cache *cache, const sid_noise_bank *bank,
			  const sid_feature_config *fc, int batches, int pairs, double fp_cpu,
			  const char *bank_dir)
{
	sid_error	err;
	sid_pair_source *fp = sid_pair_source_create(cache, bank, fc, NULL, &err);
	sid_pair_source *sample = sid_pair_source_create(cache, bank, fc, NULL, &err);
	sid_pair_source *fixed = sid_pair_source_create(cache, bank, fc, NULL, &err);
	sid_music_config as_is;
	float	   *windows;
	double		cpu,
				cpu_fixed;

	/* without the transform: what a step fed from `sampleid bank` costs */
	sid_music_config_default(&as_is, (float) fc->sample_rate, 16000);
	as_is.p_transform = 0;
	if (!fp || !sample || !fixed ||
		sid_pair_source_set_sample(sample, NULL, NULL, 1, NULL, &err) != SID_OK ||
		sid_pair_source_set_sample(fixed, &as_is, NULL, 1, NULL, &err) != SID_OK)
	{
		fprintf(stderr, "bench_pairs: %s\n", err.msg);
		exit(1);
	}
	windows = malloc((size_t) 2 * pairs * sid_pair_window_floats(fp) * sizeof(float));
	if (fp_cpu < 0)
		time_batches(fp, 1, batches, pairs, windows, &fp_cpu);
	time_batches(sample, 1, batches, pairs, windows, &cpu);
	time_batches(fixed, 1, batches, pairs, windows, &cpu_fixed);
	printf("window %.2f s, hop %d: sample recipe CPU %.3f s/batch, without the transform %.3f, "
		   "fp recipe %.3f: %.2fx and %.2fx fp\n", fc->segment_seconds, fc->hop_length, cpu,
		   cpu_fixed, fp_cpu, cpu / fp_cpu, cpu_fixed / fp_cpu);
	if (bank_dir)
	{
		sid_pair_source *banked = sid_pair_source_create(cache, bank, fc, NULL, &err);
		double		cpu_banked;

		if (!banked || sid_pair_source_set_sample(banked, NULL, NULL, 1, NULL, &err) != SID_OK ||
			sid_pair_source_set_bank(banked, bank_dir, &err) != SID_OK)
		{
			fprintf(stderr, "bench_pairs: %s\n", err.msg);
			exit(1);
		}
		time_batches(banked, 1, batches, pairs, windows, &cpu_banked);
		printf("window %.2f s, hop %d: sample recipe fed from the banks CPU %.3f s/batch: %.2fx fp, "
			   "%.3fx on the fly\n", fc->segment_seconds, fc->hop_length, cpu_banked,
			   cpu_banked / fp_cpu, cpu_banked / cpu);
		sid_pair_source_free(banked);
	}
	free(windows);
	sid_pair_source_free(fixed);
	sid_pair_source_free(fp);
	sid_pair_source_free(sample);
}

int
main(int argc, char **argv)
{
	const char *manifest_path = argc > 1 ? argv[1] : "data/manifest.tsv";
	const char *noise_path = argc > 2 ? argv[2] : "data/noise.tsv";
	int			tracks = argc > 3 ? atoi(argv[3]) : 8;
	int			batches = argc > 4 ? atoi(argv[4]) : 5;
	const char *bank_dir = argc > 5 ? argv[5] : NULL;
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
	sample_recipe(&cache, &bank.bank, &fc, batches, pairs, cpu_aug1, bank_dir);
	fc.segment_seconds = 4.08f;
	fc.hop_length = 512;
	fc.segment_hop_seconds = 0.512f;
	sample_recipe(&cache, &bank.bank, &fc, batches, pairs, -1, bank_dir);
	free(windows);
	sid_pair_source_free(src);
	sid_pair_source_free(plain);
	sid_track_cache_free(&cache);
	sid_noise_store_free(&bank);
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	return 0;
}
