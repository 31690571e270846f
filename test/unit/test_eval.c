/*
 * test_eval.c - the identification benchmark end to end on a corpus the test
 * writes itself (synthetic note sequences as WAV files) with a randomly
 * initialised encoder: clean queries cut on the hop grid must all be found
 * exactly, runs are reproducible from the seed, and bad configurations fail
 * clearly.  The sample conditions likewise: clean grid-aligned queries found
 * exactly, with transposed copies too (the unshifted copy winning), the same
 * excerpts whatever the list of conditions, and other music from the
 * searched split refused.  (No trained model is needed: the pipeline, not the model, is
 * under test.)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/sid_eval.h"
#include "audio/sid_features.h"
#include "core/sid_rng.h"
#include "synth_corpus.h"
#include "tap.h"

#define TRACKS 6
#define TRACK_SECONDS 12
#define RATE 22050

static int
tables_equal(const sid_eval_result *a, const sid_eval_result *b)
{
	for (int t = 0; t < 2; t++)
	{
		size_t		cells;

		if (a->has_table[t] != b->has_table[t])
			return 0;
		if (!a->has_table[t])
			continue;
		cells = (size_t) a->table[t].n_rows * a->table[t].n_cols;
		if (memcmp(a->table[t].exact, b->table[t].exact, cells * sizeof(int64_t)) ||
			memcmp(a->table[t].near, b->table[t].near, cells * sizeof(int64_t)) ||
			memcmp(a->table[t].total, b->table[t].total, cells * sizeof(int64_t)) ||
			memcmp(a->track[t].exact, b->track[t].exact, cells * sizeof(int64_t)))
			return 0;
	}
	return 1;
}

/* What one run (r) reports: its sizes, its tables, and what clean queries give. */
static void
check_first_run(const sid_eval_result *r1)
{
	int			ok = 1;

	CHECK(r1->ref_tracks == 4, "eval: only the 4 reference tracks are searched (%d)", r1->ref_tracks);
	CHECK(r1->ref_segments == 4 * ((TRACK_SECONDS - 1) * 2 + 1),
		  "eval: %lld reference segments (1 s windows every 0.5 s over 12 s: 23 per track)",
		  (long long) r1->ref_segments);
	CHECK(r1->queries == 6 * 2 * 2 * 2 && r1->query_segments == 6 * 2 * 2 * (1 + 5),
		  "eval: %lld queries of %lld segments (1 s = 1 segment, 3 s = 5)",
		  (long long) r1->queries, (long long) r1->query_segments);
	CHECK(r1->has_table[0] && r1->has_table[1] && r1->table[0].total[0] == 6,
		  "eval: both tables, 6 queries per cell");
	/* clean, no reverberation, starts on the hop grid: every query is the
	 * reference audio itself (only the window edges lack the neighbouring
	 * audio), so even an untrained encoder must find each one exactly */
	CHECK(r1->table[0].exact[0 * 2 + 0] == 6 && r1->table[0].exact[1 * 2 + 0] == 6,
		  "eval: clean queries found exactly (1 s: %lld/6, 3 s: %lld/6)",
		  (long long) r1->table[0].exact[0], (long long) r1->table[0].exact[2]);
	for (int t = 0; t < 2; t++)
		for (int c = 0; c < 4; c++)
			ok &= r1->table[t].near[c] >= r1->table[t].exact[c];
	CHECK(ok, "eval: near counts include exact ones");
	ok = 1;
	for (int t = 0; t < 2; t++)
		for (int c = 0; c < 4; c++)
			ok &= r1->track[t].total[c] == r1->table[t].total[c] &&
				r1->track[t].exact[c] >= r1->table[t].near[c];
	CHECK(ok, "eval: right-track counts include near ones, over the same queries");
	CHECK(r1->track[0].exact[0] == 6 && r1->track[0].exact[2] == 6,
		  "eval: clean grid-aligned queries are all on the right track");
}

/* The clean row (row 0) of a sample-mode run. */
static int64_t
clean_exact(const sid_eval_result *r)
{
	return r->table[0].exact[0];
}

