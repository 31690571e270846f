/*
 * sid_checkpoint.h - a training checkpoint (.sidc): everything needed to
 * resume training exactly where it stopped.
 *
 * Layout (little-endian):
 *   char[8]  "SIDCKPT\0"
 *   u32      version (SID_CHECKPOINT_VERSION)
 *   u64      model length L
 *   L bytes  a complete model file (sid_model.h, with its own checksums)
 *   u64      next step (0-based step number the resumed run starts at)
 *   u64      parameter count P (must equal the model's)
 *   P x f32  Adam first moments, then P x f32 second moments
 *   u32      length S of the caller's trainer state, then S bytes (data
 *            order, RNG state, epoch: opaque here)
 *   u32      CRC-32 of everything from "next step" to the end of the state
 * Written atomically; every failure on reading is named.
 */
#ifndef SID_CHECKPOINT_H
#define SID_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "model/sid_model.h"

#define SID_CHECKPOINT_MAGIC "SIDCKPT"
#define SID_CHECKPOINT_VERSION 1
#define SID_CHECKPOINT_MAX_STATE (64u << 20)

/* The model's encoder must have training enabled (Adam moments). */
sid_status	sid_checkpoint_save(const char *path, const sid_model *m, uint64_t next_step,
								const void *state, uint32_t state_len, sid_error *err);

/*
 * Loads a checkpoint: *model (training enabled, Adam moments restored),
 * *next_step and a malloc'd copy of the trainer state (*state may be NULL
 * when state_len is 0).  The caller frees the model and the state.
 */
sid_status	sid_checkpoint_load(const char *path, sid_model **model, uint64_t *next_step,
								void **state, uint32_t *state_len, sid_error *err);
sid_status	sid_checkpoint_load_mem(const void *data, size_t len, sid_model **model,
									uint64_t *next_step, void **state, uint32_t *state_len,
									sid_error *err);

#endif
