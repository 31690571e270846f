/*
 * sid_augment.c - the augmentation chain; see sid_augment.h.
 */
#include "augment/sid_augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment/sid_convolve.h"

struct sid_augment_work
{
	sid_augment_config cfg;
	sid_convolver *conv;
	size_t		max_rir;		/* longest response used (tails beyond are cut) */
	float	   *rir;			/* max_rir */
	float	   *noise;			/* max_len */
};

void
sid_augment_config_default(sid_augment_config *cfg, float sample_rate, size_t max_len)
{
	cfg->sample_rate = sample_rate;
	cfg->max_len = max_len;
	cfg->max_preroll = (size_t) (sample_rate * 1.0f);
	cfg->max_offset_s = 0.25f;
	cfg->p_noise = 0.9f;
	cfg->p_synthetic = 0.3f;
	cfg->snr_min_db = 0.0f;
	cfg->snr_max_db = 20.0f;
	cfg->p_reverb = 0.7f;
	sid_rir_ranges_default(&cfg->rir);
	cfg->n_rirs = 20000;
	cfg->part = SID_PART_TRAIN;
	cfg->p_eq = 0.5f;
	cfg->gain_min_db = -12.0f;
	cfg->gain_max_db = 6.0f;
}

/* The longest response the ranges can draw (see sid_rir_draw). */
static size_t
max_rir_length(const sid_augment_config *cfg)
{
	sid_rir_params p = {
		.rt60_s = cfg->rir.rt60_max_s, .direct_delay_s = 0.03f,
		.n_early = cfg->rir.early_max, .early_span_s = 0.06f, .drr_db = 0
	};

	return sid_rir_length(&p, cfg->sample_rate);
}

