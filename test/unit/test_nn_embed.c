/*
 * test_nn_embed.c - PCM to fingerprints: window count and start times, and
 * the threaded path giving exactly the single-thread result.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_testutil.h"
#include "model/sid_embed.h"
#include "tap.h"

int
main(void)
{
	sid_encoder_config cfg;
	sid_feature_config f;
	sid_error	err;
	sid_model  *m;
	sid_embedder *es[3];
	sid_embed_result one,
				three;
	int64_t		n = 16000 * 10 + 1234;	/* 10.08 s */
	float	   *pcm = malloc(sizeof(float) * n);
	int			times_ok = 1;

	sid_nn_set_threads(1);
	sid_encoder_default_config(&cfg);
	sid_features_default(&f);
	m = sid_model_new_untrained("t", &cfg, &f, 9, &err);
	for (int64_t i = 0; i < n; i++)
		pcm[i] = 0.3f * sinf(0.07f * i + 0.001f * i * (i % 977 == 0)) + 0.05f * test_normal();
	for (int i = 0; i < 3; i++)
		es[i] = sid_embedder_create(m, 0.0, i == 0 ? 8 : 5, &err);
	CHECK(es[0] && es[1] && es[2], "three embedders of one model");

	CHECK(sid_embed_pcm(es[0], SID_DEVICE_CPU, pcm, n, &one, &err) == SID_OK, "single-thread embedding");
	/* 1 s windows every 0.5 s until the last sample is covered: starts 0 .. 9.5 */
	CHECK(one.n_segments == 20 && one.dim == 128, "10.08 s gives 20 windows of 128 dims (%lld)",
		  (long long) one.n_segments);
	for (int64_t s = 0; s < one.n_segments; s++)
		times_ok &= fabs(one.t_start[s] - 0.5 * s) < 1e-9;
	CHECK(times_ok, "window s starts at exactly 0.5 s x s");

	/* three threads: batches of 8 and 5 do not divide the shares evenly */
	CHECK(sid_embed_pcm_parallel(es, 3, SID_DEVICE_CPU, pcm, n, &three, &err) == SID_OK,
		  "three-thread embedding");
	CHECK(three.n_segments == one.n_segments &&
		  memcmp(three.t_start, one.t_start, sizeof(double) * one.n_segments) == 0,
		  "same windows and start times on three threads");
	{
		double		maxd = 0;

		for (int64_t i = 0; i < one.n_segments * one.dim; i++)
			maxd = fmax(maxd, fabs(three.fp[i] - one.fp[i]));
		CHECK(maxd < 1e-6, "same fingerprints on three threads (max diff %.2g)", maxd);
	}
	CHECK(sid_embed_pcm_parallel(es, 0, SID_DEVICE_CPU, pcm, n, &three, &err) == SID_EINVAL,
		  "zero threads is refused: %s", err.msg);
	sid_embed_result_free(&one);
	sid_embed_result_free(&three);
	CHECK(sid_embed_pcm(es[0], SID_DEVICE_CPU, pcm, 0, &one, &err) == SID_OK && one.n_segments == 0,
		  "empty PCM gives no windows");

	for (int i = 0; i < 3; i++)
		sid_embedder_free(es[i]);
	sid_model_free(m);
	free(pcm);
	return tap_done();
}
