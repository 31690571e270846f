/*
 * test_train.c - the trainer end to end on a tiny corpus the test writes:
 * configuration parsing and its errors; a run interrupted at a checkpoint
 * and resumed reproduces the uninterrupted run bit for bit (weights and
 * both Adam moments); one thread agrees closely with two; damaged
 * checkpoints are refused by name; the best-validation model file loads
 * and is marked trained.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus/sid_corpus.h"
#include "train/sid_checkpoint.h"
#include "model/sid_model.h"
#include "train/sid_train.h"
#include "synth_corpus.h"
#include "tap.h"

#define RATE 16000
#define TRACK_SECONDS 4

static int
write_manifest(const char *path, const sid_manifest *m)
{
	FILE	   *f = fopen(path, "w");
	sid_error	err;
	int			rc;

	if (!f)
		return -1;
	rc = sid_manifest_write(f, m, &err);
	return fclose(f) == 0 && rc == SID_OK ? 0 : -1;
}

static int
write_text(const char *path, const char *text)
{
	FILE	   *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/*
 * Compare two checkpoints: 1 when weights and both Adam moments are the same
 * bits; *max_diff receives the largest weight difference and the steps are
 * returned.  -1 when either does not load.
 */
static int
compare_checkpoints(const char *a, const char *b, double *max_diff, int64_t *step_a,
					int64_t *step_b)
{
	sid_model  *ma = NULL,
			   *mb = NULL;
	uint64_t	na = 0,
				nb = 0;
	void	   *sa = NULL,
			   *sb = NULL;
	uint32_t	la,
				lb;
	sid_error	err;
	sid_encoder *ea,
			   *eb;
	int			same = -1;

	sid_checkpoint_load(a, &ma, &na, &sa, &la, &err);
	sid_checkpoint_load(b, &mb, &nb, &sb, &lb, &err);
	ea = ma ? ma->enc : NULL;
	eb = mb ? mb->enc : NULL;
	if (ea && eb && ea->num_params == eb->num_params)
	{
		size_t		bytes = ea->num_params * sizeof(float);

		same = memcmp(ea->params, eb->params, bytes) == 0 &&
			memcmp(ea->adam_m, eb->adam_m, bytes) == 0 &&
			memcmp(ea->adam_v, eb->adam_v, bytes) == 0;
		*max_diff = 0;
		for (size_t i = 0; i < ea->num_params; i++)
			*max_diff = fmax(*max_diff, fabs((double) ea->params[i] - eb->params[i]));
		*step_a = (int64_t) na;
		*step_b = (int64_t) nb;
	}
	sid_model_free(ma);
	sid_model_free(mb);
	free(sa);
	free(sb);
	return same;
}

static void
set(sid_train_config *cfg, const char *key, const char *value)
{
	sid_error	err;

	if (sid_train_config_set(cfg, key, value, &err) != SID_OK)
		printf("# set %s: %s\n", key, err.msg);
}

