/*
 * test_pairs.c - the trainer's pair generator (sid_pairs.h) over the corpus
 * loader, on a corpus the test writes itself: batches are reproducible from
 * (seed, step) whatever the number of threads; the anchor is the reference
 * database's window of the track at its start; the positive lies within the
 * offset and is analysed on its own; tracks are drawn in proportion to
 * their length; a track too short for a pair is refused by name; the sample
 * recipe's positives are a track under another, shifted or stretched, and
 * centred on the anchor.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/sid_mel.h"
#include "audio/sid_stretch.h"
#include "core/sid_pcm16.h"
#include "corpus/sid_bank.h"
#include "corpus/sid_corpus.h"
#include "train/sid_pairs.h"
#include "synth_corpus.h"
#include "tap.h"

#define TRACKS 5				/* t0..t3 train, t4 reference */
#define SECONDS 6
#define LONG_SECONDS 18			/* t5, train: three times as long */
#define RATE 22050
#define P 8
#define DRAWS 700

static double
mean_abs_diff(const float *a, const float *b, int64_t n)
{
	double		s = 0;

	for (int64_t i = 0; i < n; i++)
		s += fabs((double) a[i] - b[i]);
	return n ? s / n : 0;
}

static double
max_diff(const float *a, const float *b, int64_t n)
{
	double		m = 0;

	for (int64_t i = 0; i < n; i++)
		m = fmax(m, fabs((double) a[i] - b[i]));
	return m;
}

/* reproducible, thread-independent */
static void
test_batches(const sid_pair_source *src, sid_pair_worker **w, int64_t wf)
{
	float	   *b1 = malloc(2 * P * wf * sizeof(float)),
			   *b2 = malloc(2 * P * wf * sizeof(float)),
			   *b3 = malloc(2 * P * wf * sizeof(float));
	sid_error	err;

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
	CHECK(sid_pair_make(src, w[0], 3, 7, 6, 4, P, b1, NULL, &err) == SID_EINVAL,
		  "batch: pairs beyond the batch are refused");
	free(b1);
	free(b2);
	free(b3);
}

/*
 * Anchors are the track's own windows (context included), as a full-track
 * analysis with a window starting on any sample gives them; positives lie
 * within the offset and inside the track.
 */
static void
test_anchor_positive(const sid_pair_source *src, sid_pair_worker *w, const sid_track_cache *c,
					 const sid_feature_config *fc, int64_t wf)
{
	sid_feature_config any = *fc;
	sid_pair_info info[P];
	sid_error	err;
	sid_mel    *m;
	float	   *b = malloc(2 * P * wf * sizeof(float)),
			   *expect = malloc(wf * sizeof(float));
	double		worst = 0;
	int			in_range = 1;

	sid_pair_make(src, w, 3, 7, 0, P, P, b, info, &err);
	any.segment_hop_seconds = 1.0f / 16000;
	m = sid_mel_create(&any, &err);
	for (int i = 0; i < P; i++)
	{
		int64_t		n = c->len[info[i].track];
		float	   *x = malloc(n * sizeof(float));

		sid_pcm16_to_float(c->pcm[info[i].track], n, x);
		sid_mel_segments(m, x, n, info[i].anchor_start, 1, expect, NULL, &err);
		worst = fmax(worst, max_diff(expect, b + i * wf, wf));
		in_range &= llabs(info[i].positive_start - info[i].anchor_start) <= 4000 &&
			info[i].positive_start >= 0 && info[i].positive_start + 16000 <= n;
		free(x);
	}
	CHECK(worst < 1e-3, "anchor: equals the full-track window at its start (max %.2g dB)", worst);
	CHECK(in_range, "positive: within +-0.25 s of the anchor and inside the track");
	sid_mel_free(m);
	free(expect);
	free(b);
}

/*
 * With augmentation off and no offset, the positive is the anchor's span
 * analysed on its own: frames 2..60 (which see no audio outside the window)
 * equal the anchor's, the edge frames do not.  Over many steps the tracks
 * are drawn in proportion to their length: the 18 s track three times as
 * often as each 6 s one (a uniform draw would give each 1/5).
 */
