/*
 * test_conditions.c - the sample conditions of sampleid eval (eval/
 * sid_conditions.h) with known answers: a speed or tempo condition's query
 * holds the stated span of the reference (two onsets apart by 1 / rate,
 * within 1 %) and starts at the reference time of the lead's end; a pitch
 * condition moves a tone by the stated cents and keeps the timing; an
 * overlay lands at its ratio over the query (within 0.1 dB), also over a
 * transposed sample; the standard list, selection by name and group, and
 * bad conditions refused.
 */
#include <stdlib.h>
#include <string.h>

#include "augment/sid_noise.h"
#include "eval/sid_conditions.h"
#include "tap.h"
#include "tone_measure.h"

#define SR 16000

/* The standard condition called name. */
static sid_condition
named(const char *name)
{
	sid_condition c;
	sid_error	err;

	memset(&c, 0, sizeof(c));
	if (sid_conditions_select(name, &c, 1, &err) != 1)
		CHECK(0, "select %s: %s", name, err.msg);
	return c;
}

/*
 * Reference audio with 0.1 s bursts of 1 kHz at `lead` + 0.5 s and + 2.5 s
 * (reference time from the query's start), long enough for the condition.
 */
static float *
bursts(const sid_condition *c, size_t n)
{
	size_t		span = sid_condition_span(c, SR, n),
				lead = sid_condition_lead(c, SR);
	float	   *x = calloc(span, sizeof(float));

	for (size_t i = 0; i < SR / 10; i++)
	{
		x[lead + SR / 2 + i] = (float) (0.5 * sin(2 * M_PI * 1000.0 * i / SR));
		x[lead + 5 * SR / 2 + i] = x[lead + SR / 2 + i];
	}
	return x;
}

static void
test_timing(const char *name, double rate)
{
	sid_condition c = named(name);
	size_t		n = 4 * SR;
	float	   *x = bursts(&c, n),
			   *y = malloc(n * sizeof(float));
	sid_error	err;
	double		a,
				b;

	if (sid_condition_apply(&c, NULL, 0, 0, x, SR, y, n, &err) != SID_OK)
		CHECK(0, "%s: %s", name, err.msg);
	else
	{
		a = tone_onset(y, 0, n, SR, 0.25 / M_SQRT2);
		b = tone_onset(y, (size_t) (a + 1.0 / rate * SR), n, SR, 0.25 / M_SQRT2);
		CHECK(a >= 0 && b > a && fabs((b - a) / SR - 2.0 / rate) <= 0.01 * 2.0 / rate,
			  "%s: onsets %.4f s apart in the query (want %.4f: 2 s of reference at %g x)",
			  name, (b - a) / SR, 2.0 / rate, rate);
		CHECK(fabs(a / SR - 0.5 / rate) <= 0.01,
			  "%s: the first onset at %.4f s (want %.4f): the query starts at the lead's end",
			  name, a / SR, 0.5 / rate);
	}
	free(x);
	free(y);
}

static void
test_pitch(void)
{
	sid_condition c = named("pitch+2");
	size_t		n = 2 * SR,
				span = sid_condition_span(&c, SR, n);
	float	   *x = malloc(span * sizeof(float)),
			   *y = malloc(n * sizeof(float));
	sid_error	err;

	for (size_t i = 0; i < span; i++)
		x[i] = (float) (0.4 * sin(2 * M_PI * 440.0 * i / SR));
	if (sid_condition_apply(&c, NULL, 0, 0, x, SR, y, n, &err) != SID_OK)
		CHECK(0, "pitch+2: %s", err.msg);
	else
	{
		double		f = tone_frequency(y, SR / 4, n - SR / 4, SR),
					cents = 1200 * log2(f / 440.0);

		CHECK(fabs(cents - 200) <= 1, "pitch+2 (R3): 440 Hz moves %.2f cents (want 200 within 1)", cents);
	}
	free(x);
	free(y);
}

/* The overlay's ratio over the query, against the condition without it. */
static void
test_overlay(const char *name, const char *without, const sid_noise_bank *bank)
{
	sid_condition c = named(name),
				bare = named(without);
	size_t		n = 2 * SR,
				span = sid_condition_span(&c, SR, n);
	float	   *x = malloc(span * sizeof(float)),
			   *mix = malloc(n * sizeof(float)),
			   *sample = malloc(n * sizeof(float));
	sid_error	err;

	for (size_t i = 0; i < span; i++)
		x[i] = (float) (0.3 * sin(2 * M_PI * 220.0 * i / SR) + 0.1 * sin(2 * M_PI * 660.0 * i / SR));
	if (sid_condition_apply(&c, bank, 0, 123, x, SR, mix, n, &err) != SID_OK ||
		sid_condition_apply(&bare, bank, 0, 0, x, SR, sample, n, &err) != SID_OK)
		CHECK(0, "%s: %s", name, err.msg);
	else
	{
		double		got;

		for (size_t i = 0; i < n; i++)
			mix[i] -= sample[i];
		got = sid_snr_db(sample, mix, n);
		CHECK_NEAR(got, c.ratio_db, 0.1, "%s: the overlay %.3f dB below the sample (want %g)",
				   name, got, c.ratio_db);
	}
	free(x);
	free(mix);
	free(sample);
}

