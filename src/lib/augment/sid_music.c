/*
 * sid_music.c - the musical chain of a sample pair; see sid_music.h.
 */
#include "augment/sid_music.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sid_stretch.h"
#include "augment/sid_noise.h"

/* Output samples kept beyond the window each side before cutting it out:
 * rubberband fades in and out at a clip's ends. */
#define EDGE 1024

void
sid_music_config_default(sid_music_config *cfg, float sample_rate, size_t max_len)
{
	cfg->sample_rate = sample_rate;
	cfg->max_len = max_len;
	cfg->p_overlay = 1.0f;
	cfg->ratio_min_db = -10.0f;
	cfg->ratio_max_db = 10.0f;
	cfg->p_transform = 1.0f;
	cfg->p_pitch = 0.5f;
	cfg->max_semitones = 3.0f;
	cfg->stretch_min = 0.7f;
	cfg->stretch_max = 1.5f;
	cfg->p_eq = 0.5f;
	cfg->p_compress = 0.5f;
	cfg->p_distort = 0.15f;
}

sid_status
sid_music_config_check(const sid_music_config *cfg, sid_error *err)
{
	if (!(cfg->sample_rate >= 1000 && cfg->sample_rate <= 384000) || cfg->max_len == 0 ||
		cfg->max_len > SID_STRETCH_MAX_SAMPLES / 8)
		return sid_fail(err, SID_EINVAL, "music: sample rate %g Hz or span %zu samples out of range",
						cfg->sample_rate, cfg->max_len);
	if (!(cfg->ratio_min_db <= cfg->ratio_max_db) || !(fabsf(cfg->ratio_min_db) <= 60) ||
		!(fabsf(cfg->ratio_max_db) <= 60))
		return sid_fail(err, SID_EINVAL, "music: overlay ratios %g .. %g dB", cfg->ratio_min_db,
						cfg->ratio_max_db);
	if (!(cfg->max_semitones >= 0 && cfg->max_semitones <= SID_STRETCH_MAX_SEMITONES) ||
		!(cfg->stretch_min >= SID_STRETCH_MIN_RATIO && cfg->stretch_min <= cfg->stretch_max &&
		  cfg->stretch_max <= SID_STRETCH_MAX_RATIO))
		return sid_fail(err, SID_EINVAL, "music: shifts up to %g semitones, stretches %g .. %g",
						cfg->max_semitones, cfg->stretch_min, cfg->stretch_max);
	return SID_OK;
}

void
sid_music_room_defaults(sid_augment_config *aug, float sample_rate, size_t max_len)
{
	sid_augment_config_default(aug, sample_rate, max_len);
	aug->p_noise = 0.5f;
	aug->snr_min_db = 15.0f;
	aug->snr_max_db = 35.0f;
	aug->p_reverb = 0.3f;
	aug->rir.rt60_max_s = 0.6f;
	aug->p_eq = 0.0f;
	aug->gain_min_db = -6.0f;
	aug->gain_max_db = 3.0f;
}

void
sid_music_draw(const sid_music_config *cfg, const sid_noise_bank *overlays, sid_rng *rng,
			   sid_music_plan *plan)
{
	int			has = overlays && overlays->n;

	memset(plan, 0, sizeof(*plan));
	/* every field is drawn whatever is chosen, so one choice does not shift
	 * the random numbers of the others */
	plan->clip = has ? (size_t) sid_rng_below(rng, overlays->n) : 0;
	plan->clip_start = has && overlays->lengths[plan->clip] ?
		(size_t) sid_rng_below(rng, overlays->lengths[plan->clip]) : 0;
	plan->ratio_db = sid_rng_range(rng, cfg->ratio_min_db, cfg->ratio_max_db);
	plan->semitones = sid_rng_range(rng, -cfg->max_semitones, cfg->max_semitones);
	plan->time_ratio = expf(sid_rng_range(rng, logf(cfg->stretch_min), logf(cfg->stretch_max)));
	plan->threshold_db = sid_rng_range(rng, -24.0f, -6.0f);
	plan->comp_ratio = sid_rng_range(rng, 2.0f, 8.0f);
	plan->drive = sid_rng_range(rng, 1.5f, 6.0f);
	plan->overlay = has && sid_rng_uniform(rng) < cfg->p_overlay;
	if (sid_rng_uniform(rng) < cfg->p_transform)
		plan->transform = sid_rng_uniform(rng) < cfg->p_pitch ? SID_MUSIC_PITCH : SID_MUSIC_STRETCH;
	else
		plan->transform = SID_MUSIC_NONE;
	plan->eq_on = sid_rng_uniform(rng) < cfg->p_eq;
	if (plan->eq_on)
		sid_eq_draw(rng, cfg->sample_rate, &plan->eq);
	plan->compress = sid_rng_uniform(rng) < cfg->p_compress;
	plan->distort = sid_rng_uniform(rng) < cfg->p_distort;
	if (plan->transform != SID_MUSIC_PITCH)
		plan->semitones = 0;
	if (plan->transform != SID_MUSIC_STRETCH)
		plan->time_ratio = 1;
}

size_t
sid_music_input_len(const sid_music_plan *plan, size_t n)
{
	double		r = plan->transform == SID_MUSIC_STRETCH ? plan->time_ratio : 1.0;

	return (size_t) ceil((double) (n + 2 * EDGE) / r);
}

