/*
 * test_music.c - the musical chain (augment/sid_music.h) with known answers:
 * an overlay meets its sample-to-overlay ratio (within 0.1 dB); a pitch
 * shift in the chain moves a sine by the stated cents and a stretch moves two
 * onsets apart by the ratio around the window's centre; the compressor's
 * static curve; the soft clipper's peak; the draws stay in their ranges and
 * are reproducible; bad plans are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "augment/sid_music.h"
#include "augment/sid_noise.h"
#include "tap.h"
#include "tone_measure.h"

#define SR 16000

static void
plain_plan(sid_music_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->time_ratio = 1;
}

static void
test_overlay(const sid_music_config *cfg, const sid_noise_bank *bank)
{
	const float ratios[] = {-10, -3.5f, 0, 6, 10};
	size_t		n = 2 * SR;
	sid_music_plan plan;
	float	   *in,
			   *out = malloc(n * sizeof(float));
	size_t		n_in;
	sid_error	err;

	plain_plan(&plan);
	plan.overlay = 1;
	plan.clip_start = 777;
	n_in = sid_music_input_len(&plan, n);
	in = malloc(n_in * sizeof(float));
	for (size_t i = 0; i < n_in; i++)
		in[i] = (float) (0.3 * sin(2 * M_PI * 220 * i / SR) + 0.1 * sin(2 * M_PI * 660 * i / SR));
	for (size_t k = 0; k < sizeof(ratios) / sizeof(ratios[0]); k++)
	{
		double		got;

		plan.ratio_db = ratios[k];
		if (sid_music_run(cfg, bank, &plan, in, out, n, &err) != SID_OK)
		{
			CHECK(0, "overlay: %s", err.msg);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			out[i] -= in[(n_in - n) / 2 + i];
		got = sid_snr_db(in + (n_in - n) / 2, out, n);
		CHECK_NEAR(got, ratios[k], 0.1, "overlay at %+.1f dB measures %+.3f dB", ratios[k], got);
	}
	free(in);
	free(out);
}

static void
test_pitch_in_chain(const sid_music_config *cfg)
{
	size_t		n = 2 * SR,
				n_in;
	sid_music_plan plan;
	float	   *in,
			   *out = malloc(n * sizeof(float));
	sid_error	err;
	double		c;

	plain_plan(&plan);
	plan.transform = SID_MUSIC_PITCH;
	plan.semitones = -2;
	n_in = sid_music_input_len(&plan, n);
	in = malloc(n_in * sizeof(float));
	for (size_t i = 0; i < n_in; i++)
		in[i] = (float) (0.5 * sin(2 * M_PI * 440 * i / SR));
	CHECK(sid_music_run(cfg, NULL, &plan, in, out, n, &err) == SID_OK, "pitch: chain ran");
	c = 1200 * log2(tone_frequency(out, SR / 4, n - SR / 4, SR) / 440);
	/* the chain uses rubberband's faster engine: up to 9 cents off on a sine */
	CHECK(fabs(c + 200) <= 10, "pitch: -2 st in the chain moves 440 Hz by %+.1f cents", c);
	free(in);
	free(out);
}

static void
test_stretch_in_chain(const sid_music_config *cfg)
{
	size_t		n = 3 * SR,
				n_in,
				mid;
	sid_music_plan plan;
	float	   *in,
			   *out = malloc(n * sizeof(float));
	sid_error	err;
	double		a,
				b;

	plain_plan(&plan);
	plan.transform = SID_MUSIC_STRETCH;
	plan.time_ratio = 1.5f;
	n_in = sid_music_input_len(&plan, n);
	CHECK(n_in == (size_t) ceil((n + 2048) / 1.5), "stretch: %zu input samples for %zu out", n_in, n);
	in = calloc(n_in, sizeof(float));
	/* bursts 0.4 s before and 0.6 s after the input's centre */
	mid = n_in / 2;
	for (size_t i = 0; i < SR / 10; i++)
	{
		in[mid - 2 * SR / 5 + i] = (float) (0.5 * sin(2 * M_PI * 1000.0 * i / SR));
		in[mid + 3 * SR / 5 + i] = in[mid - 2 * SR / 5 + i];
	}
	CHECK(sid_music_run(cfg, NULL, &plan, in, out, n, &err) == SID_OK, "stretch: chain ran");
	a = tone_onset(out, 0, n, SR, 0.25 / M_SQRT2);
	b = tone_onset(out, (size_t) (a + SR), n, SR, 0.25 / M_SQRT2);
	CHECK(a >= 0 && fabs((b - a) / SR - 1.5) <= 0.015,
		  "stretch: onsets 1 s apart come out %.3f s apart (want 1.500)", (b - a) / SR);
	CHECK(fabs((a - n / 2.0) / SR + 0.6) <= 0.02,
		  "stretch: the window is the centre (first onset %.3f s before it, want 0.600)",
		  (n / 2.0 - a) / SR);
	free(in);
	free(out);
}