static void
test_sample_mode(sid_model *model, const sid_manifest *music, const char *dir)
{
	sid_eval_config cfg;
	sid_manifest overlays;
	sid_eval_result r1,
				r2;
	sid_error	err;
	char		path[512];
	sid_status	rc;
	int			n_cond = 0;

	sid_manifest_init(&overlays);
	snprintf(path, sizeof(path), "%s/drums-0.wav", dir);
	CHECK(synth_write_noise(path, 77) == 0 &&
		  sid_manifest_add(&overlays, "synthetic", "drums-0.wav", 1, 16000, 1, "test", NULL) == SID_OK &&
		  sid_manifest_add(&overlays, "synthetic", "n1.wav", 1, 16000, 1, "test", NULL) == SID_OK,
		  "sample: a drum loop (and a clip not named drums-*) in the overlays' test part");
	sid_eval_config_default(&cfg);
	cfg.data_dir = dir;
	cfg.mode = SID_EVAL_SAMPLE;
	cfg.overlays = &overlays;
	cfg.music_overlay_split = "train";
	cfg.queries = 4;
	cfg.n_lengths = 1;
	cfg.lengths[0] = 3;
	cfg.align_starts = 1;
	cfg.n_sample = sid_conditions_select("clean,pitch+2,speed0.9,music@6dB,pitch-2/drums@3dB", cfg.sample,
										 SID_EVAL_MAX_SAMPLE_CONDITIONS, &err);
	rc = sid_eval_run(model, music, NULL, &cfg, &r1, &err);
	CHECK(rc == SID_OK, "sample: runs (%s)", rc == SID_OK ? "ok" : err.msg);
	if (rc != SID_OK)
		goto done;
	CHECK(r1.has_table[0] && !r1.has_table[1] && r1.table[0].n_rows == 5 && r1.table[0].n_cols == 1 &&
		  r1.queries == 4 * 5 && r1.overlay_clips[0] == 2 * 2 && r1.overlay_clips[1] == 1,
		  "sample: 5 conditions x 1 length, 20 queries, 4 music clips of the 2 train tracks, 1 drum loop "
		  "(%lld queries, %d music, %d drums)", (long long) r1.queries, r1.overlay_clips[0],
		  r1.overlay_clips[1]);
	CHECK(clean_exact(&r1) == 4 && r1.track[0].exact[0] == 4,
		  "sample: clean grid-aligned queries found exactly (%lld/4)", (long long) clean_exact(&r1));
	for (int c = 0; c < 5; c++)
		n_cond += r1.table[0].total[c] == 4 && r1.track[0].exact[c] >= r1.table[0].exact[c];
	CHECK(n_cond == 5, "sample: 4 queries per condition, right-recording counts include exact ones");

	cfg.transpose_lo = -1;
	cfg.transpose_hi = 1;
	rc = sid_eval_run(model, music, NULL, &cfg, &r2, &err);
	CHECK(rc == SID_OK && r2.n_copies == 3 && r2.queries == 3 * 20 && r2.copied_queries == 20 &&
		  clean_exact(&r2) == 4 && r2.copy_wins[1] == 4 && r2.transpose_cpu_seconds > 0,
		  "sample: with copies -1..1, 60 queries searched, the clean ones won by the unshifted copy (%s)",
		  rc == SID_OK ? "ok" : err.msg);
	if (rc == SID_OK)
	{
		size_t		cells = 5 * sizeof(int64_t);

		CHECK(!memcmp(r2.unshifted[0].exact, r1.table[0].exact, cells) &&
			  !memcmp(r2.unshifted[0].near, r1.table[0].near, cells) &&
			  !memcmp(r2.unshifted_track[0].exact, r1.track[0].exact, cells) &&
			  !memcmp(r2.unshifted[0].total, r1.table[0].total, cells),
			  "sample: the unshifted copy's tables equal the run without copies");
		sid_eval_result_free(&r2);
	}
	cfg.transpose_lo = cfg.transpose_hi = 0;

	/* starts anywhere, pitch-shifted queries and a random encoder: counts
	 * that move with the excerpts, which must not move with the list */
	sid_eval_result_free(&r1);
	cfg.align_starts = 0;
	cfg.queries = 12;
	rc = sid_eval_run(model, music, NULL, &cfg, &r1, &err);
	cfg.sample[0] = cfg.sample[1];
	cfg.n_sample = 1;
	if (rc == SID_OK)
		rc = sid_eval_run(model, music, NULL, &cfg, &r2, &err);
	CHECK(rc == SID_OK && r2.table[0].exact[0] == r1.table[0].exact[1] &&
		  r2.table[0].near[0] == r1.table[0].near[1] && r2.track[0].exact[0] == r1.track[0].exact[1],
		  "sample: pitch+2 alone gives the pitch+2 row of the longer list (%lld/%lld/%lld of 12)",
		  rc == SID_OK ? (long long) r2.table[0].exact[0] : -1LL,
		  rc == SID_OK ? (long long) r2.table[0].near[0] : -1LL,
		  rc == SID_OK ? (long long) r2.track[0].exact[0] : -1LL);
	if (rc == SID_OK)
		sid_eval_result_free(&r2);
	cfg.n_sample = sid_conditions_select("music@6dB", cfg.sample, SID_EVAL_MAX_SAMPLE_CONDITIONS, &err);
	cfg.music_overlay_split = "reference";
	CHECK(sid_eval_run(model, music, NULL, &cfg, &r2, &err) == SID_EINVAL && strstr(err.msg, "other music"),
		  "sample: other music from the searched split refused: %s", err.msg);
	cfg.music_overlay_split = "train";
	cfg.transpose_lo = 1;
	CHECK(sid_eval_run(model, music, NULL, &cfg, &r2, &err) == SID_EINVAL,
		  "sample: copies that leave out 0 semitones refused: %s", err.msg);
	sid_eval_result_free(&r1);
done:
	sid_manifest_free(&overlays);
	unlink(path);
}

