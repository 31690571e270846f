/*
 * fuzz_model.c - libFuzzer target: arbitrary bytes as a model file and as a
 * training checkpoint, and as a verifier (.sidv).  The checksums are recomputed over the mutated bytes
 * first, so the fuzzer gets past them and exercises the configuration
 * checks; a model that loads runs one forward pass on a silent window, a
 * verifier that loads one pair of two segments each.
 * Every input must end in SID_OK or a named error; ASan/UBSan/LSan flag
 * anything else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/sid_verifier.h"
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

static void
fix_verifier_crcs(unsigned char *b, size_t len)
{
	if (len >= SID_VERIFIER_HEADER_BYTES)
		sid_put_u32(b + 400, sid_crc32(0, b, 400));
	if (len >= SID_VERIFIER_HEADER_BYTES + 4)
		sid_put_u32(b + len - 4, sid_crc32(0, b + SID_VERIFIER_HEADER_BYTES, len - 4 - SID_VERIFIER_HEADER_BYTES));
}

/* A loaded verifier scores one pair, unless its activations would be huge. */
static void
run_verifier(const sid_verifier *v)
{
	const sid_verifier_config *c = &v->cfg;
	sid_verifier_work *w;
	sid_error	err;
	float	   *fp;
	double		t[2] = {0.0, 0.5};
	sid_verifier_pair p;

	if ((size_t) c->heads * c->max_query_segments * c->max_candidate_segments > (1u << 20) ||
		(size_t) (c->fp_dim + 2 * c->pe_pairs) * (c->max_query_segments + c->max_candidate_segments) > (1u << 20) ||
		c->max_query_segments < 2 || c->max_candidate_segments < 2)
		return;
	fp = calloc((size_t) 2 * c->fp_dim, sizeof(float));
	w = sid_verifier_work_create(c, &err);
	if (fp && w)
	{
		fp[0] = fp[c->fp_dim] = 1.0f;
		p = (sid_verifier_pair) {fp, t, 2, fp, t, 2, 0.0};
		if (sid_verifier_pair_check(c, &p, &err) == SID_OK)
			(void) sid_verifier_probability(v, w, &p);
	}
	sid_verifier_work_free(w);
	free(fp);
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
	memcpy(copy, data, size);
	fix_verifier_crcs(copy, size);
	{
		sid_verifier *v = sid_verifier_load_mem(copy, size, &err);

		if (v)
		{
			run_verifier(v);
			sid_verifier_free(v);
		}
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
