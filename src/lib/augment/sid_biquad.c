/*
 * sid_biquad.c - cookbook biquads; see sid_biquad.h.
 */
#include "augment/sid_biquad.h"

#include <complex.h>
#include <math.h>

sid_status
sid_biquad_design(sid_biquad *bq, sid_biquad_type type, double f0, double q,
				  double gain_db, double sample_rate, sid_error *err)
{
	double		w0,
				cw,
				sw,
				alpha,
				A,
				b0,
				b1,
				b2,
				a0,
				a1,
				a2;

	if (!(sample_rate > 0) || !(f0 > 0 && f0 < sample_rate / 2) || !(q > 0) || !isfinite(gain_db))
		return sid_fail(err, SID_EINVAL, "biquad: f0 %g Hz, Q %g, gain %g dB invalid at %g Hz",
						f0, q, gain_db, sample_rate);
	w0 = 2.0 * M_PI * f0 / sample_rate;
	cw = cos(w0);
	sw = sin(w0);
	alpha = sw / (2.0 * q);
	A = pow(10.0, gain_db / 40.0);
	switch (type)
	{
		case SID_BIQUAD_LOWPASS:
			b0 = (1 - cw) / 2;
			b1 = 1 - cw;
			b2 = (1 - cw) / 2;
			a0 = 1 + alpha;
			a1 = -2 * cw;
			a2 = 1 - alpha;
			break;
		case SID_BIQUAD_HIGHPASS:
			b0 = (1 + cw) / 2;
			b1 = -(1 + cw);
			b2 = (1 + cw) / 2;
			a0 = 1 + alpha;
			a1 = -2 * cw;
			a2 = 1 - alpha;
			break;
		case SID_BIQUAD_PEAK:
			b0 = 1 + alpha * A;
			b1 = -2 * cw;
			b2 = 1 - alpha * A;
			a0 = 1 + alpha / A;
			a1 = -2 * cw;
			a2 = 1 - alpha / A;
			break;
		case SID_BIQUAD_LOWSHELF:
			{
				double		sa = 2 * sqrt(A) * alpha;

				b0 = A * ((A + 1) - (A - 1) * cw + sa);
				b1 = 2 * A * ((A - 1) - (A + 1) * cw);
				b2 = A * ((A + 1) - (A - 1) * cw - sa);
				a0 = (A + 1) + (A - 1) * cw + sa;
				a1 = -2 * ((A - 1) + (A + 1) * cw);
				a2 = (A + 1) + (A - 1) * cw - sa;
				break;
			}
		case SID_BIQUAD_HIGHSHELF:
			{
				double		sa = 2 * sqrt(A) * alpha;

				b0 = A * ((A + 1) + (A - 1) * cw + sa);
				b1 = -2 * A * ((A - 1) + (A + 1) * cw);
				b2 = A * ((A + 1) + (A - 1) * cw - sa);
				a0 = (A + 1) - (A - 1) * cw + sa;
				a1 = 2 * ((A - 1) - (A + 1) * cw);
				a2 = (A + 1) - (A - 1) * cw - sa;
				break;
			}
		default:
			return sid_fail(err, SID_EINVAL, "biquad: unknown type %d", (int) type);
	}
	bq->b0 = b0 / a0;
	bq->b1 = b1 / a0;
	bq->b2 = b2 / a0;
	bq->a1 = a1 / a0;
	bq->a2 = a2 / a0;
	return SID_OK;
}

void
sid_biquad_run(const sid_biquad *bq, float *x, size_t n)
{
	double		z1 = 0,
				z2 = 0;

	for (size_t i = 0; i < n; i++)
	{
		double		in = x[i],
					out = bq->b0 * in + z1;

		z1 = bq->b1 * in - bq->a1 * out + z2;
		z2 = bq->b2 * in - bq->a2 * out;
		x[i] = (float) out;
	}
}

double
sid_biquad_response_db(const sid_biquad *bq, double f, double sample_rate)
{
	double complex z = cexp(-I * 2.0 * M_PI * f / sample_rate);	/* z^-1 */
	double complex num = bq->b0 + bq->b1 * z + bq->b2 * z * z;
	double complex den = 1.0 + bq->a1 * z + bq->a2 * z * z;

	return 20.0 * log10(cabs(num / den));
}