/* The same seed and thread counts reproduce r1; another seed runs; bad
 * configurations and a missing track are refused. */
static void
test_reruns(sid_model *model, const sid_manifest *music, const sid_manifest *noise,
			sid_eval_config *cfg, const sid_eval_result *r1, const char *dir)
{
	char		path[512];
	sid_eval_result r2;
	sid_error	err;

	CHECK(sid_eval_run(model, music, noise, cfg, &r2, &err) == SID_OK && tables_equal(r1, &r2),
		  "eval: the same seed reproduces every count");
	sid_eval_result_free(&r2);
	cfg->threads = 2;
	CHECK(sid_eval_run(model, music, noise, cfg, &r2, &err) == SID_OK && tables_equal(r1, &r2),
		  "eval: two embedding threads give the same counts");
	sid_eval_result_free(&r2);
	cfg->threads = 1;
	cfg->seed = 6;
	cfg->align_starts = 0;
	CHECK(sid_eval_run(model, music, noise, cfg, &r2, &err) == SID_OK,
		  "eval: another seed, starts anywhere");
	sid_eval_result_free(&r2);

	cfg->split = "validation";
	CHECK(sid_eval_run(model, music, noise, cfg, &r2, &err) == SID_EINVAL && strstr(err.msg, "validation"),
		  "eval: a split without tracks is refused: %s", err.msg);
	cfg->split = "reference";
	cfg->lengths[0] = 0.5;
	CHECK(sid_eval_run(model, music, noise, cfg, &r2, &err) == SID_EINVAL,
		  "eval: a query shorter than a window is refused: %s", err.msg);
	cfg->lengths[0] = 1;
	snprintf(path, sizeof(path), "%s/t1.wav", dir);
	unlink(path);
	CHECK(sid_eval_run(model, music, noise, cfg, &r2, &err) < 0 && strstr(err.msg, "t1.wav"),
		  "eval: a missing track is an error naming it: %s", err.msg);
}

int
main(void)
{
	char		dir[] = "/tmp/test_eval.XXXXXX";
	sid_manifest music,
				noise;
	sid_encoder_config ec;
	sid_feature_config fc;
	sid_model  *model;
	sid_eval_config cfg;
	sid_eval_result r1;
	sid_error	err;
	int			ok;
	sid_status	rc;

	if (!mkdtemp(dir))
		return 1;
	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	ok = synth_corpus_write(dir, TRACKS, TRACK_SECONDS, RATE, 100, 4, "reference", "train", 3, &music, &noise) == 0;
	CHECK(ok, "corpus: %d tracks and 3 noise clips written", TRACKS);

	sid_encoder_default_config(&ec);
	sid_features_default(&fc);
	model = sid_model_new_untrained("eval-test", &ec, &fc, 7, &err);
	CHECK(model != NULL, "model: a randomly initialised encoder");

	sid_eval_config_default(&cfg);
	cfg.data_dir = dir;
	cfg.queries = 6;
	cfg.n_lengths = 2;
	cfg.lengths[0] = 1;
	cfg.lengths[1] = 3;
	cfg.n_snrs = 2;
	cfg.snrs[0] = INFINITY;
	cfg.snrs[1] = 10;
	cfg.align_starts = 1;
	rc = sid_eval_run(model, &music, &noise, &cfg, &r1, &err);
	CHECK(rc == SID_OK, "eval: runs (%s)", rc == SID_OK ? "ok" : err.msg);
	check_first_run(&r1);
	test_sample_mode(model, &music, dir);
	test_reruns(model, &music, &noise, &cfg, &r1, dir);

	sid_eval_result_free(&r1);
	sid_model_free(model);
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	synth_corpus_remove(dir, TRACKS, 3);
	return tap_done();
}