static void
test_compressor(void)
{
	const float levels[] = {0.5f, 0.2f, 0.05f};
	float		x[SR];

	for (size_t k = 0; k < 3; k++)
	{
		double		in_db = 20 * log10(levels[k]),
					want = in_db > -20 ? -20 + (in_db + 20) / 4 : in_db,
					got;

		for (size_t i = 0; i < SR; i++)
			x[i] = levels[k];
		sid_compress(x, SR, SR, -20, 4);
		got = 20 * log10(x[SR - 1]);
		CHECK_NEAR(got, want, 0.1, "compressor 4:1 at -20 dBFS: %.1f dB in, %.2f dB out (want %.2f)",
				   in_db, got, want);
	}
}

static void
test_distortion(const sid_music_config *cfg)
{
	size_t		n = SR,
				n_in;
	sid_music_plan plan;
	float	   *in,
			   *out = malloc(n * sizeof(float));
	float		p = 0;
	sid_error	err;

	plain_plan(&plan);
	plan.distort = 1;
	plan.drive = 4;
	n_in = sid_music_input_len(&plan, n);
	in = malloc(n_in * sizeof(float));
	for (size_t i = 0; i < n_in; i++)
		in[i] = (float) (0.8 * sin(2 * M_PI * 250 * i / SR));
	sid_music_run(cfg, NULL, &plan, in, out, n, &err);
	for (size_t i = 0; i < n; i++)
		p = fmaxf(p, fabsf(out[i]));
	CHECK_NEAR(p / 0.8, tanh(4.0) / 4, 1e-3, "distortion: drive 4 brings the peak to %.4f of itself", p / 0.8);
	plan.drive = 0;
	CHECK(sid_music_run(cfg, NULL, &plan, in, out, n, &err) == SID_EINVAL, "distortion: drive 0 refused: %s",
		  err.msg);
	free(in);
	free(out);
}

static void
test_draws(const sid_music_config *cfg, const sid_noise_bank *bank)
{
	sid_rng		rng;
	sid_music_plan a,
				b;
	int			pitch = 0,
				stretch = 0,
				in_range = 1,
				same = 1;

	for (int k = 0; k < 1000; k++)
	{
		sid_rng_init(&rng, 9, (uint64_t) k);
		sid_music_draw(cfg, bank, &rng, &a);
		sid_rng_init(&rng, 9, (uint64_t) k);
		sid_music_draw(cfg, bank, &rng, &b);
		same &= memcmp(&a, &b, sizeof(a)) == 0;
		pitch += a.transform == SID_MUSIC_PITCH;
		stretch += a.transform == SID_MUSIC_STRETCH;
		in_range &= a.overlay && a.ratio_db >= -10 && a.ratio_db <= 10 &&
			fabsf(a.semitones) <= 3 && a.time_ratio >= 0.7f && a.time_ratio <= 1.5f &&
			(a.transform != SID_MUSIC_PITCH || a.time_ratio == 1) &&
			(a.transform != SID_MUSIC_STRETCH || a.semitones == 0);
	}
	CHECK(same, "draws: a seed and stream give the same plan");
	CHECK(in_range, "draws: overlay always, ratio within +-10 dB, +-3 st or 0.7 .. 1.5, one at a time");
	CHECK(pitch + stretch == 1000 && pitch > 430 && pitch < 570,
		  "draws: every pair is shifted or stretched, %d pitch / %d stretch", pitch, stretch);
}

int
main(void)
{
	sid_music_config cfg;
	sid_music_config bad;
	float		clip[3000];
	const float *clips[] = {clip};
	size_t		lengths[] = {3000};
	sid_noise_bank bank = {clips, lengths, 1};
	sid_rng		rng;
	sid_error	err;

	/* a drum-like loop shorter than the span: decaying noise hits */
	sid_rng_init(&rng, 4, 0);
	for (size_t i = 0; i < 3000; i++)
		clip[i] = sid_rng_normal(&rng) * expf(-(float) (i % 1000) / 150.0f);
	sid_music_config_default(&cfg, SR, 4 * SR);
	CHECK(sid_music_config_check(&cfg, &err) == SID_OK, "config: the defaults are valid");
	bad = cfg;
	bad.stretch_min = 0.1f;
	CHECK(sid_music_config_check(&bad, &err) == SID_EINVAL, "config: a stretch of 0.1 refused: %s", err.msg);

	test_overlay(&cfg, &bank);
	test_pitch_in_chain(&cfg);
	test_stretch_in_chain(&cfg);
	test_compressor();
	test_distortion(&cfg);
	test_draws(&cfg, &bank);
	{
		sid_music_plan plan;
		float		x[8] = {0};

		plain_plan(&plan);
		plan.transform = SID_MUSIC_STRETCH;
		plan.time_ratio = 0;
		CHECK(sid_music_run(&cfg, NULL, &plan, x, x, 8, &err) == SID_EINVAL,
			  "plan: a time ratio of 0 refused: %s", err.msg);
		plain_plan(&plan);
		CHECK(sid_music_run(&cfg, NULL, &plan, x, x, 5 * SR, &err) == SID_ELIMIT,
			  "plan: a span over max_len refused: %s", err.msg);
	}
	return tap_done();
}