static void
test_lists(void)
{
	sid_condition all[64],
				some[64];
	sid_error	err;
	int			n = sid_conditions_default(all, 64),
				unique = 1,
				groups[SID_COND_N_GROUPS] = {0};

	for (int i = 0; i < n; i++)
	{
		groups[all[i].group]++;
		for (int j = 0; j < i; j++)
			unique &= strcmp(all[i].name, all[j].name) != 0;
	}
	CHECK(n == 32 && unique, "list: %d conditions, names unique", n);
	CHECK(groups[SID_COND_PITCH] == 9 && groups[SID_COND_SPEED] == 4 && groups[SID_COND_TEMPO] == 4 &&
		  groups[SID_COND_PITCH_TEMPO] == 4 && groups[SID_COND_OVERLAY] == 6 &&
		  groups[SID_COND_PITCH_OVERLAY] == 4,
		  "list: 9 pitch, 4 speed, 4 tempo, 4 pitch+tempo, 6 overlay, 4 pitch+overlay");
	CHECK(sid_conditions_select("pitch,speed0.9,pitch+2/music@3dB", some, 64, &err) == 11 &&
		  strcmp(some[9].name, "speed0.9") == 0 && some[10].semitones == 2 &&
		  some[10].overlay == SID_OVERLAY_MUSIC && some[10].ratio_db == 3,
		  "select: a group and two names give 11, in the order asked");
	CHECK(sid_conditions_select("sample", some, 64, &err) == 32, "select: sample is every condition");
	CHECK(sid_conditions_select("pitch+7", some, 64, &err) == -1 && err.code == SID_EINVAL &&
		  strstr(err.msg, "pitch+7"), "select: an unknown name refused: %s", err.msg);
	CHECK(sid_conditions_select("sample", some, 8, &err) == -1 && err.code == SID_ELIMIT,
		  "select: more than the room refused: %s", err.msg);
	CHECK(sid_condition_group_goal(SID_COND_PITCH_OVERLAY) == 85 &&
		  strcmp(sid_condition_group_name(SID_COND_PITCH_TEMPO), "pitch+tempo") == 0,
		  "groups: pitch+overlay's goal 85 %%, names");
}

static void
test_refused(void)
{
	sid_condition c = named("speed1.15");
	float		x[4] = {0},
				y[4];
	sid_error	err;

	c.speed = 1.3;
	CHECK(sid_condition_check(&c, &err) == SID_EINVAL, "check: speed 1.3 refused: %s", err.msg);
	c = named("tempo0.8");
	c.tempo = 0.4;
	CHECK(sid_condition_check(&c, &err) == SID_EINVAL, "check: tempo 0.4 refused");
	c = named("music@0dB");
	CHECK(sid_condition_apply(&c, NULL, 0, 0, x, SR, y, 1, &err) == SID_EINVAL,
		  "apply: an overlay without clips refused: %s", err.msg);
}

int
main(void)
{
	size_t		clip_len = 3 * SR;
	float	   *clip = malloc(clip_len * sizeof(float));
	const float *clips[1] = {clip};
	sid_noise_bank bank = {clips, &clip_len, 1};
	sid_rng		rng;

	sid_rng_init(&rng, 11, 0);
	for (size_t i = 0; i < clip_len; i++)
		clip[i] = 0.2f * sid_rng_normal(&rng);
	test_lists();
	test_timing("clean", 1.0);
	test_timing("speed0.9", 0.9);
	test_timing("speed1.15", 1.15);
	test_timing("tempo1.2", 1.2);
	test_timing("tempo0.8", 0.8);
	test_timing("pitch-2/tempo1.1", 1.1);
	test_timing("pitch+2", 1.0);
	test_pitch();
	test_overlay("music@3dB", "clean", &bank);
	test_overlay("drums@0dB", "clean", &bank);
	test_overlay("pitch-2/drums@3dB", "pitch-2", &bank);
	test_refused();
	free(clip);
	return tap_done();
}
