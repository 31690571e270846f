/*
 * sid_checkpoint.c - training checkpoints: a model file plus the Adam
 * moments, the step and the trainer's own state.  Layout in sid_checkpoint.h.
 */
#include "train/sid_checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "core/sid_bytes.h"

sid_status
sid_checkpoint_save(const char *path, const sid_model *m, uint64_t next_step,
					const void *state, uint32_t state_len, sid_error *err)
{
	size_t		P = m->enc->num_params;
	size_t		L = sid_model_file_size(m);
	size_t		size = 8 + 4 + 8 + L + 8 + 8 + 8 * P + 4 + state_len + 4;
	unsigned char *buf,
			   *w,
			   *tail;
	sid_status	st;

	if (!m->enc->adam_m || !m->enc->adam_v)
		return sid_fail(err, SID_EINVAL, "a checkpoint needs an encoder with training enabled");
	if (state_len > SID_CHECKPOINT_MAX_STATE)
		return sid_fail(err, SID_ELIMIT, "trainer state of %u bytes exceeds %u", state_len,
						SID_CHECKPOINT_MAX_STATE);
	if (!(buf = malloc(size)))
		return sid_fail(err, SID_ENOMEM, "out of memory writing checkpoint \"%s\"", path);
	memcpy(buf, SID_CHECKPOINT_MAGIC, 8);
	sid_put_u32(buf + 8, SID_CHECKPOINT_VERSION);
	sid_put_u64(buf + 12, L);
	sid_model_serialize(m, buf + 20);
	w = tail = buf + 20 + L;
	sid_put_u64(w, next_step);
	sid_put_u64(w + 8, P);
	w += 16;
	for (size_t i = 0; i < P; i++)
		sid_put_f32(w + 4 * i, m->enc->adam_m[i]);
	w += 4 * P;
	for (size_t i = 0; i < P; i++)
		sid_put_f32(w + 4 * i, m->enc->adam_v[i]);
	w += 4 * P;
	sid_put_u32(w, state_len);
	if (state_len)
		memcpy(w + 4, state, state_len);
	w += 4 + state_len;
	sid_put_u32(w, sid_crc32(0, tail, (size_t) (w - tail)));
	st = sid_write_file_atomic(path, buf, size, err);
	free(buf);
	return st;
}

sid_status
sid_checkpoint_load_mem(const void *data, size_t len, sid_model **model, uint64_t *next_step,
						void **state, uint32_t *state_len, sid_error *err)
{
	const unsigned char *b = data;
	const unsigned char *tail,
			   *r;
	uint64_t	L,
				P;
	uint32_t	S;
	sid_model  *m;
	sid_status	st;

	*model = NULL;
	*state = NULL;
	*state_len = 0;
	if (len < 20 || memcmp(b, SID_CHECKPOINT_MAGIC, 8) != 0)
		return sid_fail(err, SID_EFORMAT, len < 20 ? "not a sampleid checkpoint: only %zu bytes"
						: "not a sampleid checkpoint: bad magic (expected \"SIDCKPT\")", len);
	if (sid_get_u32(b + 8) != SID_CHECKPOINT_VERSION)
		return sid_fail(err, SID_EUNSUPPORTED,
						"checkpoint format version %u is not supported (this build reads version %d)",
						sid_get_u32(b + 8), SID_CHECKPOINT_VERSION);
	L = sid_get_u64(b + 12);
	if (L > len - 20 || len - 20 - L < 8 + 8 + 4 + 4)
		return sid_fail(err, SID_EFORMAT, "checkpoint is truncated: %zu bytes cannot hold its %llu-byte model",
						len, (unsigned long long) L);
	if (!(m = sid_model_load_mem(b + 20, (size_t) L, err)))
		return err ? err->code : SID_EFORMAT;
	tail = r = b + 20 + L;
	P = sid_get_u64(r + 8);
	if (P != m->enc->num_params)
	{
		size_t		have = m->enc->num_params;

		sid_model_free(m);
		return sid_fail(err, SID_EFORMAT, "checkpoint holds Adam moments for %llu parameters, the model has %zu",
						(unsigned long long) P, have);
	}
	if ((size_t) (b + len - r) < 16 + 8 * P + 4 ||
		(S = sid_get_u32(r + 16 + 8 * P)) > SID_CHECKPOINT_MAX_STATE ||
		(size_t) (b + len - r) != 16 + 8 * P + 4 + S + 4)
	{
		sid_model_free(m);
		return sid_fail(err, SID_EFORMAT, "checkpoint is %s: %zu bytes",
						(size_t) (b + len - r) < 16 + 8 * P + 4 ? "truncated" : "truncated or too long", len);
	}
	if (sid_get_u32(b + len - 4) != sid_crc32(0, tail, len - 4 - (size_t) (tail - b)))
	{
		sid_model_free(m);
		return sid_fail(err, SID_EFORMAT, "checkpoint optimiser state is corrupted: checksum mismatch");
	}
	if ((st = sid_encoder_enable_training(m->enc, err)) != SID_OK)
	{
		sid_model_free(m);
		return st;
	}
	r += 16;
	for (size_t i = 0; i < P; i++)
		m->enc->adam_m[i] = sid_get_f32(r + 4 * i);
	r += 4 * P;
	for (size_t i = 0; i < P; i++)
		m->enc->adam_v[i] = sid_get_f32(r + 4 * i);
	r += 4 * P + 4;
	if (S)
	{
		if (!(*state = malloc(S)))
		{
			sid_model_free(m);
			return sid_fail(err, SID_ENOMEM, "out of memory for the trainer state");
		}
		memcpy(*state, r, S);
	}
	*state_len = S;
	*next_step = sid_get_u64(tail);
	*model = m;
	return SID_OK;
}

sid_status
sid_checkpoint_load(const char *path, sid_model **model, uint64_t *next_step,
					void **state, uint32_t *state_len, sid_error *err)
{
	size_t		len;
	void	   *buf = sid_read_file(path, SID_MODEL_MAX_FILE_BYTES * 3, &len, err);
	sid_status	st;

	*model = NULL;
	*state = NULL;
	*state_len = 0;
	if (!buf)
		return err ? err->code : SID_EIO;
	st = sid_checkpoint_load_mem(buf, len, model, next_step, state, state_len, err);
	free(buf);
	if (st != SID_OK)
		sid_error_name_file(err, path);
	return st;
}
