/*
 * sid_noise.c - synthetic noise and SNR mixing; see sid_noise.h.
 */
#include "augment/sid_noise.h"

#include <math.h>

const char *
sid_noise_kind_name(sid_noise_kind kind)
{
	switch (kind)
	{
		case SID_NOISE_WHITE:
			return "white";
		case SID_NOISE_PINK:
			return "pink";
		case SID_NOISE_BROWN:
			return "brown";
		case SID_NOISE_HUM:
			return "hum";
		default:
			return "?";
	}
}

double
sid_power(const float *x, size_t n)
{
	double		s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double) x[i] * x[i];
	return n ? s / (double) n : 0.0;
}

double
sid_snr_db(const float *signal, const float *noise, size_t n)
{
	return 10.0 * log10(sid_power(signal, n) / sid_power(noise, n));
}

/* Remove the mean and scale to unit RMS. */
static void
normalise(float *x, size_t n)
{
	double		mean = 0,
				p;

	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= (double) n;
	for (size_t i = 0; i < n; i++)
		x[i] = (float) (x[i] - mean);
	p = sid_power(x, n);
	if (p > 0)
	{
		float		g = (float) (1.0 / sqrt(p));

		for (size_t i = 0; i < n; i++)
			x[i] *= g;
	}
}

sid_status
sid_noise_synth(float *out, size_t n, sid_noise_kind kind, float sample_rate,
				sid_rng *rng, sid_error *err)
{
	if (n == 0)
		return sid_fail(err, SID_EINVAL, "noise: zero length");
	if (!(sample_rate >= 1000 && sample_rate <= 384000))
		return sid_fail(err, SID_EINVAL, "noise: sample rate %g out of range", sample_rate);
	switch (kind)
	{
		case SID_NOISE_WHITE:
			for (size_t i = 0; i < n; i++)
				out[i] = sid_rng_normal(rng);
			break;
		case SID_NOISE_PINK:
			{
				/* Kellet's sum of first-order low-passes: within 0.05 dB of
				 * -3 dB/octave over the audio band */
				double		b[7] = {0};

				for (size_t i = 0; i < n; i++)
				{
					double		w = sid_rng_normal(rng);

					b[0] = 0.99886 * b[0] + w * 0.0555179;
					b[1] = 0.99332 * b[1] + w * 0.0750759;
					b[2] = 0.96900 * b[2] + w * 0.1538520;
					b[3] = 0.86650 * b[3] + w * 0.3104856;
					b[4] = 0.55000 * b[4] + w * 0.5329522;
					b[5] = -0.7616 * b[5] - w * 0.0168980;
					out[i] = (float) (b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362);
					b[6] = w * 0.115926;
				}
				break;
			}
		case SID_NOISE_BROWN:
			{
				/* the leak puts the integrator's corner near 10 Hz, so the
				 * walk cannot drift off */
				double		y = 0,
							leak = exp(-2.0 * M_PI * 10.0 / sample_rate);

				for (size_t i = 0; i < n; i++)
				{
					y = leak * y + sid_rng_normal(rng);
					out[i] = (float) y;
				}
				break;
			}
		case SID_NOISE_HUM:
			{
				double		f0 = sid_rng_uniform(rng) < 0.5f ? 50.0 : 60.0;
				double		tilt = sid_rng_range(rng, 0.5f, 2.0f);
				double		amp[8],
							phase[8];

				for (int k = 0; k < 8; k++)
				{
					amp[k] = pow(k + 1, -tilt) * sid_rng_range(rng, 0.5f, 1.0f);
					phase[k] = 2.0 * M_PI * sid_rng_uniform_double(rng);
				}
				/* each harmonic is a phasor rotated once per sample: one
				 * sin/cos per harmonic, not per sample */
				double		re[8],
							im[8],
							rot_re[8],
							rot_im[8];
				int			harmonics = 0;

				while (harmonics < 8 && (harmonics + 1) * f0 < sample_rate / 2)
				{
					double		w = 2.0 * M_PI * (harmonics + 1) * f0 / sample_rate;

					re[harmonics] = cos(phase[harmonics]);
					im[harmonics] = sin(phase[harmonics]);
					rot_re[harmonics] = cos(w);
					rot_im[harmonics] = sin(w);
					harmonics++;
				}
				for (size_t i = 0; i < n; i++)
				{
					double		v = 0;

					for (int k = 0; k < harmonics; k++)
					{
						double		r = re[k] * rot_re[k] - im[k] * rot_im[k];

						im[k] = re[k] * rot_im[k] + im[k] * rot_re[k];
						re[k] = r;
						v += amp[k] * im[k];
					}
					/* a little hiss under the hum, 30 dB down */
					out[i] = (float) (v + 0.03 * sid_rng_normal(rng));
				}
				break;
			}
		default:
			return sid_fail(err, SID_EINVAL, "noise: unknown kind %d", (int) kind);
	}
	normalise(out, n);
	return SID_OK;
}

sid_status
sid_mix_at_snr(float *signal, const float *noise, size_t n, float snr_db,
			   float *gain, sid_error *err)
{
	double		ps = sid_power(signal, n),
				pn = sid_power(noise, n),
				g;

	if (gain)
		*gain = 0;
	if (!isfinite(snr_db))
		return sid_fail(err, SID_EINVAL, "mix: SNR must be finite");
	if (!(pn > 0))
		return sid_fail(err, SID_EINVAL, "mix: the noise is silent");
	if (!(ps > 0))
		return SID_OK;
	g = sqrt(ps / (pn * pow(10.0, snr_db / 10.0)));
	for (size_t i = 0; i < n; i++)
		signal[i] += (float) (g * noise[i]);
	if (gain)
		*gain = (float) g;
	return SID_OK;
}
