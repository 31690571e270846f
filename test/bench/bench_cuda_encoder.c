/*
 * bench_cuda_encoder.c - encoder forward throughput, GPU against one CPU core,
 * in the same run.
 *
 *   make bench && ./build/bench/bench_cuda_encoder [windows] [repeats]
 *
 * Default model, random weights (speed does not depend on them), random
 * dB-like windows.  The GPU is timed after one warm-up call (context
 * creation, weight upload, kernel loading), each timed call including the
 * host->device copy of the windows and the copy back of the fingerprints.
 * Without a usable GPU only the CPU figure is printed, with the reason.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "core/sid_clock.h"
#include "core/sid_rng.h"
#include "nn/sid_device.h"
#include "nn/sid_encoder.h"

/* windows per second over `repeats` forwards of B windows on `device` */
static double
rate(sid_encoder *enc, sid_encoder_acts *a, sid_device_kind device, const float *in, int B,
	 int repeats, float *out, sid_error *err)
{
	double		t0 = sid_clock_seconds(CLOCK_MONOTONIC);

	for (int r = 0; r < repeats; r++)
		if (sid_encoder_forward(enc, device, a, in, B, out, NULL, err) != SID_OK)
			return -1;
	return (double) B * repeats / (sid_clock_seconds(CLOCK_MONOTONIC) - t0);
}

int
main(int argc, char **argv)
{
	int			B = argc > 1 ? atoi(argv[1]) : 256;
	int			repeats = argc > 2 ? atoi(argv[2]) : 5;
	sid_encoder_config cfg;
	sid_encoder *enc;
	sid_encoder_acts a;
	sid_error	err = {0};
	sid_rng		data_rng;
	char		why[256];
	size_t		n;
	float	   *in,
			   *out;
	double		cpu,
				gpu;

	if (B < 1 || repeats < 1)
	{
		fprintf(stderr, "usage: %s [windows >= 1] [repeats >= 1]\n", argv[0]);
		return 2;
	}
	sid_encoder_default_config(&cfg);
	if ((enc = sid_encoder_create(&cfg, &err)) == NULL ||
		sid_encoder_acts_alloc(&a, &cfg, B, 0, &err) != SID_OK)
	{
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	sid_encoder_init_random(enc, 1);
	n = (size_t) B * cfg.n_frames * cfg.n_mels;
	in = malloc(sizeof(float) * n);
	out = malloc(sizeof(float) * B * cfg.embed_dim);
	sid_rng_init(&data_rng, 1, 0);
	for (size_t i = 0; i < n; i++)
		in[i] = sid_rng_range(&data_rng, -80.0f, 0.0f);

	sid_nn_set_threads(1);
	cpu = rate(enc, &a, SID_DEVICE_CPU, in, B, repeats, out, &err);
	printf("encoder forward, default model, %d windows x %d repeats\n", B, repeats);
	printf("cpu (1 OpenBLAS thread): %.1f windows/s\n", cpu);
	if (sid_cuda_device_count(why, sizeof(why)) <= 0)
		printf("cuda: not run: %s\n", why);
	else if (rate(enc, &a, SID_DEVICE_CUDA, in, B, 1, out, &err) < 0 ||
			 (gpu = rate(enc, &a, SID_DEVICE_CUDA, in, B, repeats, out, &err)) < 0)
		printf("cuda: failed: %s\n", err.msg);
	else
		printf("cuda (%s): %.1f windows/s, %.2f x the CPU core\n", why, gpu, gpu / cpu);
	sid_encoder_acts_free(&a);
	sid_encoder_free(enc);
	free(in);
	free(out);
	return 0;
}
