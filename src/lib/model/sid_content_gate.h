/*
 * sid_content_gate.h - which segments carry no content (digital silence,
 * near-silence, stationary tones and noise) and so must not vote in an
 * identification.
 *
 * The gate works on fingerprints alone, so the same test applies to a query
 * embedded on the server, to fingerprints a client sent, and to the stored
 * rows of a catalogue (which keep every segment, so positions stay regular).
 * It embeds a fixed set of synthetic content-free signals with the model
 * (the "null set") and calls a segment content-free when its fingerprint's
 * inner product with some null fingerprint reaches the threshold.  The
 * threshold was chosen from a measurement (docs/benchmarks.md, "Content
 * gating"): music of the reference split against held-out null signals.
 */
#ifndef SID_CONTENT_GATE_H
#define SID_CONTENT_GATE_H

#include <stdint.h>

#include "model/sid_embed.h"

/*
 * Two tests, both measured (docs/benchmarks.md, "Content gating", with
 * test/bench/bench_content_gate.c).  Where the audio is at hand, a window
 * has no content when its loudest frame is below SID_CONTENT_MIN_LEVEL_DB
 * or its modulation is below SID_CONTENT_MIN_MODULATION_DB.  Where only
 * fingerprints are (stored catalogue rows, fingerprints a client sent), a
 * fingerprint has no content when it is within SID_CONTENT_GATE_THRESHOLD
 * (inner product) of the null set.
 */
#define SID_CONTENT_MIN_LEVEL_DB (-60.0f)
#define SID_CONTENT_MIN_MODULATION_DB 1.5f
#define SID_CONTENT_GATE_THRESHOLD 0.90f

/*
 * Of one window of log-mel (dB, [T][M], as sid_mel makes it): the loudest
 * frame's mean power in dB, and the modulation: per band within 30 dB of
 * the loudest band, the standard deviation over time of the band smoothed
 * over 5 frames, averaged over those bands.  Smoothing damps the random
 * fluctuation of stationary noise more than the changes of music; leakage
 * bands far below the loudest swing in dB even for a pure tone, so they
 * are left out.
 */
void		sid_content_window_measure(const float *logmel, int T, int M, float *level_db,
									   float *modulation_db);
static inline int
sid_content_window_has_content(float level_db, float modulation_db)
{
	return level_db >= SID_CONTENT_MIN_LEVEL_DB && modulation_db >= SID_CONTENT_MIN_MODULATION_DB;
}

/*
 * After sid_embed_batch(e, ..., count, ...): whether each of those windows
 * has content by the audio test (1) or not (0), from the log-mel the
 * embedder still holds.
 */
void		sid_content_embedded_windows(const sid_embedder *e, int count, uint8_t *content);

typedef struct sid_content_gate
{
	int32_t		dim;
	int32_t		n_null;
	float	   *null_fp;		/* [n_null][dim] */
	float		threshold;
} sid_content_gate;

/*
 * The null signals of one set: set 0 builds the gate, set 1 is held out for
 * measuring it (other frequencies, levels and noise seeds).  Writes signal i
 * (n samples at rate) to out; returns the number of signals in the set, and
 * writes nothing when i is out of range.  A short name goes to kind.
 */
int			sid_content_null_signal(int set, int i, float *out, int64_t n, int32_t rate,
									const char **kind);

/*
 * Every window of PCM (mono, the model's rate) embedded into *res, as
 * sid_embed_pcm, with the audio test's verdict per window in *content
 * (malloc'd, res->n_segments bytes).
 */
sid_status	sid_content_embed_pcm(sid_embedder *e, sid_device_kind device, const float *pcm,
								  int64_t n_samples, sid_embed_result *res, uint8_t **content,
								  sid_error *err);

/* Embeds null set 0 with e (every window of each signal). */
sid_content_gate *sid_content_gate_create(sid_embedder *e, float threshold, sid_error *err);
void		sid_content_gate_free(sid_content_gate *g);

/* Largest inner product of fp (dim floats) with a null fingerprint. */
float		sid_content_gate_score(const sid_content_gate *g, const float *fp);
static inline int
sid_content_gate_has_content(const sid_content_gate *g, const float *fp)
{
	return sid_content_gate_score(g, fp) < g->threshold;
}

#endif