void
sid_compress(float *x, size_t n, float sample_rate, float threshold_db, float ratio)
{
	double		att = exp(-1.0 / (0.005 * sample_rate)),
				rel = exp(-1.0 / (0.080 * sample_rate)),
				env = 0;

	for (size_t i = 0; i < n; i++)
	{
		double		a = fabs((double) x[i]),
					k = a > env ? att : rel,
					level_db;

		env = k * env + (1 - k) * a;
		level_db = 20 * log10(env + 1e-12);
		if (level_db > threshold_db)
			x[i] *= (float) pow(10.0, -(level_db - threshold_db) * (1 - 1 / ratio) / 20);
	}
}

static float
peak(const float *x, size_t n)
{
	float		p = 0;

	for (size_t i = 0; i < n; i++)
		p = fmaxf(p, fabsf(x[i]));
	return p;
}

/*
 * mix[n_in] += the plan's overlay, scaled so that over the input the output
 * window will come from (the centre n_in / r samples) the sample sits
 * ratio_db above it.  A silent sample or overlay excerpt adds nothing.
 */
static sid_status
add_overlay(const sid_noise_bank *overlays, const sid_music_plan *plan, float *mix,
			size_t n_in, size_t n, sid_error *err)
{
	float	   *ovl = malloc(n_in * sizeof(float));
	size_t		core = (size_t) ceil(n / (plan->transform == SID_MUSIC_STRETCH ? plan->time_ratio : 1.0f)),
				at;
	float		g = 0;
	sid_status	rc;

	if (!ovl)
		return sid_fail(err, SID_ENOMEM, "music: out of memory");
	if (core > n_in)
		core = n_in;
	at = (n_in - core) / 2;
	rc = sid_bank_excerpt(overlays, plan->clip, plan->clip_start, ovl, n_in, err);
	if (rc == SID_OK && sid_power(ovl + at, core) > 0 && sid_power(mix + at, core) > 0)
	{
		rc = sid_mix_at_snr(mix + at, ovl + at, core, plan->ratio_db, &g, err);
		for (size_t i = 0; rc == SID_OK && i < n_in; i++)
			if (i < at || i >= at + core)
				mix[i] += g * ovl[i];
	}
	free(ovl);
	return rc;
}

sid_status
sid_music_run(const sid_music_config *cfg, const sid_noise_bank *overlays,
			  const sid_music_plan *plan, const float *in, float *out, size_t n, sid_error *err)
{
	size_t		n_in,
				m;
	float	   *mix,
			   *done = NULL;
	sid_status	rc = SID_OK;

	if (n == 0 || n > cfg->max_len)
		return sid_fail(err, SID_ELIMIT, "music: span of %zu samples (1 .. %zu)", n, cfg->max_len);
	if (plan->transform == SID_MUSIC_STRETCH &&
		!(plan->time_ratio >= SID_STRETCH_MIN_RATIO && plan->time_ratio <= SID_STRETCH_MAX_RATIO))
		return sid_fail(err, SID_EINVAL, "music: time ratio %g in a plan", plan->time_ratio);
	if (plan->distort && !(plan->drive > 0))
		return sid_fail(err, SID_EINVAL, "music: drive %g in a plan", plan->drive);
	n_in = m = sid_music_input_len(plan, n);
	if (!(mix = malloc(n_in * sizeof(float))))
		return sid_fail(err, SID_ENOMEM, "music: out of memory");
	memcpy(mix, in, n_in * sizeof(float));
	if (plan->overlay)
		rc = add_overlay(overlays, plan, mix, n_in, n, err);
	/* the faster engine: a few cents of pitch error do not matter to training */
	if (rc == SID_OK && plan->transform != SID_MUSIC_NONE)
		rc = sid_stretch(mix, n_in, (int) cfg->sample_rate,
						 plan->transform == SID_MUSIC_STRETCH ? plan->time_ratio : 1.0,
						 plan->transform == SID_MUSIC_PITCH ? plan->semitones : 0.0,
						 SID_STRETCH_FASTER, &done, &m, err);
	if (rc == SID_OK)
	{
		const float *src = done ? done : mix;

		/* m >= n + 2 EDGE less rounding; the window is the centre */
		memset(out, 0, n * sizeof(float));
		memcpy(out, src + (m > n ? (m - n) / 2 : 0), (m < n ? m : n) * sizeof(float));
		if (plan->eq_on)
			rc = sid_eq_run(&plan->eq, cfg->sample_rate, out, n, err);
	}
	free(mix);
	free(done);
	if (rc == SID_OK && plan->compress)
		sid_compress(out, n, cfg->sample_rate,
					 20 * log10f(peak(out, n) + 1e-12f) + plan->threshold_db, plan->comp_ratio);
	if (rc == SID_OK && plan->distort)
	{
		/* soft clipping relative to the peak: small signals pass unchanged */
		float		p = peak(out, n);

		for (size_t i = 0; p > 0 && i < n; i++)
			out[i] = p / plan->drive * tanhf(plan->drive * out[i] / p);
	}
	return rc;
}

void
sid_music_describe(const sid_music_plan *plan, char *buf, size_t size)
{
	snprintf(buf, size, "overlay=%s ratio=%.1fdB %s eq=%d compress=%s distort=%s",
			 plan->overlay ? "yes" : "no", plan->ratio_db,
			 plan->transform == SID_MUSIC_PITCH ? "pitch" :
			 plan->transform == SID_MUSIC_STRETCH ? "stretch" : "as-is",
			 plan->eq_on ? plan->eq.n : 0, plan->compress ? "yes" : "no",
			 plan->distort ? "yes" : "no");
	if (plan->transform != SID_MUSIC_NONE && strlen(buf) + 1 < size)
		snprintf(buf + strlen(buf), size - strlen(buf), " semitones=%+.2f time_ratio=%.3f",
				 plan->semitones, plan->time_ratio);
}