static void
test_unaugmented(const sid_track_cache *c, const sid_noise_bank *bank, const sid_feature_config *fc,
				 int64_t wf)
{
	sid_augment_config quiet;
	sid_pair_source *clean;
	sid_pair_worker *wc;
	sid_pair_info info[P];
	sid_error	err;
	float	   *b = malloc(2 * P * wf * sizeof(float));
	double		inner = 0,
				edge = 0;
	int			counts[5] = {0};

	sid_augment_config_default(&quiet, 16000, 16000);
	quiet.max_offset_s = 0;
	quiet.p_noise = quiet.p_reverb = quiet.p_eq = 0;
	quiet.gain_min_db = quiet.gain_max_db = 0;
	clean = sid_pair_source_create(c, bank, fc, &quiet, &err);
	wc = sid_pair_worker_create(clean, &err);
	sid_pair_make(clean, wc, 3, 7, 0, P, P, b, info, &err);
	for (int i = 0; i < P; i++)
	{
		const float *a = b + i * wf,
				   *p = b + (P + i) * wf;

		inner = fmax(inner, max_diff(a + 2 * 64, p + 2 * 64, 59 * 64));
		edge = fmax(edge, max_diff(a, p, 64));
	}
	CHECK(inner < 1e-3 && edge > 0.1,
		  "positive: unaugmented, the inner frames match the anchor (%.2g dB), the first does not (%.2g dB)",
		  inner, edge);
	for (int s = 0; s < DRAWS; s++)
	{
		sid_pair_make(clean, wc, 11, s, 0, 1, 1, b, info, &err);
		counts[info[0].track]++;
	}
	/* expected 100 per 6 s track and 300 for the 18 s one; +-3 standard
	 * deviations (9.3 and 13.1) */
	CHECK(counts[0] >= 70 && counts[0] <= 130 && counts[1] >= 70 && counts[1] <= 130 &&
		  counts[2] >= 70 && counts[2] <= 130 && counts[3] >= 70 && counts[3] <= 130 &&
		  counts[4] >= 260 && counts[4] <= 340,
		  "tracks are drawn in proportion to their length (%d %d %d %d of %d for the 6 s tracks, %d for the 18 s one)",
		  counts[0], counts[1], counts[2], counts[3], DRAWS, counts[4]);
	sid_pair_worker_free(wc);
	sid_pair_source_free(clean);
	free(b);
}

/*
 * The sample recipe: reproducible over threads; every positive is a track's
 * span under another track, shifted or stretched within the ranges; with
 * the musical chain and the room off, the positive's inner frames are the
 * anchor's (the chain's window is centred on the anchor).
 */