/* The tiny configuration file: its values, then what it refuses. */
static void
test_config(const char *dir, sid_train_config *cfg)
{
	char		path[600];
	sid_train_config bad;
	sid_error	err;
	sid_status	rc;
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/train.conf", dir);
	f = fopen(path, "w");
	fprintf(f,
			"# tiny\n"
			"manifest = %s/manifest.tsv\nnoise_manifest = %s/noise.tsv\n"
			"data_dir = %s\ncache_dir = %s/cache\n"
			"seed = 42\npairs = 4   # two per worker\nsteps = 6\nwarmup_steps = 2\n"
			"n_stages = 2\nchannels = 8,16\nblocks = 1,1\nknn_k = 4\n"
			"checkpoint = %s/full.ckpt\nbest_model = %s/best.sidm\n"
			"checkpoint_every = 0\nval_every = 3\nval_seconds = 3\nval_queries = 8\nlog_every = 1\n",
			dir, dir, dir, dir, dir, dir);
	fclose(f);
	sid_train_config_default(cfg);
	rc = sid_train_config_read(path, cfg, &err);
	CHECK(rc == SID_OK, "config: the file parses (%s)", rc == SID_OK ? "ok" : err.msg);
	CHECK(cfg->pairs == 4 && cfg->seed == 42 && cfg->channels[1] == 16 && cfg->n_stages == 2 &&
		  strcmp(cfg->cache_dir + strlen(dir), "/cache") == 0,
		  "config: values, lists and trailing comments read");

	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	write_text(path, "pairs = 4\nlearning_rate = 0.1\n");
	sid_train_config_default(&bad);
	CHECK(sid_train_config_read(path, &bad, &err) == SID_EINVAL && strstr(err.msg, ":2:") &&
		  strstr(err.msg, "learning_rate"), "config: an unknown key names file and line: %s", err.msg);
	write_text(path, "temperature = hot\n");
	CHECK(sid_train_config_read(path, &bad, &err) == SID_EINVAL && strstr(err.msg, "temperature"),
		  "config: a malformed number is refused: %s", err.msg);
	write_text(path, "pairs = 1.5\n");
	CHECK(sid_train_config_read(path, &bad, &err) == SID_EINVAL,
		  "config: a fractional count is refused: %s", err.msg);
	write_text(path, "lr = 5\n");
	CHECK(sid_train_config_read(path, &bad, &err) == SID_EINVAL && strstr(err.msg, "outside"),
		  "config: an out-of-range value is refused: %s", err.msg);
	write_text(path, "pairs = 5\n");
	CHECK(sid_train_config_read(path, &bad, &err) == SID_EINVAL,
		  "config: an odd pair count is refused: %s", err.msg);
	write_text(path, "recipe = remix\n");
	CHECK(sid_train_config_read(path, &bad, &err) == SID_EINVAL && strstr(err.msg, "remix"),
		  "config: an unknown recipe is refused: %s", err.msg);
	write_text(path, "recipe = sample\nstretch_min = 1.2\nstretch_max = 0.9\n");
	CHECK(sid_train_config_read(path, &bad, &err) == SID_EINVAL && strstr(err.msg, "stretch_min"),
		  "config: a stretch range upside down is refused: %s", err.msg);
	write_text(path, "just words\n");
	CHECK(sid_train_config_read(path, &bad, &err) == SID_EINVAL && strstr(err.msg, "key = value"),
		  "config: a line without '=' is refused: %s", err.msg);
}

/*
 * An uninterrupted run on two threads; the same run stopped after step 3
 * (as a signal would) and resumed; and on one thread.  Leaves cfg->checkpoint
 * at the one-thread run's.
 */
static void
test_runs(const char *dir, sid_train_config *cfg, sid_train_hooks *hooks)
{
	char		ck_full[600],
				ck_resumed[600],
				ck_one[600];
	sid_train_state st;
	sid_error	err;
	int64_t		sa = 0,
				sb = 0;
	double		diff = -1;
	int			cmp = -1;
	sid_status	rc;

	snprintf(ck_full, sizeof(ck_full), "%s/full.ckpt", dir);
	rc = sid_train_run(cfg, 0, hooks, &st, &err);
	CHECK(rc == SID_OK && st.step == 6, "train: 6 steps from scratch (%s)", rc == SID_OK ? "ok" : err.msg);
	CHECK(st.best_val >= 0 && st.best_step > 0, "train: validated (best exact %.2f at step %lld)",
		  st.best_val, (long long) st.best_step);

	snprintf(ck_resumed, sizeof(ck_resumed), "%s/resumed.ckpt", dir);
	set(cfg, "checkpoint", ck_resumed);
	set(cfg, "best_model", "");
	hooks->stop_after = 3;
	CHECK(sid_train_run(cfg, 0, hooks, &st, &err) == SID_OK && st.step == 3,
		  "train: stopped at step 3 with a checkpoint");
	CHECK(compare_checkpoints(ck_full, ck_resumed, &diff, &sa, &sb) == 0 && sa == 6 && sb == 3,
		  "train: after 3 of 6 steps the weights differ from the finished run's");
	hooks->stop_after = 0;
	rc = sid_train_run(cfg, 1, hooks, &st, &err);
	CHECK(rc == SID_OK && st.step == 6, "train: resumed to step 6 (%s)", rc == SID_OK ? "ok" : err.msg);
	CHECK(compare_checkpoints(ck_full, ck_resumed, &diff, &sa, &sb) == 1 && sa == 6 && sb == 6,
		  "train: the resumed run's weights and Adam moments equal the uninterrupted run's, bit for bit");

	/* one thread: the same pairs, only the gradient summation order
	 * differs, so the weights agree closely but not bitwise */
	snprintf(ck_one, sizeof(ck_one), "%s/one.ckpt", dir);
	set(cfg, "checkpoint", ck_one);
	set(cfg, "threads", "1");
	if (sid_train_run(cfg, 0, hooks, &st, &err) == SID_OK)
		cmp = compare_checkpoints(ck_full, ck_one, &diff, &sa, &sb);
	CHECK(cmp >= 0 && diff < 1e-3, "train: one thread ends within 1e-3 of two threads' weights (max |diff| %.2g)",
		  diff);
}

