/*
 * fuzz_model.c - libFuzzer target: arbitrary bytes as a model file and as a
 * training checkpoint.  The checksums are recomputed over the mutated bytes
 * first, so the fuzzer gets past them and exercises the configuration
 * checks; a model that loads runs one forward pass on a silent window.
 * Every input must end in SID_OK or a named error; ASan/UBSan/LSan flag
 * anything else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train/sid_checkpoint.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fix_model_crcs(unsigned char *b, size_t len)
{
	if (len >= SID_MODEL_HEADER_BYTES)
		sid_put_u32(b + 468, sid_crc32(0, b, 468));
	if (len >= SID_MODEL_HEADER_BYTES + 4)
		sid_put_u32(b + len - 4, sid_crc32(0, b + SID_MODEL_HEADER_BYTES, len - 4 - SID_MODEL_HEADER_BYTES));
}

static void
run_model(const sid_model *m)
{
	sid_encoder_acts acts;
	sid_error	err;
	float	   *window,
			   *emb;
	const sid_encoder_config *c = &m->enc->cfg;

	if ((size_t) c->n_frames * c->n_mels > (1u << 20))
		return;
	window = calloc((size_t) c->n_frames * c->n_mels, sizeof(float));
	emb = calloc(c->embed_dim, sizeof(float));
	if (window && emb && sid_encoder_acts_alloc(&acts, c, 1, 0, &err) == SID_OK)
	{
		for (size_t i = 0; i < (size_t) c->n_frames * c->n_mels; i++)
			window[i] = -100.0f;
		sid_encoder_forward(m->enc, SID_DEVICE_CPU, &acts, window, 1, emb, NULL, &err);
		sid_encoder_acts_free(&acts);
	}
	free(window);
	free(emb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	sid_error	err;
	sid_model  *m;
	uint64_t	step;
	void	   *state;
	uint32_t	state_len;

	sid_nn_set_threads(1);
	memcpy(copy, data, size);
	fix_model_crcs(copy, size);
	m = sid_model_load_mem(copy, size, &err);
	if (m)
	{
		run_model(m);
		sid_model_free(m);
	}
	/* the same bytes as a checkpoint (its own CRC left as is: a plain parse) */
	if (sid_checkpoint_load_mem(data, size, &m, &step, &state, &state_len, &err) == SID_OK)
	{
		sid_model_free(m);
		free(state);
	}
	free(copy);
	return 0;
}
