/*
 * sid_conditions.c - the sample-identification conditions; see
 * sid_conditions.h.
 */
#include "eval/sid_conditions.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sid_audio.h"
#include "audio/sid_stretch.h"
#include "augment/sid_music.h"

static const char *const group_names[SID_COND_N_GROUPS] = {
	"clean", "pitch", "speed", "tempo", "pitch+tempo", "overlay", "pitch+overlay"
};

/* issue 11, item 5: the sample mode's goals at 10 s */
static const double group_goals[SID_COND_N_GROUPS] = {0, 97, 97, 97, 95, 92, 85};

const char *
sid_condition_group_name(sid_condition_group g)
{
	return g >= 0 && g < SID_COND_N_GROUPS ? group_names[g] : "?";
}

double
sid_condition_group_goal(sid_condition_group g)
{
	return g >= 0 && g < SID_COND_N_GROUPS ? group_goals[g] : 0;
}

static const char *
overlay_name(sid_overlay_source o)
{
	return o == SID_OVERLAY_MUSIC ? "music" : "drums";
}

/* One condition with its name made from what it does. */
static void
add(sid_condition *out, int max, int *n, sid_condition_group g, double semitones,
	double tempo, double speed, sid_overlay_source overlay, float ratio_db)
{
	sid_condition *c;
	char	   *p;
	size_t		left;

	if (*n >= max)
	{
		(*n)++;
		return;
	}
	c = &out[(*n)++];
	memset(c, 0, sizeof(*c));
	c->group = g;
	c->semitones = semitones;
	c->tempo = tempo;
	c->speed = speed;
	c->overlay = overlay;
	c->ratio_db = ratio_db;
	p = c->name;
	left = sizeof(c->name);
	if (g == SID_COND_CLEAN)
		snprintf(p, left, "clean");
	if (semitones != 0)
		snprintf(p, left, "pitch%+g", semitones);
	if (speed != 1)
		snprintf(p + strlen(p), left - strlen(p), "speed%g", speed);
	if (tempo != 1)
		snprintf(p + strlen(p), left - strlen(p), "%stempo%g", *p ? "/" : "", tempo);
	if (overlay != SID_OVERLAY_NONE)
		snprintf(p + strlen(p), left - strlen(p), "%s%s@%gdB", *p ? "/" : "",
				 overlay_name(overlay), ratio_db);
}

int
sid_conditions_default(sid_condition *out, int max)
{
	static const double pitches[] = {-3, -2, -1, 1, 2, 3, -1.5, 1.5, 2.5};
	static const double speeds[] = {0.85, 0.9, 1.1, 1.15};
	static const double tempos[] = {0.8, 0.9, 1.1, 1.2};
	static const double pitch_tempo[][2] = {{2, 0.9}, {-2, 1.1}, {1, 1.2}, {-1, 0.8}};
	static const float ratios[] = {0, 3, 6};
	int			n = 0;

	add(out, max, &n, SID_COND_CLEAN, 0, 1, 1, SID_OVERLAY_NONE, 0);
	for (size_t i = 0; i < sizeof(pitches) / sizeof(pitches[0]); i++)
		add(out, max, &n, SID_COND_PITCH, pitches[i], 1, 1, SID_OVERLAY_NONE, 0);
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
		add(out, max, &n, SID_COND_SPEED, 0, 1, speeds[i], SID_OVERLAY_NONE, 0);
	for (size_t i = 0; i < sizeof(tempos) / sizeof(tempos[0]); i++)
		add(out, max, &n, SID_COND_TEMPO, 0, tempos[i], 1, SID_OVERLAY_NONE, 0);
	for (size_t i = 0; i < sizeof(pitch_tempo) / sizeof(pitch_tempo[0]); i++)
		add(out, max, &n, SID_COND_PITCH_TEMPO, pitch_tempo[i][0], pitch_tempo[i][1], 1,
			SID_OVERLAY_NONE, 0);
	for (int o = SID_OVERLAY_MUSIC; o <= SID_OVERLAY_DRUMS; o++)
		for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++)
			add(out, max, &n, SID_COND_OVERLAY, 0, 1, 1, (sid_overlay_source) o, ratios[i]);
	for (int o = SID_OVERLAY_MUSIC; o <= SID_OVERLAY_DRUMS; o++)
	{
		add(out, max, &n, SID_COND_PITCH_OVERLAY, 2, 1, 1, (sid_overlay_source) o, 3);
		add(out, max, &n, SID_COND_PITCH_OVERLAY, -2, 1, 1, (sid_overlay_source) o, 3);
	}
	return n;
}

int
sid_conditions_select(const char *list, sid_condition *out, int max, sid_error *err)
{
	sid_condition all[64];
	int			n_all = sid_conditions_default(all, 64),
				n = 0;
	char	   *copy = strdup(list ? list : "");

	if (!copy)
		return sid_fail(err, SID_ENOMEM, "conditions: out of memory"), -1;
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
	{
		int			found = 0;

		for (int i = 0; i < n_all; i++)
		{
			if (strcmp(tok, "sample") != 0 && strcmp(tok, all[i].name) != 0 &&
				strcmp(tok, group_names[all[i].group]) != 0)
				continue;
			found = 1;
			if (n == max)
			{
				free(copy);
				return sid_fail(err, SID_ELIMIT, "conditions: more than %d", max), -1;
			}
			out[n++] = all[i];
		}
		if (!found)
		{
			sid_fail(err, SID_EINVAL, "conditions: no condition or group \"%s\" "
					 "(groups: clean, pitch, speed, tempo, pitch+tempo, overlay, pitch+overlay; or sample)",
					 tok);
			free(copy);
			return -1;
		}
	}
	free(copy);
	if (n == 0)
		return sid_fail(err, SID_EINVAL, "conditions: an empty list"), -1;
	return n;
}