/* The sample recipe trains through the same loop (two steps, no validation). */
static void
test_sample_recipe(const char *dir, const sid_train_config *base, sid_train_hooks *hooks)
{
	sid_train_config cfg = *base;
	char		ck[600];
	sid_train_state st;
	sid_error	err;
	sid_status	rc;

	snprintf(ck, sizeof(ck), "%s/sample.ckpt", dir);
	set(&cfg, "checkpoint", ck);
	set(&cfg, "best_model", "");
	set(&cfg, "recipe", "sample");
	set(&cfg, "val_every", "0");
	hooks->stop_after = 2;
	rc = sid_train_run(&cfg, 0, hooks, &st, &err);
	hooks->stop_after = 0;
	CHECK(rc == SID_OK && st.step == 2, "train: two steps of the sample recipe (%s)",
		  rc == SID_OK ? "ok" : err.msg);
	set(&cfg, "bank_dir", "/nonexistent/bank");
	CHECK(sid_train_run(&cfg, 0, hooks, &st, &err) == SID_EIO && strstr(err.msg, "/nonexistent/bank"),
		  "train: a missing bank is named: %s", err.msg);
	set(&cfg, "bank_dir", "");
	set(&cfg, "overlay_manifest", "/nonexistent/overlays.tsv");
	CHECK(sid_train_run(&cfg, 0, hooks, &st, &err) == SID_EIO && strstr(err.msg, "overlays.tsv"),
		  "train: a missing overlay manifest is named: %s", err.msg);
}

/*
 * Resuming with another seed or architecture is refused, and so are damaged
 * checkpoints (the format's own tests are the engine's; here: the trainer
 * reports them and does not start).  cfg->checkpoint is a finished run's.
 */
static void
test_resume_refusals(const char *dir, sid_train_config *cfg, sid_train_hooks *hooks)
{
	char		ck[SID_TRAIN_PATH_MAX],
				path[600];
	sid_train_state st;
	sid_error	err;
	long		size;
	unsigned char byte;
	FILE	   *f;

	snprintf(ck, sizeof(ck), "%s", cfg->checkpoint);
	set(cfg, "seed", "43");
	CHECK(sid_train_run(cfg, 1, hooks, &st, &err) == SID_EINVAL && strstr(err.msg, "seed"),
		  "resume: another seed is refused: %s", err.msg);
	set(cfg, "seed", "42");
	set(cfg, "channels", "8,24");
	CHECK(sid_train_run(cfg, 1, hooks, &st, &err) == SID_EINVAL && strstr(err.msg, "architecture"),
		  "resume: another architecture is refused: %s", err.msg);
	set(cfg, "channels", "8,16");

	f = fopen(ck, "r+b");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size - 8, SEEK_SET);
	byte = (unsigned char) fgetc(f);
	fseek(f, size - 8, SEEK_SET);
	fputc(byte ^ 0x40, f);
	fclose(f);
	CHECK(sid_train_run(cfg, 1, hooks, &st, &err) == SID_EFORMAT && strstr(err.msg, "checksum"),
		  "resume: a flipped bit is reported: %s", err.msg);
	CHECK(truncate(ck, size - 10) == 0 && sid_train_run(cfg, 1, hooks, &st, &err) == SID_EFORMAT &&
		  strstr(err.msg, "truncated"), "resume: a truncated checkpoint is reported: %s", err.msg);
	snprintf(path, sizeof(path), "%s/best.sidm", dir);
	set(cfg, "checkpoint", path);
	CHECK(sid_train_run(cfg, 1, hooks, &st, &err) < 0,
		  "resume: a model file is not taken for a checkpoint: %s", err.msg);
	snprintf(path, sizeof(path), "%s/missing.ckpt", dir);
	set(cfg, "checkpoint", path);
	CHECK(sid_train_run(cfg, 1, hooks, &st, &err) == SID_EIO,
		  "resume: a missing checkpoint is an I/O error: %s", err.msg);
	CHECK(sid_train_run(cfg, 1, hooks, &st, NULL) == SID_EIO,
		  "resume: without a sid_error to fill, the missing checkpoint still returns SID_EIO");
}

/* The best-validation model file. */
static void
test_best_model(const char *dir)
{
	char		path[600];
	sid_error	err;
	sid_model  *m;
	const char *why;

	snprintf(path, sizeof(path), "%s/best.sidm", dir);
	m = sid_model_load(path, &err);
	why = m ? m->note : err.msg;
	CHECK(m && sid_model_is_trained(m) && strcmp(m->name, "fp") == 0 && strstr(m->note, "validation"),
		  "best model: loads, marked trained, note says how it was made (%s)", why);
	sid_model_free(m);
}

