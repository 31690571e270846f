/*
 * test_nn_checkpoint.c - training checkpoints: a run stopped after a few
 * steps and resumed from its checkpoint continues bit-identically to a run
 * that never stopped; damaged checkpoints are named.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_testutil.h"
#include "train/sid_checkpoint.h"
#include "train/sid_train_step.h"
#include "tap.h"

#define PAIRS 4

static void
tiny(sid_encoder_config *cfg, sid_feature_config *f)
{
	sid_encoder_default_config(cfg);
	sid_features_default(f);
	f->n_mels = 16;
	f->f_max = 4000.0f;
	f->hop_length = 1024;
	f->n_fft = 1024;			/* 1 + 16000 / 1024 = 16 frames */
	cfg->patch_freq = 4;
	cfg->patch_time = 4;
	cfg->n_stages = 2;
	cfg->channels[0] = 8;
	cfg->channels[1] = 12;
	cfg->blocks[0] = 1;
	cfg->blocks[1] = 1;
	cfg->knn_k = 3;
	cfg->head_hidden = 16;
	cfg->embed_dim = 8;
}

static void
run_steps(sid_model *m, const float *batches, size_t batch_floats, int from, int to)
{
	sid_train_ctx ctx;
	sid_adam_config adam;
	sid_error	err;

	sid_adam_default_config(&adam, 20);
	sid_train_ctx_init(&ctx, m->enc, PAIRS, 0.1f, &adam, &err);
	for (int s = from; s < to; s++)
		sid_train_step(&ctx, batches + (size_t) s * batch_floats, PAIRS, s, NULL);
	sid_train_ctx_free(&ctx);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	sid_error	err;

	return sid_read_file(path, 1u << 30, len, &err);
}

static void
expect_bad(const unsigned char *data, size_t len, const char *phrase, const char *what)
{
	sid_model  *m;
	uint64_t	step;
	void	   *state;
	uint32_t	slen;
	sid_error	err;
	sid_status	st = sid_checkpoint_load_mem(data, len, &m, &step, &state, &slen, &err);

	CHECK(st != SID_OK && m == NULL && strstr(err.msg, phrase), "%s: \"%s\"", what, err.msg);
}

int
main(void)
{
	char		dir[] = "/tmp/sid_ckpt_test.XXXXXX";
	char		path[300];
	sid_encoder_config cfg;
	sid_feature_config f;
	sid_error	err;
	sid_model  *straight,
			   *stopped,
			   *resumed = NULL;
	size_t		win,
				batch_floats,
				len;
	float	   *batches;
	uint64_t	next = 0;
	void	   *state = NULL;
	uint32_t	state_len = 0;
	const char	trainer_state[] = "epoch=1;rng=12345";
	unsigned char *file,
			   *copy;

	sid_nn_set_threads(1);
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/run.sidc", dir);
	tiny(&cfg, &f);
	straight = sid_model_new_untrained("ckpt", &cfg, &f, 3, &err);
	stopped = sid_model_new_untrained("ckpt", &cfg, &f, 3, &err);
	CHECK(straight && stopped, "two identical tiny models: %s", straight ? "ok" : err.msg);
	if (!straight || !stopped)
		return tap_done();
	win = (size_t) straight->enc->cfg.n_frames * straight->enc->cfg.n_mels;
	batch_floats = 2 * PAIRS * win;
	batches = test_randn(10 * batch_floats, 10);

	run_steps(straight, batches, batch_floats, 0, 10);
	run_steps(stopped, batches, batch_floats, 0, 6);
	CHECK(sid_checkpoint_save(path, stopped, 6, trainer_state, sizeof(trainer_state), &err) == SID_OK,
		  "checkpoint written after 6 steps");
	CHECK(sid_checkpoint_load(path, &resumed, &next, &state, &state_len, &err) == SID_OK,
		  "checkpoint read back");
	if (!resumed)
		return tap_done();
	CHECK(next == 6 && state_len == sizeof(trainer_state) && memcmp(state, trainer_state, state_len) == 0,
		  "step and trainer state survive");
	CHECK(memcmp(resumed->enc->adam_m, stopped->enc->adam_m, sizeof(float) * stopped->enc->num_params) == 0 &&
		  memcmp(resumed->enc->adam_v, stopped->enc->adam_v, sizeof(float) * stopped->enc->num_params) == 0,
		  "Adam moments are bit-identical");
	run_steps(resumed, batches, batch_floats, (int) next, 10);
	CHECK(memcmp(resumed->enc->params, straight->enc->params, sizeof(float) * straight->enc->num_params) == 0,
		  "6 steps + resume + 4 steps equals 10 uninterrupted steps, bit for bit");

	file = slurp(path, &len);
	copy = malloc(len);
	memcpy(copy, file, len);
	copy[len - 10] ^= 0x40;		/* inside the trainer state */
	expect_bad(copy, len, "optimiser state is corrupted", "a flipped bit after the model is caught");
	memcpy(copy, file, len);
	copy[20 + 600] ^= 0x01;		/* inside the model's weights */
	expect_bad(copy, len, "weights are corrupted", "a flipped bit in the model part is caught by its checksum");
	expect_bad(file, len - 3, "truncated", "a truncated checkpoint is named");
	expect_bad(file, 30, "truncated", "a checkpoint cut inside the model is named");
	memcpy(copy, file, len);
	copy[1] = 'X';
	expect_bad(copy, len, "bad magic", "wrong magic is named");
	memcpy(copy, file, len);
	copy[8] = 7;
	expect_bad(copy, len, "version 7", "wrong version is named");
	{
		sid_model  *fresh = sid_model_new_untrained("x", &cfg, &f, 1, &err);

		CHECK(sid_checkpoint_save(path, fresh, 0, NULL, 0, &err) == SID_EINVAL,
			  "a model without optimiser state cannot be checkpointed: %s", err.msg);
		sid_model_free(fresh);
	}

	free(copy);
	free(file);
	free(state);
	free(batches);
	sid_model_free(straight);
	sid_model_free(stopped);
	sid_model_free(resumed);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
