/*
 * sid_rir.c - synthetic room impulse responses; see sid_rir.h.
 */
#include "augment/sid_rir.h"

#include <math.h>
#include <stdlib.h>

/* ln(10^3): amplitude e^(-k t / RT60) has energy 60 dB down at t = RT60 */
#define DECAY_60DB 6.907755278982137

void
sid_rir_ranges_default(sid_rir_ranges *r)
{
	r->rt60_min_s = 0.2f;
	r->rt60_max_s = 1.0f;
	r->drr_min_db = -6.0f;
	r->drr_max_db = 12.0f;
	r->early_min = 2;
	r->early_max = 10;
}

uint64_t
sid_rir_seed(sid_data_part part, uint32_t index)
{
	return ((uint64_t) (part == SID_PART_TEST) << 32) | index;
}

void
sid_rir_draw(const sid_rir_ranges *ranges, sid_rng *rng, sid_rir_params *p)
{
	p->rt60_s = sid_rng_range(rng, ranges->rt60_min_s, ranges->rt60_max_s);
	/* 0.5 - 10 m at 343 m/s */
	p->direct_delay_s = sid_rng_range(rng, 0.0015f, 0.03f);
	p->n_early = ranges->early_min +
		(int) sid_rng_below(rng, (uint64_t) (ranges->early_max - ranges->early_min + 1));
	p->early_span_s = sid_rng_range(rng, 0.01f, 0.06f);
	p->drr_db = sid_rng_range(rng, ranges->drr_min_db, ranges->drr_max_db);
}

size_t
sid_rir_length(const sid_rir_params *p, float sample_rate)
{
	return (size_t) ceil((p->direct_delay_s + p->early_span_s + p->rt60_s) * sample_rate) + 1;
}

sid_status
sid_rir_synth(const sid_rir_params *p, float sample_rate, sid_rng *rng,
			  float *out, size_t len, sid_error *err)
{
	size_t		d0 = (size_t) lround(p->direct_delay_s * sample_rate);
	double		k = DECAY_60DB / (p->rt60_s * sample_rate);	/* per sample */
	double		reverb_energy = 0,
				scale,
				total = 0;

	if (!(p->rt60_s >= 0.01f && p->rt60_s <= 20.0f) || p->n_early < 0 ||
		!(p->early_span_s >= 0) || !(p->direct_delay_s >= 0) || !isfinite(p->drr_db))
		return sid_fail(err, SID_EINVAL, "rir: bad parameters (RT60 %g s)", p->rt60_s);
	if (len <= d0 + 1)
		return sid_fail(err, SID_EINVAL, "rir: %zu samples cannot hold the direct path", len);

	for (size_t i = 0; i < len; i++)
		out[i] = 0;
	/* late tail: starts right after the direct path, decays from it (the
	 * envelope by repeated multiplication: one exp per response, not per
	 * sample) */
	{
		double		decay = exp(-k),
					env = decay;

		for (size_t i = d0 + 1; i < len; i++, env *= decay)
			out[i] = (float) (sid_rng_normal(rng) * env);
	}
	/* early reflections: sparse, stronger than the tail at their time */
	for (int r = 0; r < p->n_early; r++)
	{
		size_t		at = d0 + 1 + (size_t) (sid_rng_uniform(rng) * p->early_span_s * sample_rate);
		double		a = exp(-k * (double) (at - d0)) * sid_rng_range(rng, 1.0f, 4.0f);

		if (at < len)
			out[at] += (float) (sid_rng_uniform(rng) < 0.5f ? -a : a);
	}
	for (size_t i = d0 + 1; i < len; i++)
		reverb_energy += (double) out[i] * out[i];
	/* direct path has energy 1; make the rest 1 / 10^(DRR/10) */
	scale = reverb_energy > 0 ? sqrt(pow(10.0, -p->drr_db / 10.0) / reverb_energy) : 0;
	out[d0] = 1.0f;
	for (size_t i = d0 + 1; i < len; i++)
		out[i] = (float) (out[i] * scale);
	for (size_t i = 0; i < len; i++)
		total += (double) out[i] * out[i];
	scale = 1.0 / sqrt(total);
	for (size_t i = 0; i < len; i++)
		out[i] = (float) (out[i] * scale);
	return SID_OK;
}

sid_status
sid_rir_make(uint64_t seed, const sid_rir_ranges *ranges, float sample_rate,
			 float **out, size_t *len, sid_rir_params *params, sid_error *err)
{
	sid_rng		rng;
	sid_rir_params p;
	sid_status	rc;

	/* stream 0x52 ('R') keeps responses apart from other users of the seed */
	sid_rng_init(&rng, seed, 0x52);
	sid_rir_draw(ranges, &rng, &p);
	*len = sid_rir_length(&p, sample_rate);
	*out = malloc(*len * sizeof(float));
	if (!*out)
		return sid_fail(err, SID_ENOMEM, "rir: out of memory for %zu samples", *len);
	rc = sid_rir_synth(&p, sample_rate, &rng, *out, *len, err);
	if (rc != SID_OK)
	{
		free(*out);
		*out = NULL;
		return rc;
	}
	if (params)
		*params = p;
	return SID_OK;
}

double
sid_rt60_schroeder(const float *h, size_t n, float sample_rate)
{
	double	   *edc;
	double		acc = 0,
				sx = 0,
				sy = 0,
				sxx = 0,
				sxy = 0,
				slope;
	size_t		m = 0;

	if (n < 2)
		return -1;
	edc = malloc(n * sizeof(double));
	if (!edc)
		return -1;
	for (size_t i = n; i-- > 0;)
	{
		acc += (double) h[i] * h[i];
		edc[i] = acc;
	}
	if (!(acc > 0))
	{
		free(edc);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
	{
		double		db = 10.0 * log10(edc[i] / acc + 1e-300);

		if (db <= -5.0 && db >= -25.0)
		{
			double		t = (double) i / sample_rate;

			sx += t;
			sy += db;
			sxx += t * t;
			sxy += t * db;
			m++;
		}
	}
	free(edc);
	if (m < 2)
		return -1;
	slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);	/* dB per second */
	return slope < 0 ? -60.0 / slope : -1;
}
