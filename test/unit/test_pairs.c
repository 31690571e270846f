/*
 * test_pairs.c - training pairs from a corpus the test writes itself: the
 * anchor window is the reference database's window of the track, the
 * positive is within the offset and analysed on its own, batches are
 * reproducible from (seed, step) whatever the number of threads.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/sid_audio.h"
#include "audio/sid_mel.h"
#include "train/sid_pairs.h"
#include "synth_corpus.h"
#include "tap.h"

#define TRACKS 5
#define SECONDS 6
#define RATE 22050
#define P 8

/* The track as the pair source holds it: decoded, 16-bit. */
static float *
track_as_held(const char *path, int64_t *n)
{
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;

	sid_audio_limits_default(&lim);
	if (sid_audio_decode_file(path, 16000, &lim, NULL, &pcm, &err) != SID_OK)
		return NULL;
	for (int64_t i = 0; i < pcm.n_samples; i++)
	{
		float		v = fmaxf(-1.0f, fminf(1.0f, pcm.samples[i]));

		pcm.samples[i] = (float) lrintf(v * 32767.0f) / 32767.0f;
	}
	*n = pcm.n_samples;
	return pcm.samples;
}

static double
max_diff(const float *a, const float *b, int64_t n)
{
	double		m = 0;

	for (int64_t i = 0; i < n; i++)
		m = fmax(m, fabs((double) a[i] - b[i]));
	return m;
}