/* Reference seconds per query second. */
static double
source_rate(const sid_condition *c)
{
	return c->speed * c->tempo;
}

sid_status
sid_condition_check(const sid_condition *c, sid_error *err)
{
	if (!(c->speed >= 0.5 && c->speed <= SID_CONDITION_MAX_SOURCE) ||
		!(c->tempo >= 0.5 && c->tempo <= SID_CONDITION_MAX_SOURCE) ||
		!(source_rate(c) <= SID_CONDITION_MAX_SOURCE) ||
		!(fabs(c->semitones) <= 12) || !(fabsf(c->ratio_db) <= 60) ||
		c->overlay < SID_OVERLAY_NONE || c->overlay > SID_OVERLAY_DRUMS)
		return sid_fail(err, SID_EINVAL, "condition %s: speed %g, tempo %g (0.5 .. %g), %g semitones "
						"(+-12), ratio %g dB (+-60)", c->name, c->speed, c->tempo,
						SID_CONDITION_MAX_SOURCE, c->semitones, c->ratio_db);
	return SID_OK;
}

size_t
sid_condition_lead(const sid_condition *c, int rate)
{
	return (size_t) ceil(SID_CONDITION_LEAD_SECONDS * rate * source_rate(c));
}

size_t
sid_condition_span(const sid_condition *c, int rate, size_t n)
{
	return 2 * sid_condition_lead(c, rate) + (size_t) ceil((double) n * source_rate(c)) + 1;
}

/* The resampler takes whole rates: the speed is rate_in / rate. */
static sid_status
change_speed(const float *in, size_t n, int rate, double speed, float **out, size_t *n_out,
			 sid_error *err)
{
	int64_t		got = 0;
	sid_status	rc = sid_audio_resample(in, (int64_t) n, (int32_t) lround(rate * speed), rate,
										out, &got, err);

	*n_out = (size_t) got;
	return rc;
}

sid_status
sid_condition_apply(const sid_condition *c, const sid_noise_bank *overlays, size_t clip,
					size_t clip_start, const float *in, int rate, float *out, size_t n,
					sid_error *err)
{
	size_t		span = sid_condition_span(c, rate, n),
				len = span,
				at,
				margin = 0;
	float	   *sped = NULL,
			   *stretched = NULL;
	const float *y = in;
	sid_music_plan plan;
	sid_status	rc;

	if ((rc = sid_condition_check(c, err)) != SID_OK)
		return rc;
	if (c->overlay != SID_OVERLAY_NONE && (!overlays || clip >= overlays->n))
		return sid_fail(err, SID_EINVAL, "condition %s: no overlay clip %zu", c->name, clip);
	memset(&plan, 0, sizeof(plan));
	plan.time_ratio = 1;
	plan.overlay = c->overlay != SID_OVERLAY_NONE;
	plan.clip = clip;
	plan.clip_start = clip_start;
	plan.ratio_db = c->ratio_db;
	if (plan.overlay)
		margin = (sid_music_input_len(&plan, n) - n) / 2;
	if (c->speed != 1)
	{
		if ((rc = change_speed(y, len, rate, c->speed, &sped, &len, err)) != SID_OK)
			return rc;
		y = sped;
	}
	if (c->semitones != 0 || c->tempo != 1)
	{
		rc = sid_stretch(y, len, rate, 1 / c->tempo, c->semitones, SID_STRETCH_FINER, &stretched,
						 &len, err);
		if (rc != SID_OK)
		{
			free(sped);
			return rc;
		}
		y = stretched;
	}
	/* the query starts where the reference's lead ends, in output samples */
	at = (size_t) llround(sid_condition_lead(c, rate) / source_rate(c));
	if (at < margin || at + n + margin > len)
		rc = sid_fail(err, SID_EINVAL, "condition %s: %zu samples made, too few for a query of %zu",
					  c->name, len, n);
	else if (plan.overlay)
	{
		sid_music_config mc;

		sid_music_config_default(&mc, (float) rate, n);
		rc = sid_music_run(&mc, overlays, &plan, y + at - margin, out, n, err);
	}
	else
		memcpy(out, y + at, n * sizeof(float));
	free(sped);
	free(stretched);
	return rc;
}

sid_status
sid_drum_loops_load(sid_noise_store *s, const sid_manifest *overlays, const char *part,
					const char *data_dir, int32_t rate, sid_error *err)
{
	sid_manifest drums;
	sid_status	rc = SID_OK;

	sid_manifest_init(&drums);
	for (size_t i = 0; rc == SID_OK && overlays && i < overlays->n; i++)
	{
		const sid_manifest_entry *e = &overlays->entries[i];
		const char *base = strrchr(e->path, '/');

		base = base ? base + 1 : e->path;
		if (strcmp(e->split, part) == 0 && strncmp(base, "drums-", 6) == 0)
			rc = sid_manifest_add(&drums, e->package, e->path, e->duration_s, e->sample_rate,
								  e->channels, e->split, err);
	}
	if (rc == SID_OK)
		rc = sid_noise_store_load(s, &drums, part, data_dir, rate, err);
	sid_manifest_free(&drums);
	if (rc == SID_OK && s->bank.n == 0)
		rc = sid_fail(err, SID_EINVAL, "no drums-* clips in the overlay manifest's %s part", part);
	return rc;
}
