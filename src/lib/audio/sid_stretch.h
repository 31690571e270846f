/*
 * sid_stretch.h - pitch shift and time stretch of mono audio with
 * librubberband (offline mode), and the transposed copies of a query that
 * sample-mode identification searches with.
 *
 * A time ratio r makes the output r times as long (r = 1.25 plays 0.8x as
 * fast); a shift of s semitones multiplies every frequency by 2^(s / 12)
 * without changing the length.  The output has exactly round(n * r) samples,
 * aligned with the input (offline mode compensates rubberband's delay).
 * Lives in audio/ rather than augment/ because the query side (the
 * extension, which may not include augment/) needs it as much as training.
 */
#ifndef SID_STRETCH_H
#define SID_STRETCH_H

#include <stddef.h>

#include "core/sid_error.h"

/* What a caller may ask for; anything beyond is refused up front. */
#define SID_STRETCH_MIN_RATIO 0.25
#define SID_STRETCH_MAX_RATIO 4.0
#define SID_STRETCH_MAX_SEMITONES 24.0
#define SID_STRETCH_MAX_SAMPLES ((size_t) 1 << 27)	/* 2.3 h at 16 kHz */

/* Most transposed copies one call makes: -12 .. +12 semitones. */
#define SID_TRANSPOSE_MAX_COPIES 25

/*
 * The copies sample mode searches when the caller names none: -3 .. +3
 * whole semitones (a sample-kind model's identify, match and monitor).
 */
#define SID_SAMPLE_MODE_SEMITONES 3

typedef enum sid_stretch_engine
{
	SID_STRETCH_FASTER,			/* rubberband's R2 engine */
	SID_STRETCH_FINER			/* R3: exact pitch, 2-3x the CPU time */
} sid_stretch_engine;

/*
 * out[round(n * time_ratio)] (malloc'd, *n_out its length) is in[n] stretched
 * by time_ratio and shifted by semitones.  sample_rate 1000 .. 384000.
 */
sid_status	sid_stretch(const float *in, size_t n, int sample_rate, double time_ratio,
						double semitones, sid_stretch_engine engine, float **out,
						size_t *n_out, sid_error *err);

/*
 * The pitch-only transposed copies of a query, lo .. hi whole semitones
 * (lo <= 0 <= hi, at most SID_TRANSPOSE_MAX_COPIES): copies[k] (malloc'd,
 * n samples each) is the query shifted by lo + k semitones; the unshifted
 * slot is a plain copy.  R3 is exact on a sine, R2 up to 9 cents off at a
 * third of the cost (docs/sample-model.md); which one finds more per
 * millisecond is for the identification's measurement to say.  On failure
 * nothing is left allocated.
 */
sid_status	sid_transpose_copies(const float *in, size_t n, int sample_rate, int lo, int hi,
								 sid_stretch_engine engine, float **copies, sid_error *err);
void		sid_transpose_copies_free(float **copies, int count);

#endif
