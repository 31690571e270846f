/*
 * sid_biquad.h - second-order IIR filters for band-limiting and equalisation
 * (the Audio EQ Cookbook designs of R. Bristow-Johnson), run in direct form
 * II transposed in double precision.
 */
#ifndef SID_BIQUAD_H
#define SID_BIQUAD_H

#include <stddef.h>

#include "core/sid_error.h"

typedef enum sid_biquad_type
{
	SID_BIQUAD_LOWPASS,
	SID_BIQUAD_HIGHPASS,
	SID_BIQUAD_PEAK,			/* bell: gain_db at f0 */
	SID_BIQUAD_LOWSHELF,
	SID_BIQUAD_HIGHSHELF
} sid_biquad_type;

typedef struct sid_biquad
{
	double		b0,
				b1,
				b2,
				a1,
				a2;				/* normalised so a0 = 1 */
} sid_biquad;

/* f0 in (0, sample_rate / 2), q > 0; gain_db is used by peak and shelves. */
sid_status	sid_biquad_design(sid_biquad *bq, sid_biquad_type type, double f0, double q,
							  double gain_db, double sample_rate, sid_error *err);

/* Filter x[n] in place from rest. */
void		sid_biquad_run(const sid_biquad *bq, float *x, size_t n);

/* The designed magnitude response at f, in dB. */
double		sid_biquad_response_db(const sid_biquad *bq, double f, double sample_rate);

#endif