/*
 * init_model starts a run from a model's weights: after one step at the
 * smallest learning rate, final_model holds those weights within Adam's
 * first step; a model of another architecture is refused by name.
 */
static void
test_init_model(const char *dir, const sid_train_config *base, sid_train_hooks *hooks)
{
	sid_train_config cfg = *base;
	char		init[600],
				final[600],
				ck[600];
	sid_model  *a = NULL,
			   *b = NULL;
	sid_train_state st;
	sid_error	err;
	sid_status	rc;
	double		max_diff = INFINITY;

	snprintf(init, sizeof(init), "%s/best.sidm", dir);
	snprintf(final, sizeof(final), "%s/final.sidm", dir);
	snprintf(ck, sizeof(ck), "%s/init.ckpt", dir);
	set(&cfg, "recipe", "fp");
	set(&cfg, "init_model", init);
	set(&cfg, "final_model", final);
	set(&cfg, "checkpoint", ck);
	set(&cfg, "steps", "1");
	set(&cfg, "warmup_steps", "0");
	set(&cfg, "lr", "1e-7");
	set(&cfg, "lr_min", "0");
	set(&cfg, "val_every", "0");
	rc = sid_train_run(&cfg, 0, hooks, &st, &err);
	CHECK(rc == SID_OK, "init_model: a one-step run from best.sidm (%s)", rc == SID_OK ? "ok" : err.msg);
	a = sid_model_load(init, &err);
	b = sid_model_load(final, &err);
	if (a && b && a->enc->num_params == b->enc->num_params)
	{
		max_diff = 0;
		for (size_t i = 0; i < a->enc->num_params; i++)
			max_diff = fmax(max_diff, fabs((double) a->enc->params[i] - b->enc->params[i]));
	}
	CHECK(max_diff < 1e-5, "init_model: final_model holds the initial model's weights after one tiny step (max diff %g)",
		  max_diff);
	CHECK(b && sid_model_is_trained(b) && strstr(b->note, "last of 1 steps"),
		  "final_model: marked trained, its note says it is the last step's (%s)", b ? b->note : err.msg);
	sid_model_free(a);
	sid_model_free(b);

	set(&cfg, "channels", "8,24");
	CHECK(sid_train_run(&cfg, 0, hooks, &st, &err) == SID_EINVAL && strstr(err.msg, "init_model"),
		  "init_model: a model of another architecture is refused: %s", err.msg);
}

/* The decoded-PCM cache is used on the next run. */
static void
test_cache(const sid_manifest *music, const sid_train_config *cfg)
{
	sid_track_cache c;
	sid_error	err;

	CHECK(sid_track_cache_load(&c, music, "train", 0, "/nonexistent", cfg->cache_dir, RATE, 2,
							   &err) == SID_OK && c.n == 4 && c.n_skipped == 0 &&
		  c.total_samples == 4 * TRACK_SECONDS * RATE,
		  "cache: the train tracks are read back from the cache, not the (absent) corpus");
	sid_track_cache_free(&c);
	CHECK(sid_track_cache_load(&c, music, "train", 0, "/nonexistent", "", RATE, 1, &err) == SID_OK &&
		  c.n_skipped == 4 && strstr(c.skipped, "t0.wav"),
		  "cache: tracks that do not decode are skipped and named: %s", c.skipped);
	sid_track_cache_free(&c);
}

int
main(void)
{
	char		dir[] = "/tmp/test_train.XXXXXX";
	char		path[600],
				cmd[700];
	sid_manifest music,
				noise;
	sid_train_config cfg;
	sid_train_hooks hooks;
	int			ok = 1;

	if (!mkdtemp(dir))
		return 1;
	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	ok &= synth_corpus_write(dir, 6, TRACK_SECONDS, RATE, 100, 4, "train", "validation", 2,
							 &music, &noise) == 0;
	snprintf(path, sizeof(path), "%s/manifest.tsv", dir);
	ok &= write_manifest(path, &music) == 0;
	snprintf(path, sizeof(path), "%s/noise.tsv", dir);
	ok &= write_manifest(path, &noise) == 0;
	CHECK(ok, "corpus: 4 train and 2 validation tracks of %d s, 2 noise clips", TRACK_SECONDS);

	memset(&hooks, 0, sizeof(hooks));
	test_config(dir, &cfg);
	test_runs(dir, &cfg, &hooks);
	test_resume_refusals(dir, &cfg, &hooks);
	test_best_model(dir);
	test_sample_recipe(dir, &cfg, &hooks);
	test_init_model(dir, &cfg, &hooks);
	test_cache(&music, &cfg);

	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	synth_corpus_remove(dir, 6, 2);	/* the audio; the rest below */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