int
main(void)
{
	char		dir[] = "/tmp/test_pairs.XXXXXX";
	char		path[512];
	sid_manifest music,
				noise;
	sid_feature_config fc;
	sid_pair_source_config pc;
	sid_augment_config quiet;
	sid_pair_source *src,
			   *clean;
	sid_pair_worker *w[2],
			   *wc;
	sid_pair_info info[P];
	sid_error	err;
	int64_t		wf;
	float	   *b1,
			   *b2,
			   *b3;
	int			ok = 1;

	if (!mkdtemp(dir))
		return 1;
	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	ok = synth_corpus_write(dir, TRACKS, SECONDS, RATE, 300, 4, "train", "reference", 2, &music, &noise) == 0;
	CHECK(ok, "corpus written");

	sid_features_default(&fc);
	sid_pair_source_config_default(&pc);
	pc.data_dir = dir;
	src = sid_pair_source_open(&music, &noise, &fc, NULL, &pc, &err);
	CHECK(src != NULL, "source: opened (%s)", src ? "ok" : err.msg);
	CHECK(sid_pair_source_tracks(src) == 4 && fabs(sid_pair_source_seconds(src) - 24.0) < 0.01,
		  "source: the 4 train tracks, %.2f s", sid_pair_source_seconds(src));
	wf = sid_pair_window_floats(src);
	CHECK(wf == 63 * 64, "source: windows of 63 frames x 64 mels");
	w[0] = sid_pair_worker_create(src, &err);
	w[1] = sid_pair_worker_create(src, &err);
	b1 = malloc(2 * P * wf * sizeof(float));
	b2 = malloc(2 * P * wf * sizeof(float));
	b3 = malloc(2 * P * wf * sizeof(float));

	/* reproducible, thread-independent */
	CHECK(sid_pair_batch(src, w, 1, 3, 7, P, b1, &err) == SID_OK, "batch: step 7 made");
	sid_pair_batch(src, w, 2, 3, 7, P, b2, &err);
	CHECK(memcmp(b1, b2, 2 * P * wf * sizeof(float)) == 0, "batch: two threads give the bit-identical batch");
	sid_pair_batch(src, w, 1, 3, 8, P, b3, &err);
	CHECK(memcmp(b1, b3, 2 * P * wf * sizeof(float)) != 0, "batch: the next step differs");
	memset(b2, 0, 2 * P * wf * sizeof(float));
	sid_pair_make(src, w[1], 3, 7, 5, 3, P, b2, NULL, &err);
	CHECK(memcmp(b1 + 5 * wf, b2 + 5 * wf, 3 * wf * sizeof(float)) == 0 &&
		  memcmp(b1 + (P + 5) * wf, b2 + (P + 5) * wf, 3 * wf * sizeof(float)) == 0,
		  "batch: pairs 5..7 alone are the batch's pairs 5..7");

	/* anchors are the track's own windows (context included); positives lie
	 * within the offset */
	sid_pair_make(src, w[0], 3, 7, 0, P, P, b2, info, &err);
	{
		sid_feature_config any = fc;
		sid_mel    *m;
		float	   *expect = malloc(wf * sizeof(float));
		double		worst = 0;
		int			in_range = 1;

		any.segment_hop_seconds = 1.0f / 16000;
		m = sid_mel_create(&any, &err);
		for (int i = 0; i < P; i++)
		{
			int64_t		n = 0;
			float	   *x;

			snprintf(path, sizeof(path), "%s/t%d.wav", dir, info[i].track);
			x = track_as_held(path, &n);
			sid_mel_segments(m, x, n, info[i].anchor_start, 1, expect, NULL, &err);
			worst = fmax(worst, max_diff(expect, b1 + i * wf, wf));
			in_range &= llabs(info[i].positive_start - info[i].anchor_start) <= 4000 &&
				info[i].positive_start >= 0 && info[i].positive_start + 16000 <= n;
			free(x);
		}
		CHECK(worst < 1e-3, "anchor: equals the full-track window at its start (max %.2g dB)", worst);
		CHECK(in_range, "positive: within +-0.25 s of the anchor and inside the track");
		sid_mel_free(m);
		free(expect);
	}

	/* with augmentation off and no offset, the positive is the anchor's span
	 * analysed on its own: frames 2..60 (which see no audio outside the
	 * window) equal the anchor's, the edge frames do not */
	sid_augment_config_default(&quiet, 16000, 16000);
	quiet.max_offset_s = 0;
	quiet.p_noise = quiet.p_reverb = quiet.p_eq = 0;
	quiet.gain_min_db = quiet.gain_max_db = 0;
	clean = sid_pair_source_open(&music, &noise, &fc, &quiet, &pc, &err);
	wc = sid_pair_worker_create(clean, &err);
	sid_pair_make(clean, wc, 3, 7, 0, P, P, b3, info, &err);
	{
		double		inner = 0,
					edge = 0;

		for (int i = 0; i < P; i++)
		{
			const float *a = b3 + i * wf,
					   *p = b3 + (P + i) * wf;

			if (info[i].anchor_start == 0)
				continue;
			inner = fmax(inner, max_diff(a + 2 * 64, p + 2 * 64, 59 * 64));
			edge = fmax(edge, max_diff(a, p, 64));
		}
		CHECK(inner < 1e-3 && edge > 0.1,
			  "positive: unaugmented, the inner frames match the anchor (%.2g dB), the first does not (%.2g dB)",
			  inner, edge);
	}
	{
		int			counts[4] = {0};
		sid_pair_info one;

		for (int s = 0; s < 200; s++)
		{
			sid_pair_make(clean, wc, 11, s, 0, 1, 1, b3, &one, &err);
			counts[one.track]++;
		}
		CHECK(counts[0] > 25 && counts[1] > 25 && counts[2] > 25 && counts[3] > 25,
			  "tracks are drawn uniformly (%d %d %d %d of 200)", counts[0], counts[1], counts[2], counts[3]);
	}
	CHECK(sid_pair_make(src, w[0], 3, 7, 6, 4, P, b1, NULL, &err) == SID_EINVAL,
		  "pairs beyond the batch are refused");
	pc.split = "validation";
	CHECK(sid_pair_source_open(&music, &noise, &fc, NULL, &pc, &err) == NULL && strstr(err.msg, "validation"),
		  "a split without tracks is refused: %s", err.msg);

	sid_pair_worker_free(w[0]);
	sid_pair_worker_free(w[1]);
	sid_pair_worker_free(wc);
	sid_pair_source_free(src);
	sid_pair_source_free(clean);
	free(b1);
	free(b2);
	free(b3);
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	synth_corpus_remove(dir, TRACKS, 2);
	return tap_done();
}