static void
test_sample_recipe(const sid_track_cache *c, const sid_noise_bank *bank, const sid_feature_config *fc,
				   int64_t wf)
{
	sid_pair_source *src = sid_pair_source_create(c, bank, fc, NULL, NULL);
	sid_pair_worker *w[2] = {NULL, NULL};
	sid_pair_info info[P];
	sid_music_config plain;
	sid_augment_config quiet;
	sid_error	err;
	float	   *b1 = malloc(2 * P * wf * sizeof(float)),
			   *b2 = malloc(2 * P * wf * sizeof(float));
	double		inner = 0;
	int			ok = 1;

	CHECK(sid_pair_source_set_sample(src, NULL, NULL, 1.5f, NULL, &err) == SID_EINVAL,
		  "sample: p_track_overlay 1.5 refused: %s", err.msg);
	CHECK(sid_pair_source_set_sample(src, NULL, NULL, 0.5f, NULL, &err) == SID_OK, "sample: recipe set");
	w[0] = sid_pair_worker_create(src, &err);
	w[1] = sid_pair_worker_create(src, &err);
	CHECK(w[0] && w[1] && sid_pair_batch(src, w, 1, 5, 3, P, b1, &err) == SID_OK &&
		  sid_pair_batch(src, w, 2, 5, 3, P, b2, &err) == SID_OK &&
		  memcmp(b1, b2, 2 * P * wf * sizeof(float)) == 0,
		  "sample: two threads give the bit-identical batch (%s)", w[0] ? "ok" : err.msg);
	for (int s = 0; s < 4; s++)
	{
		sid_pair_make(src, w[0], 5, s, 0, P, P, b1, info, &err);
		for (int i = 0; i < P; i++)
		{
			const sid_music_plan *m = &info[i].music;

			ok &= m->overlay && info[i].overlay_track >= 0 && info[i].overlay_track != info[i].track &&
				m->ratio_db >= -10 && m->ratio_db <= 10 &&
				((m->transform == SID_MUSIC_PITCH && fabsf(m->semitones) <= 3) ||
				 (m->transform == SID_MUSIC_STRETCH && m->time_ratio >= 0.7f && m->time_ratio <= 1.5f));
		}
	}
	CHECK(ok, "sample: every positive has another track over it and a shift or a stretch in range");
	sid_pair_worker_free(w[0]);
	sid_pair_worker_free(w[1]);
	sid_pair_source_free(src);

	sid_music_config_default(&plain, 16000, 16000);
	plain.p_overlay = plain.p_transform = plain.p_eq = plain.p_compress = plain.p_distort = 0;
	sid_augment_config_default(&quiet, 16000, 16000);
	quiet.max_offset_s = 0;
	quiet.p_noise = quiet.p_reverb = quiet.p_eq = 0;
	quiet.gain_min_db = quiet.gain_max_db = 0;
	src = sid_pair_source_create(c, bank, fc, NULL, NULL);
	sid_pair_source_set_sample(src, &plain, NULL, 1, &quiet, &err);
	w[0] = sid_pair_worker_create(src, &err);
	sid_pair_make(src, w[0], 5, 3, 0, P, P, b1, info, &err);
	for (int i = 0; i < P; i++)
		inner = fmax(inner, max_diff(b1 + i * wf + 2 * 64, b1 + (P + i) * wf + 2 * 64, 59 * 64));
	CHECK(inner < 1e-3, "sample: with the chain off the positive is the anchor's span (%.2g dB)", inner);
	sid_pair_worker_free(w[0]);
	sid_pair_source_free(src);
	free(b1);
	free(b2);
}

/* Banks of every track of c in dir with variants v; a shortened track when cut. */
static int
write_banks(const sid_track_cache *c, const char *dir, const sid_bank_variant *v, int nv, int cut)
{
	sid_error	err;
	int			ok = 1;

	for (int32_t t = 0; t < c->n; t++)
	{
		char		file[600];
		int64_t		n = c->len[t] - (t == 1 ? cut : 0);
		float	   *x = malloc(n * sizeof(float));

		sid_pcm16_to_float(c->pcm[t], n, x);
		sid_bank_file_name(file, sizeof(file), dir, c->name[t], 16000);
		ok &= sid_bank_write_track(file, x, (size_t) n, 16000, v, nv, SID_STRETCH_FASTER, &err) == SID_OK;
		free(x);
	}
	return ok;
}

/*
 * Bank-fed sample pairs: reproducible over threads; every shift or stretch
 * is a bank variant; with the rest of the chain off, a stretched positive
 * is the stretched track around the anchor's centre (against a window cut
 * 50 ms off it); a stale or missing bank is refused by name.
 */
