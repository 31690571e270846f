/*
 * sid_noise.h - synthetic background noise and mixing at a target SNR.
 *
 * SNR here is 10 log10(P_signal / P_noise) with P the mean square over the
 * mixed span: the noise is scaled to hit the target exactly for that span.
 */
#ifndef SID_NOISE_H
#define SID_NOISE_H

#include <stddef.h>

#include "core/sid_error.h"
#include "core/sid_rng.h"

typedef enum sid_noise_kind
{
	SID_NOISE_WHITE,			/* flat spectrum */
	SID_NOISE_PINK,				/* -3 dB per octave */
	SID_NOISE_BROWN,			/* -6 dB per octave (leaky integral of white) */
	SID_NOISE_HUM,				/* mains hum: 50 or 60 Hz and harmonics */
	SID_NOISE_KINDS
} sid_noise_kind;

const char *sid_noise_kind_name(sid_noise_kind kind);

/* Fill out[n] with noise of the given kind, zero mean and unit RMS. */
sid_status	sid_noise_synth(float *out, size_t n, sid_noise_kind kind, float sample_rate,
							sid_rng *rng, sid_error *err);

/* Mean square of x[n] (0 for n == 0). */
double		sid_power(const float *x, size_t n);

/* 10 log10(P(signal) / P(noise)); -inf/+inf at the edges. */
double		sid_snr_db(const float *signal, const float *noise, size_t n);

/*
 * signal[i] += g * noise[i] with g chosen so the added noise sits snr_db below
 * the signal.  A silent signal is left as it is (nothing is below silence);
 * silent noise is an error.  Returns the gain used in *gain (may be NULL).
 */
sid_status	sid_mix_at_snr(float *signal, const float *noise, size_t n, float snr_db,
						   float *gain, sid_error *err);

#endif