sid_augment_work *
sid_augment_work_create(const sid_augment_config *cfg, sid_error *err)
{
	sid_augment_work *w;
	size_t		fft;

	if (!(cfg->sample_rate >= 1000 && cfg->sample_rate <= 384000) || cfg->max_len == 0 ||
		!(cfg->snr_min_db <= cfg->snr_max_db) || !(cfg->rir.rt60_min_s >= 0.01f) ||
		!(cfg->rir.rt60_min_s <= cfg->rir.rt60_max_s) || cfg->rir.rt60_max_s > 20.0f ||
		cfg->rir.early_min < 0 || cfg->rir.early_min > cfg->rir.early_max ||
		cfg->n_rirs == 0 || !(cfg->gain_min_db <= cfg->gain_max_db))
	{
		sid_fail(err, SID_EINVAL, "augment: inconsistent configuration");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
	{
		sid_fail(err, SID_ENOMEM, "augment: out of memory");
		return NULL;
	}
	w->cfg = *cfg;
	w->max_rir = max_rir_length(cfg);
	/*
	 * Only the audio up to one response length before the span reaches it,
	 * so the transform needs max_len + max_rir - 1 points (sid_convolve's
	 * wrap-around rule).  When that is just over a power of two, cutting the
	 * last tenth of the longest tails (60 dB down by then, and longer than
	 * RT60 only for the longest rooms) halves the FFT.
	 */
	fft = 1;
	while (fft < cfg->max_len + w->max_rir - 1)
		fft <<= 1;
	if (fft / 2 > cfg->max_len && fft / 2 - cfg->max_len + 1 >= w->max_rir - w->max_rir / 10)
	{
		fft /= 2;
		w->max_rir = fft - cfg->max_len + 1;
	}
	w->rir = malloc(w->max_rir * sizeof(float));
	w->noise = malloc(cfg->max_len * sizeof(float));
	if (!w->rir || !w->noise)
	{
		sid_augment_work_free(w);
		sid_fail(err, SID_ENOMEM, "augment: out of memory");
		return NULL;
	}
	w->conv = sid_convolver_create(fft, err);
	if (!w->conv)
	{
		sid_augment_work_free(w);
		return NULL;
	}
	return w;
}

void
sid_augment_work_free(sid_augment_work *w)
{
	if (!w)
		return;
	sid_convolver_free(w->conv);
	free(w->rir);
	free(w->noise);
	free(w);
}

long
sid_augment_offset(const sid_augment_config *cfg, sid_rng *rng)
{
	long		max = lroundf(cfg->max_offset_s * cfg->sample_rate);

	return max > 0 ? (long) sid_rng_below(rng, (uint64_t) (2 * max + 1)) - max : 0;
}

static float
log_uniform(sid_rng *rng, float lo, float hi)
{
	return expf(sid_rng_range(rng, logf(lo), logf(hi)));
}

void
sid_augment_draw(const sid_augment_config *cfg, const sid_noise_bank *bank,
				 sid_rng *rng, size_t n, sid_augment_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	/* draw every field whatever is chosen, so one choice does not shift the
	 * random numbers of the others */
	plan->synthetic_kind = (sid_noise_kind) sid_rng_below(rng, SID_NOISE_KINDS);
	plan->noise_seed = sid_rir_seed(cfg->part, (uint32_t) sid_rng_next(rng));
	plan->clip = bank && bank->n ? (size_t) sid_rng_below(rng, bank->n) : 0;
	plan->clip_start = bank && bank->n && bank->lengths[plan->clip] ?
		(size_t) sid_rng_below(rng, bank->lengths[plan->clip]) : 0;
	plan->snr_db = sid_rng_range(rng, cfg->snr_min_db, cfg->snr_max_db);
	plan->rir_index = (uint32_t) sid_rng_below(rng, cfg->n_rirs);
	plan->gain_db = sid_rng_range(rng, cfg->gain_min_db, cfg->gain_max_db);
	(void) n;

	if (sid_rng_uniform(rng) < cfg->p_noise)
		plan->noise = (sid_rng_uniform(rng) < cfg->p_synthetic || !bank || bank->n == 0) ?
			SID_AUG_NOISE_SYNTHETIC : SID_AUG_NOISE_CLIP;
	else
		plan->noise = SID_AUG_NOISE_NONE;
	plan->reverb = sid_rng_uniform(rng) < cfg->p_reverb;

	if (sid_rng_uniform(rng) < cfg->p_eq)
		sid_eq_draw(rng, cfg->sample_rate, &plan->eq);
}

void
sid_eq_draw(sid_rng *rng, float sample_rate, sid_eq_plan *eq)
{
	float		nyq = sample_rate / 2;

	eq->n = 0;
	if (sid_rng_uniform(rng) < 0.5f)
	{
		eq->type[eq->n] = SID_BIQUAD_HIGHPASS;
		eq->f0[eq->n] = log_uniform(rng, 40.0f, 400.0f);
		eq->q[eq->n] = (float) M_SQRT1_2;
		eq->gain_db[eq->n++] = 0;
	}
	if (sid_rng_uniform(rng) < 0.5f)
	{
		eq->type[eq->n] = SID_BIQUAD_LOWPASS;
		eq->f0[eq->n] = log_uniform(rng, fminf(2000.0f, 0.4f * nyq), 0.9f * nyq);
		eq->q[eq->n] = (float) M_SQRT1_2;
		eq->gain_db[eq->n++] = 0;
	}
	for (int bells = (int) sid_rng_below(rng, 3); bells > 0; bells--)
	{
		eq->type[eq->n] = SID_BIQUAD_PEAK;
		eq->f0[eq->n] = log_uniform(rng, 80.0f, 0.8f * nyq);
		eq->q[eq->n] = sid_rng_range(rng, 0.5f, 2.5f);
		eq->gain_db[eq->n++] = sid_rng_range(rng, -9.0f, 9.0f);
	}
}

sid_status
sid_eq_run(const sid_eq_plan *eq, float sample_rate, float *x, size_t n, sid_error *err)
{
	if (eq->n < 0 || eq->n > SID_AUGMENT_MAX_EQ)
		return sid_fail(err, SID_EINVAL, "augment: %d filters in a plan", eq->n);
	for (int f = 0; f < eq->n; f++)
	{
		sid_biquad	bq;
		sid_status	rc = sid_biquad_design(&bq, eq->type[f], eq->f0[f], eq->q[f],
										   eq->gain_db[f], sample_rate, err);

		if (rc != SID_OK)
			return rc;
		sid_biquad_run(&bq, x, n);
	}
	return SID_OK;
}

sid_status
sid_bank_excerpt(const sid_noise_bank *bank, size_t clip, size_t start, float *out, size_t n,
				 sid_error *err)
{
	const float *x;
	size_t		len,
				at;

	if (!bank || clip >= bank->n || bank->lengths[clip] == 0)
		return sid_fail(err, SID_EINVAL, "augment: the plan names clip %zu, the bank has %zu",
						clip, bank ? bank->n : 0);
	x = bank->clips[clip];
	len = bank->lengths[clip];
	at = start % len;
	for (size_t i = 0; i < n; i++)
	{
		out[i] = x[at];
		if (++at == len)
			at = 0;
	}
	return SID_OK;
}

/* The noise of a plan into w->noise[n]; falls back to white noise when the
 * clip excerpt is digital silence (some game sounds have silent stretches). */
static sid_status
make_noise(sid_augment_work *w, const sid_noise_bank *bank, const sid_augment_plan *plan,
		   size_t n, sid_error *err)
{
	sid_rng		rng;

	sid_rng_init(&rng, plan->noise_seed, 0x4E);	/* 'N' */
	if (plan->noise == SID_AUG_NOISE_CLIP)
	{
		sid_status	rc = sid_bank_excerpt(bank, plan->clip, plan->clip_start, w->noise, n, err);

		if (rc != SID_OK)
			return rc;
		if (sid_power(w->noise, n) > 0)
			return SID_OK;
		return sid_noise_synth(w->noise, n, SID_NOISE_WHITE, w->cfg.sample_rate, &rng, err);
	}
	return sid_noise_synth(w->noise, n, plan->synthetic_kind, w->cfg.sample_rate, &rng, err);
}

sid_status
sid_augment_run(sid_augment_work *w, const sid_noise_bank *bank,
				const sid_augment_plan *plan, const float *in, size_t preroll,
				float *out, size_t n, sid_error *err)
{
	const sid_augment_config *cfg = &w->cfg;
	sid_status	rc;

	if (n == 0 || n > cfg->max_len || preroll > cfg->max_preroll)
		return sid_fail(err, SID_ELIMIT, "augment: span of %zu samples after %zu of preroll exceeds %zu / %zu",
						n, preroll, cfg->max_len, cfg->max_preroll);
	if (plan->eq.n < 0 || plan->eq.n > SID_AUGMENT_MAX_EQ)
		return sid_fail(err, SID_EINVAL, "augment: %d filters in a plan", plan->eq.n);

	if (plan->reverb)
	{
		sid_rir_params p;
		sid_rng		rng;
		size_t		len;

		sid_rng_init(&rng, sid_rir_seed(cfg->part, plan->rir_index), 0x52);
		sid_rir_draw(&cfg->rir, &rng, &p);
		len = sid_rir_length(&p, cfg->sample_rate);
		if (len > w->max_rir)
			len = w->max_rir;
		rc = sid_rir_synth(&p, cfg->sample_rate, &rng, w->rir, len, err);
		/* audio more than one response length before the span cannot reach it */
		if (preroll > len - 1)
		{
			in += preroll - (len - 1);
			preroll = len - 1;
		}
		if (rc == SID_OK)
			rc = sid_convolve(w->conv, in, preroll + n, w->rir, len, preroll, out, n, err);
		if (rc != SID_OK)
			return rc;
	}
	else
		memcpy(out, in + preroll, n * sizeof(float));

	rc = sid_eq_run(&plan->eq, cfg->sample_rate, out, n, err);
	if (rc != SID_OK)
		return rc;

	if (plan->noise != SID_AUG_NOISE_NONE)
	{
		rc = make_noise(w, bank, plan, n, err);
		if (rc == SID_OK)
			rc = sid_mix_at_snr(out, w->noise, n, plan->snr_db, NULL, err);
		if (rc != SID_OK)
			return rc;
	}

	if (plan->gain_db != 0)
	{
		float		g = powf(10.0f, plan->gain_db / 20.0f);

		for (size_t i = 0; i < n; i++)
			out[i] *= g;
	}
	return SID_OK;
}

void
sid_augment_describe(const sid_augment_plan *plan, char *buf, size_t size)
{
	int			used;

	used = snprintf(buf, size, "noise=%s snr=%.1fdB reverb=%s eq=%d gain=%.1fdB",
					plan->noise == SID_AUG_NOISE_NONE ? "none" :
					plan->noise == SID_AUG_NOISE_CLIP ? "clip" : sid_noise_kind_name(plan->synthetic_kind),
					plan->snr_db, plan->reverb ? "yes" : "no", plan->eq.n, plan->gain_db);
	if (plan->reverb && used > 0 && (size_t) used < size)
		snprintf(buf + used, size - used, " rir=%u", plan->rir_index);
}
