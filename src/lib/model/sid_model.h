/*
 * sid_model.h - the model file (.sidm): one encoder with its architecture,
 * the feature configuration it was trained on, its weights and checksums.
 *
 * Layout, all integers and floats little-endian:
 *   0    char[8]  magic "SIDMODEL"
 *   8    u32      format version (SID_MODEL_VERSION)
 *   12   u32      header length H in bytes, counted from offset 0
 *   16   u32      flags (SID_MODEL_TRAINED; absent = untrained;
 *                 SID_MODEL_SAMPLE: trained for sample identification)
 *   20   char[64] model name, NUL-padded
 *   84   char[256] note (how it was made: command, steps), NUL-padded
 *   340  8 x 4    sid_feature_config in declaration order
 *   372  22 x i32 sid_encoder_config in declaration order (19 fields, arrays
 *                 expanded), then 3 reserved zeros
 *   460  u64      number of parameters P
 *   468  u32      CRC-32 of bytes 0 .. 467            (H = 472)
 *   H    P x f32  parameters in the sid_encoder.h buffer order
 *   H+4P u32      CRC-32 of the parameter bytes
 * A reader checks, in order: length >= 12, magic, version, header length,
 * header CRC, configurations, file length = H + 4P + 4, parameter CRC; each
 * failure is reported by name.
 */
#ifndef SID_MODEL_H
#define SID_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/sid_bytes.h"
#include "nn/sid_encoder.h"
#include "core/sid_error.h"
#include "core/sid_sha256.h"
#include "audio/sid_features.h"

#define SID_MODEL_MAGIC "SIDMODEL"
#define SID_MODEL_VERSION 1
#define SID_MODEL_TRAINED 0x1u
/*
 * A sample-kind model (the trainer sets it for recipe = sample): its
 * identification searches transposed copies of the query by default and
 * aligns with tempo (docs/sample-model.md, "Sample mode").
 */
#define SID_MODEL_SAMPLE 0x2u
#define SID_MODEL_HEADER_BYTES 472
#define SID_MODEL_NAME_LEN 64
#define SID_MODEL_NOTE_LEN 256
/* The file name suffix of installed models: NAME.sidm */
#define SID_MODEL_SUFFIX ".sidm"

typedef struct sid_model
{
	uint32_t	flags;
	char		name[SID_MODEL_NAME_LEN];
	char		note[SID_MODEL_NOTE_LEN];
	sid_feature_config features;
	sid_encoder *enc;			/* owned */
	/* SHA-256 of the file it was loaded from; "" for a model made in memory */
	char		sha256[SID_SHA256_HEX_LEN + 1];
} sid_model;

/*
 * Frames in one window under a feature configuration: 1 + segment samples /
 * hop, as sid_mel_frames_per_segment (63 for 1 s at 16 kHz, hop 256).
 */
int			sid_model_window_frames(const sid_feature_config *f);

/* Checks that features and architecture are sane and agree with each other. */
sid_status	sid_model_check(const sid_feature_config *f, const sid_encoder_config *cfg,
							sid_error *err);

/*
 * A new, randomly initialised, UNTRAINED model (flags 0) with the given
 * architecture and features; n_frames of cfg is set from the features.
 */
sid_model  *sid_model_new_untrained(const char *name, const sid_encoder_config *cfg,
									const sid_feature_config *f, uint64_t seed,
									sid_error *err);
void		sid_model_free(sid_model *m);
static inline int
sid_model_is_trained(const sid_model *m)
{
	return (m->flags & SID_MODEL_TRAINED) != 0;
}
static inline int
sid_model_is_sample_kind(const sid_model *m)
{
	return (m->flags & SID_MODEL_SAMPLE) != 0;
}

/*
 * The coarse rule's defaults, the one source for sampleid_identify, `sampleid
 * eval --open-set` and the verifier's trainer: at least min_coverage of the
 * query's content segments agree on one alignment with mean similarity at
 * least min_similarity.  Any model that is not sample-kind: 0.7 / 0.78,
 * calibrated for <= 1 % false accepts by the open-set benchmark.  A
 * sample-kind model: 0.8 / 0.74, set on test/bench/identify_sample.sh with
 * the shipped sample.sidm (docs/benchmarks.md, "Sample mode: the cost of the
 * copies"): with 7 copies its right answers had coverage 1.00 and
 * similarity 0.78-0.91 while no foreign query's candidate of coverage >= 0.8
 * passed 0.69; fp's 0.78 would lose right answers, a coverage of 0.7 would
 * let foreign ones near (0.72 at 0.74).
 */
#define SID_RULE_MIN_COVERAGE 0.7f
#define SID_RULE_MIN_SIMILARITY 0.78f
#define SID_SAMPLE_RULE_MIN_COVERAGE 0.8f
#define SID_SAMPLE_RULE_MIN_SIMILARITY 0.74f
static inline void
sid_model_coarse_rule(const sid_model *m, float *min_coverage, float *min_similarity)
{
	*min_coverage = sid_model_is_sample_kind(m) ? SID_SAMPLE_RULE_MIN_COVERAGE : SID_RULE_MIN_COVERAGE;
	*min_similarity = sid_model_is_sample_kind(m) ? SID_SAMPLE_RULE_MIN_SIMILARITY : SID_RULE_MIN_SIMILARITY;
}

/* Serialised size in bytes. */
size_t		sid_model_file_size(const sid_model *m);
/* Writes path atomically (a temporary file, fsync, rename). */
sid_status	sid_model_save(const sid_model *m, const char *path, sid_error *err);
/* Reads a model file; NULL with err naming the problem. */
sid_model  *sid_model_load(const char *path, sid_error *err);
/* The same from memory (tests, fuzzing). */
sid_model  *sid_model_load_mem(const void *data, size_t len, sid_error *err);

/* The file's bytes (sid_model_file_size of them) into out. */
void		sid_model_serialize(const sid_model *m, unsigned char *out);

/* Largest model file a reader accepts. */
#define SID_MODEL_MAX_FILE_BYTES ((size_t) 1 << 32)

#endif