static void
test_bank_fed(const sid_track_cache *c, const sid_feature_config *fc, int64_t wf, const char *dir)
{
	const sid_bank_variant v[] = {{2, 1}, {-1, 1}, {0, 0.8f}, {0, 1.25f}};
	char		bank_dir[600];
	sid_music_config plain;
	sid_augment_config quiet;
	sid_pair_source *src;
	sid_pair_worker *w[2] = {NULL, NULL};
	sid_pair_info info[P];
	sid_error	err;
	float	   *b1 = malloc(2 * P * wf * sizeof(float)),
			   *b2 = malloc(2 * P * wf * sizeof(float)),
			   *expect = malloc(wf * sizeof(float));
	double		aligned = 0,
				shifted = INFINITY;
	int			in_bank = 1,
				n_stretch = 0;
	sid_mel    *mel = sid_mel_create(fc, &err);
	sid_status	rc;
	char		cmd[700];

	snprintf(bank_dir, sizeof(bank_dir), "%s/bank", dir);
	mkdir(bank_dir, 0755);
	CHECK(write_banks(c, bank_dir, v, 4, 0), "bank: written for the %d train tracks", c->n);
	sid_music_config_default(&plain, 16000, 16000);
	plain.p_overlay = plain.p_eq = plain.p_compress = plain.p_distort = 0;
	sid_augment_config_default(&quiet, 16000, 16000);
	quiet.max_offset_s = 0;
	quiet.p_noise = quiet.p_reverb = quiet.p_eq = 0;
	quiet.gain_min_db = quiet.gain_max_db = 0;
	src = sid_pair_source_create(c, NULL, fc, NULL, &err);
	sid_pair_source_set_sample(src, &plain, NULL, 1, &quiet, &err);
	rc = sid_pair_source_set_bank(src, bank_dir, &err);
	CHECK(rc == SID_OK, "bank: mapped (%s)", rc == SID_OK ? "ok" : err.msg);
	w[0] = sid_pair_worker_create(src, &err);
	w[1] = sid_pair_worker_create(src, &err);
	sid_pair_batch(src, w, 1, 5, 3, P, b1, &err);
	sid_pair_batch(src, w, 2, 5, 3, P, b2, &err);
	CHECK(memcmp(b1, b2, 2 * P * wf * sizeof(float)) == 0, "bank: two threads give the same batch");
	for (int s = 0; s < 3; s++)
	{
		sid_pair_make(src, w[0], 5, s, 0, P, P, b1, info, &err);
		for (int i = 0; i < P; i++)
		{
			const sid_music_plan *m = &info[i].music;
			int64_t		centre = info[i].anchor_start + 8000,
						from;
			float	   *y,
					   *x;
			size_t		ny;

			in_bank &= m->transform == SID_MUSIC_PITCH ? m->time_ratio == 1 && (m->semitones == 2 || m->semitones == -1) :
				m->semitones == 0 && (m->time_ratio == 0.8f || m->time_ratio == 1.25f);
			if (m->transform != SID_MUSIC_STRETCH || centre < 24000 || centre + 24000 > c->len[info[i].track])
				continue;
			/* the expected window: 3 s around the centre stretched alone */
			x = malloc(48000 * sizeof(float));
			sid_pcm16_to_float(c->pcm[info[i].track] + centre - 24000, 48000, x);
			sid_stretch(x, 48000, 16000, m->time_ratio, 0, SID_STRETCH_FASTER, &y, &ny, &err);
			from = llround(24000 * m->time_ratio) - 8000;
			sid_mel_segments(mel, y + from, 16000, 0, 1, expect, NULL, &err);
			aligned = fmax(aligned, mean_abs_diff(expect + 2 * 64, b1 + (P + i) * wf + 2 * 64, 59 * 64));
			sid_mel_segments(mel, y + from + 800, 16000, 0, 1, expect, NULL, &err);
			shifted = fmin(shifted, mean_abs_diff(expect + 2 * 64, b1 + (P + i) * wf + 2 * 64, 59 * 64));
			n_stretch++;
			free(y);
			free(x);
		}
	}
	CHECK(in_bank, "bank: every shift or stretch is one of the bank's variants");
	CHECK(n_stretch > 0 && shifted > 2 * aligned,
		  "bank: %d stretched positives are the stretched track at the anchor's centre "
		  "(mean |diff| at most %.2f dB; 50 ms off at least %.2f dB)", n_stretch, aligned, shifted);
	sid_pair_worker_free(w[0]);
	sid_pair_worker_free(w[1]);
	sid_pair_source_free(src);

	write_banks(c, bank_dir, v, 4, 4000);
	src = sid_pair_source_create(c, NULL, fc, NULL, &err);
	sid_pair_source_set_sample(src, &plain, NULL, 1, &quiet, &err);
	CHECK(sid_pair_source_set_bank(src, bank_dir, &err) == SID_EINVAL && strstr(err.msg, "stale") &&
		  strstr(err.msg, c->name[1]), "bank: a stale bank is refused by name: %s", err.msg);
	CHECK(sid_pair_source_set_bank(src, "/nonexistent", &err) == SID_EIO && strstr(err.msg, "/nonexistent"),
		  "bank: a missing bank is refused by name: %s", err.msg);
	sid_pair_source_free(src);
	sid_mel_free(mel);
	free(b1);
	free(b2);
	free(expect);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bank_dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", bank_dir);
}

/* A track shorter than a window and its context is refused by name. */
static void
test_short_track(const char *dir, const sid_feature_config *fc, int64_t wf)
{
	char		path[512];
	sid_manifest m;
	sid_track_cache c;
	sid_pair_source *src;
	sid_pair_worker *w;
	sid_error	err;
	float	   *b = malloc(2 * wf * sizeof(float));

	sid_manifest_init(&m);
	snprintf(path, sizeof(path), "%s/short.wav", dir);
	synth_write_track(path, 9, 1, 16000);
	sid_manifest_add(&m, "synthetic", "short.wav", 1, 16000, 2, "train", NULL);
	sid_track_cache_load(&c, &m, "train", 0, dir, "", 16000, 1, &err);
	src = sid_pair_source_create(&c, NULL, fc, NULL, &err);
	w = src ? sid_pair_worker_create(src, &err) : NULL;
	CHECK(w && sid_pair_make(src, w, 1, 0, 0, 1, 1, b, NULL, &err) == SID_EINVAL &&
		  strstr(err.msg, "short.wav"), "a track too short for a pair is refused: %s", err.msg);
	sid_pair_worker_free(w);
	sid_pair_source_free(src);
	sid_track_cache_free(&c);
	sid_manifest_free(&m);
	unlink(path);
	free(b);
}

int
main(void)
{
	char		dir[] = "/tmp/test_pairs.XXXXXX";
	char		path[512];
	sid_manifest music,
				noise;
	sid_feature_config fc;
	sid_track_cache cache,
				empty;
	sid_noise_store bank;
	sid_pair_source *src;
	sid_pair_worker *w[2];
	sid_error	err;
	int64_t		wf;
	int			ok;

	if (!mkdtemp(dir))
		return 1;
	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	ok = synth_corpus_write(dir, TRACKS, SECONDS, RATE, 300, 4, "train", "reference", 2, &music, &noise) == 0;
	snprintf(path, sizeof(path), "%s/t%d.wav", dir, TRACKS);
	ok &= synth_write_track(path, 300 + TRACKS, LONG_SECONDS, RATE) == 0 &&
		sid_manifest_add(&music, "synthetic", path + strlen(dir) + 1, LONG_SECONDS, RATE, 2, "train",
						 NULL) == SID_OK;
	CHECK(ok, "corpus written");

	sid_features_default(&fc);
	ok = sid_track_cache_load(&cache, &music, "train", 0, dir, "", 16000, 2, &err) == SID_OK;
	CHECK(ok && cache.n == 5 && fabs(cache.total_samples / 16000.0 - (4 * SECONDS + LONG_SECONDS)) < 0.01,
		  "corpus: the 5 train tracks, %.2f s", cache.total_samples / 16000.0);
	CHECK(sid_track_cache_load(&empty, &music, "validation", 0, dir, "", 16000, 1, &err) == SID_EINVAL &&
		  strstr(err.msg, "validation"), "corpus: a split without tracks is refused: %s", err.msg);
	ok = sid_noise_store_load(&bank, &noise, "train", dir, 16000, &err) == SID_OK;
	CHECK(ok && bank.bank.n == 1,
		  "corpus: the train part of the noise bank, %zu clip", bank.bank.n);
	src = sid_pair_source_create(&cache, &bank.bank, &fc, NULL, &err);
	CHECK(src != NULL, "source: created (%s)", src ? "ok" : err.msg);
	wf = sid_pair_window_floats(src);
	CHECK(wf == 63 * 64, "source: windows of 63 frames x 64 mels");
	w[0] = sid_pair_worker_create(src, &err);
	w[1] = sid_pair_worker_create(src, &err);

	test_batches(src, w, wf);
	test_anchor_positive(src, w[0], &cache, &fc, wf);
	test_unaugmented(&cache, &bank.bank, &fc, wf);
	test_short_track(dir, &fc, wf);
	test_sample_recipe(&cache, &bank.bank, &fc, wf);
	test_bank_fed(&cache, &fc, wf, dir);

	sid_pair_worker_free(w[0]);
	sid_pair_worker_free(w[1]);
	sid_pair_source_free(src);
	sid_track_cache_free(&cache);
	sid_noise_store_free(&bank);
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	synth_corpus_remove(dir, TRACKS + 1, 2);
	return tap_done();
}
