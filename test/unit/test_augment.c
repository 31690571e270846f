/*
 * test_augment.c - augmentation with known answers: SNR of a mix, RT60 of a
 * synthesised room by Schroeder integration, convolution against the direct
 * sum, filter responses measured on sines, noise spectra, determinism.
 */
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "augment/sid_augment.h"
#include "augment/sid_convolve.h"
#include "core/sid_fft_lock.h"
#include "tap.h"

#define SR 16000.0f

static void
test_snr(void)
{
	size_t		n = 16000;
	float	   *s = malloc(n * sizeof(float));
	float	   *mix = malloc(n * sizeof(float));
	float	   *noise = malloc(n * sizeof(float));
	float	   *diff = malloc(n * sizeof(float));
	sid_rng		rng;
	sid_error	err;
	const float targets[] = {0, 5, 10, 15, 20, -3};

	sid_rng_init(&rng, 1, 0);
	for (size_t i = 0; i < n; i++)
		s[i] = 0.3f * sinf(2 * (float) M_PI * 440 * i / SR) + 0.1f * sid_rng_normal(&rng);
	for (int k = 0; k < SID_NOISE_KINDS; k++)
	{
		double		worst = 0;

		CHECK(sid_noise_synth(noise, n, (sid_noise_kind) k, SR, &rng, &err) == SID_OK,
			  "noise: %s synthesised", sid_noise_kind_name(k));
		CHECK_NEAR(sid_power(noise, n), 1.0, 1e-3, "noise: %s has unit power", sid_noise_kind_name(k));
		for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++)
		{
			double		measured;

			memcpy(mix, s, n * sizeof(float));
			sid_mix_at_snr(mix, noise, n, targets[t], NULL, &err);
			for (size_t i = 0; i < n; i++)
				diff[i] = mix[i] - s[i];
			measured = sid_snr_db(s, diff, n);
			if (fabs(measured - targets[t]) > worst)
				worst = fabs(measured - targets[t]);
		}
		CHECK(worst <= 0.1, "mix: %s noise, measured SNR within %.4f dB of 0/5/10/15/20/-3 dB targets",
			  sid_noise_kind_name(k), worst);
	}
	memset(mix, 0, n * sizeof(float));
	CHECK(sid_mix_at_snr(mix, noise, n, 10, NULL, &err) == SID_OK && sid_power(mix, n) == 0,
		  "mix: silence stays silent");
	memset(noise, 0, n * sizeof(float));
	CHECK(sid_mix_at_snr(s, noise, n, 10, NULL, &err) == SID_EINVAL, "mix: silent noise is an error");
	free(s);
	free(mix);
	free(noise);
	free(diff);
}

/* Power of x[n] between f_lo and f_hi, in dB (Hann-windowed periodogram). */
static double
band_db(const float *x, size_t n, double f_lo, double f_hi)
{
	float	   *in = fftwf_alloc_real(n);
	fftwf_complex *spec = fftwf_alloc_complex(n / 2 + 1);
	fftwf_plan	plan;
	double		p = 0;

	sid_fftw_planner_lock();
	plan = fftwf_plan_dft_r2c_1d((int) n, in, spec, FFTW_ESTIMATE);
	sid_fftw_planner_unlock();
	/* a Hann window keeps a strong tone's leakage out of distant bands */
	for (size_t i = 0; i < n; i++)
		in[i] = x[i] * (float) (0.5 - 0.5 * cos(2 * M_PI * i / n));
	fftwf_execute(plan);
	for (size_t k = 0; k <= n / 2; k++)
	{
		double		f = (double) k * SR / n;

		if (f >= f_lo && f < f_hi)
			p += (double) spec[k][0] * spec[k][0] + (double) spec[k][1] * spec[k][1];
	}
	sid_fftw_planner_lock();
	fftwf_destroy_plan(plan);
	sid_fftw_planner_unlock();
	fftwf_free(in);
	fftwf_free(spec);
	return 10 * log10(p);
}

static void
test_noise_spectra(void)
{
	size_t		n = 1 << 17;
	float	   *x = malloc(n * sizeof(float));
	sid_rng		rng;
	sid_error	err;
	/* octave 250-500 Hz against octave 2-4 kHz: three octaves apart */
	struct
	{
		sid_noise_kind kind;
		double		want_db;
	}			cases[] = {{SID_NOISE_WHITE, -9.03}, {SID_NOISE_PINK, 0.0}, {SID_NOISE_BROWN, 9.03}};

	sid_rng_init(&rng, 2, 0);
	for (size_t c = 0; c < 3; c++)
	{
		double		d;

		sid_noise_synth(x, n, cases[c].kind, SR, &rng, &err);
		d = band_db(x, n, 250, 500) - band_db(x, n, 2000, 4000);
		CHECK_NEAR(d, cases[c].want_db, 1.0, "noise: %s, octave 250 Hz minus octave 2 kHz = %.2f dB (want %.1f)",
				   sid_noise_kind_name(cases[c].kind), d, cases[c].want_db);
	}
	sid_noise_synth(x, n, SID_NOISE_HUM, SR, &rng, &err);
	{
		double		mains = fmax(band_db(x, n, 49, 51), band_db(x, n, 59, 61));
		double		between = band_db(x, n, 70, 90);

		CHECK(mains - between > 30, "noise: hum concentrates at 50 or 60 Hz (%.1f dB above 70-90 Hz)",
			  mains - between);
	}
	free(x);
}

static void
test_rir(void)
{
	const float rt60s[] = {0.3f, 0.6f, 1.0f};
	const float drrs[] = {0.0f, 10.0f};
	sid_rir_ranges ranges;
	float	   *a,
			   *b;
	size_t		na,
				nb;
	sid_error	err;

	for (size_t r = 0; r < 3; r++)
		for (size_t d = 0; d < 2; d++)
		{
			sid_rir_params p = {.rt60_s = rt60s[r], .direct_delay_s = 0.01f, .n_early = 6,
			.early_span_s = 0.04f, .drr_db = drrs[d]};
			size_t		n = sid_rir_length(&p, SR);
			float	   *h = malloc(n * sizeof(float));
			sid_rng		rng;
			double		rt,
						direct;

			sid_rng_init(&rng, 3 + r, d);
			CHECK(sid_rir_synth(&p, SR, &rng, h, n, &err) == SID_OK, "rir: RT60 %.1f s synthesised", p.rt60_s);
			rt = sid_rt60_schroeder(h, n, SR);
			CHECK(fabs(rt - p.rt60_s) <= 0.1 * p.rt60_s,
				  "rir: Schroeder RT60 %.3f s for requested %.2f s, DRR %.0f dB (within 10%%)",
				  rt, p.rt60_s, p.drr_db);
			CHECK_NEAR(sid_power(h, n) * n, 1.0, 1e-3, "rir: unit energy");
			direct = (double) h[160] * h[160];
			CHECK_NEAR(10 * log10(direct / (1 - direct)), p.drr_db, 0.05,
					   "rir: direct-to-reverberant ratio %.2f dB", p.drr_db);
			free(h);
		}

	sid_rir_ranges_default(&ranges);
	sid_rir_make(sid_rir_seed(SID_PART_TRAIN, 5), &ranges, SR, &a, &na, NULL, &err);
	sid_rir_make(sid_rir_seed(SID_PART_TRAIN, 5), &ranges, SR, &b, &nb, NULL, &err);
	CHECK(na == nb && memcmp(a, b, na * sizeof(float)) == 0, "rir: a seed gives the same response");
	free(b);
	sid_rir_make(sid_rir_seed(SID_PART_TEST, 5), &ranges, SR, &b, &nb, NULL, &err);
	CHECK(na != nb || memcmp(a, b, na * sizeof(float)) != 0, "rir: test response 5 is not train response 5");
	CHECK(sid_rir_seed(SID_PART_TRAIN, UINT32_MAX) < sid_rir_seed(SID_PART_TEST, 0),
		  "rir: train and test seed ranges are disjoint");
	free(a);
	free(b);
}

static void
test_convolution(void)
{
	size_t		nx = 3000,
				nh = 700;
	float	   *x = malloc(nx * sizeof(float));
	float	   *h = malloc(nh * sizeof(float));
	float	   *y = malloc((nx + nh) * sizeof(float));
	float		delta[5] = {1, 0, 0, 0, 0};
	sid_convolver *c;
	sid_rng		rng;
	sid_error	err;
	double		worst = 0;

	sid_rng_init(&rng, 4, 0);
	for (size_t i = 0; i < nx; i++)
		x[i] = sid_rng_normal(&rng);
	for (size_t i = 0; i < nh; i++)
		h[i] = sid_rng_normal(&rng) * expf(-(float) i / 100);
	c = sid_convolver_create(nx + nh - 1, &err);
	CHECK(c != NULL && sid_convolver_size(c) == 4096, "convolve: 3699 samples plan a 4096-point FFT");

	sid_convolve(c, x, nx, delta, 5, 0, y, nx, &err);
	for (size_t i = 0; i < nx; i++)
		worst = fmax(worst, fabs(y[i] - x[i]));
	CHECK(worst < 1e-5, "convolve: a unit impulse is the identity (max error %.2g)", worst);

	sid_convolve(c, x, nx, h, nh, 0, y, nx + nh - 1, &err);
	worst = 0;
	for (size_t i = 0; i < nx + nh - 1; i++)
	{
		double		s = 0;

		for (size_t j = 0; j < nh; j++)
			if (i >= j && i - j < nx)
				s += (double) x[i - j] * h[j];
		worst = fmax(worst, fabs(y[i] - s));
	}
	CHECK(worst < 1e-3, "convolve: equals the direct sum over all %zu samples (max error %.2g)",
		  nx + nh - 1, worst);
	{
		float		skipped[100];

		sid_convolve(c, x, nx, h, nh, 1000, skipped, 100, &err);
		CHECK(memcmp(skipped, y + 1000, sizeof(skipped)) == 0, "convolve: skip selects the later span");
	}
	CHECK(sid_convolve(c, x, nx, h, 2000, 0, y, 10, &err) == SID_ELIMIT,
		  "convolve: input beyond the planned size is refused");
	sid_convolver_free(c);

	/* a 2048-point transform for 1800 + 700 - 1 = 2499 samples: exact for
	 * the span from 2499 - 2048 = 451 on, up to 2048 */
	c = sid_convolver_create(2048, &err);
	{
		float		part[1200];

		worst = 0;
		CHECK(sid_convolve(c, x, 1800, h, nh, 600, part, 1200, &err) == SID_OK,
			  "convolve: a span clear of the wrap-around is accepted");
		for (size_t i = 0; i < 1200; i++)
		{
			double		s = 0;

			for (size_t j = 0; j < nh; j++)
				if (600 + i >= j && 600 + i - j < 1800)
					s += (double) x[600 + i - j] * h[j];
			worst = fmax(worst, fabs(part[i] - s));
		}
		CHECK(worst < 1e-3, "convolve: the wrapped transform's span equals the direct sum (max error %.2g)", worst);
		CHECK(sid_convolve(c, x, 1800, h, nh, 400, part, 1200, &err) == SID_ELIMIT,
			  "convolve: a span reaching into the wrap-around is refused");
	}
	sid_convolver_free(c);
	free(x);
	free(h);
	free(y);
}

/* Steady-state gain in dB of a biquad on a sine of frequency f. */
static double
measured_gain_db(const sid_biquad *bq, double f)
{
	size_t		n = 32000,
				settle = 16000;
	float	   *x = malloc(n * sizeof(float));
	double		pin = 0,
				pout = 0;

	for (size_t i = 0; i < n; i++)
		x[i] = (float) sin(2 * M_PI * f * i / SR);
	for (size_t i = settle; i < n; i++)
		pin += (double) x[i] * x[i];
	sid_biquad_run(bq, x, n);
	for (size_t i = settle; i < n; i++)
		pout += (double) x[i] * x[i];
	free(x);
	return 10 * log10(pout / pin);
}

/*
 * A Q = 1/sqrt(2) cookbook low/high-pass is the bilinear-transformed
 * second-order Butterworth: |H|^2 = 1 / (1 + (tan(pi f / fs) / tan(pi f0 / fs))^4)
 * (and the complement for the high-pass), warped frequencies included.
 */
#define WARP_RATIO4(f0, f) pow(tan(M_PI * (f) / SR) / tan(M_PI * (f0) / SR), 4)
#define BUTTER_LP_DB(f0, f) (-10 * log10(1 + WARP_RATIO4(f0, f)))
#define BUTTER_HP_DB(f0, f) (-10 * log10(1 + 1 / WARP_RATIO4(f0, f)))

static void
test_eq(void)
{
	struct
	{
		sid_biquad_type type;
		const char *name;
		double		f0,
					q,
					gain,
					f_test,
					want_db,
					tol;
	}			cases[] = {
		{SID_BIQUAD_LOWPASS, "lowpass 1 kHz at 1 kHz", 1000, M_SQRT1_2, 0, 1000, -3.01, 0.05},
		{SID_BIQUAD_LOWPASS, "lowpass 1 kHz at 100 Hz", 1000, M_SQRT1_2, 0, 100, 0.0, 0.05},
		{SID_BIQUAD_LOWPASS, "lowpass 1 kHz at 4 kHz", 1000, M_SQRT1_2, 0, 4000, BUTTER_LP_DB(1000, 4000), 0.05},
		{SID_BIQUAD_HIGHPASS, "highpass 200 Hz at 200 Hz", 200, M_SQRT1_2, 0, 200, -3.01, 0.05},
		{SID_BIQUAD_HIGHPASS, "highpass 200 Hz at 50 Hz", 200, M_SQRT1_2, 0, 50, BUTTER_HP_DB(200, 50), 0.05},
		{SID_BIQUAD_HIGHPASS, "highpass 200 Hz at 4 kHz", 200, M_SQRT1_2, 0, 4000, 0.0, 0.05},
		{SID_BIQUAD_PEAK, "bell +6 dB at 2 kHz", 2000, 1.0, 6, 2000, 6.0, 0.05},
		{SID_BIQUAD_PEAK, "bell -9 dB at 500 Hz", 500, 2.0, -9, 500, -9.0, 0.05},
		{SID_BIQUAD_PEAK, "bell +6 dB at 2 kHz, far away at 50 Hz", 2000, 1.0, 6, 50, 0.0, 0.1},
		{SID_BIQUAD_LOWSHELF, "low shelf +6 dB at 200 Hz, at 30 Hz", 200, M_SQRT1_2, 6, 30, 6.0, 0.2},
		{SID_BIQUAD_HIGHSHELF, "high shelf -6 dB at 3 kHz, at 7 kHz", 3000, M_SQRT1_2, -6, 7000, -6.0, 0.3},
	};
	sid_biquad	bq;
	sid_error	err;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		double		got;

		sid_biquad_design(&bq, cases[c].type, cases[c].f0, cases[c].q, cases[c].gain, SR, &err);
		got = measured_gain_db(&bq, cases[c].f_test);
		CHECK_NEAR(got, cases[c].want_db, cases[c].tol, "eq: %s: %.2f dB (want %.2f)",
				   cases[c].name, got, cases[c].want_db);
		CHECK_NEAR(sid_biquad_response_db(&bq, cases[c].f_test, SR), got, 0.05,
				   "eq: %s: the analytic response agrees", cases[c].name);
	}
	CHECK(sid_biquad_design(&bq, SID_BIQUAD_LOWPASS, 9000, 0.7, 0, SR, &err) == SID_EINVAL,
		  "eq: a cutoff above Nyquist is refused");
}

static void
test_pipeline(void)
{
	size_t		n = 16000,
				pre = 8000;
	float	   *in = malloc((pre + n) * sizeof(float));
	float	   *o1 = malloc(n * sizeof(float));
	float	   *o2 = malloc(n * sizeof(float));
	float	   *clip = malloc(5000 * sizeof(float));
	const float *clips[1] = {clip};
	size_t		lens[1] = {5000};
	sid_noise_bank bank = {clips, lens, 1};
	sid_augment_config cfg;
	sid_augment_work *w;
	sid_augment_plan plan,
				plan2;
	sid_rng		rng;
	sid_error	err;
	int			kinds_seen[3] = {0},
				reverbs = 0,
				all_same = 1,
				offsets_ok = 1;
	char		desc[128];

	sid_rng_init(&rng, 6, 0);
	for (size_t i = 0; i < pre + n; i++)
		in[i] = 0.5f * sinf(2 * (float) M_PI * 330 * i / SR) * (1 + 0.5f * sinf(i / 900.0f)) +
			0.05f * sid_rng_normal(&rng);
	for (size_t i = 0; i < 5000; i++)
		clip[i] = sid_rng_normal(&rng) * (i < 2500 ? 1.0f : 0.2f);
	sid_augment_config_default(&cfg, SR, n);
	w = sid_augment_work_create(&cfg, &err);
	CHECK(w != NULL, "augment: work area made");

	/* noise only: the measured SNR is the plan's */
	sid_rng_init(&rng, 7, 0);
	sid_augment_draw(&cfg, &bank, &rng, n, &plan);
	plan.noise = SID_AUG_NOISE_CLIP;
	plan.reverb = 0;
	plan.eq.n = 0;
	plan.gain_db = 0;
	plan.snr_db = 7.5f;
	sid_augment_run(w, &bank, &plan, in, pre, o1, n, &err);
	for (size_t i = 0; i < n; i++)
		o2[i] = o1[i] - in[pre + i];
	CHECK_NEAR(sid_snr_db(in + pre, o2, n), 7.5, 0.1, "augment: clip noise at 7.5 dB measures %.3f dB",
			   sid_snr_db(in + pre, o2, n));

	/* reverb only: the preroll's tail reaches into the span */
	plan.noise = SID_AUG_NOISE_NONE;
	plan.reverb = 1;
	sid_augment_run(w, &bank, &plan, in, pre, o1, n, &err);
	sid_augment_run(w, &bank, &plan, in + pre, 0, o2, n, &err);
	CHECK(o1[0] != o2[0] && fabsf(o1[n - 1] - o2[n - 1]) < 1e-4f,
		  "augment: reverberation carries the preroll's tail into the span's start only");

	/* determinism, and every choice drawn over many plans */
	for (int k = 0; k < 200; k++)
	{
		sid_rng		r1,
					r2;

		sid_rng_init(&r1, 8, (uint64_t) k);
		sid_rng_init(&r2, 8, (uint64_t) k);
		sid_augment_draw(&cfg, &bank, &r1, n, &plan);
		sid_augment_draw(&cfg, &bank, &r2, n, &plan2);
		kinds_seen[plan.noise]++;
		reverbs += plan.reverb;
		if (k < 20)
		{
			if (sid_augment_run(w, &bank, &plan, in, pre, o1, n, &err) != SID_OK ||
				sid_augment_run(w, &bank, &plan2, in, pre, o2, n, &err) != SID_OK ||
				memcmp(o1, o2, n * sizeof(float)) != 0)
				all_same = 0;
		}
		{
			long		off = sid_augment_offset(&cfg, &r1);

			offsets_ok &= labs(off) <= 4000;
		}
	}
	CHECK(all_same, "augment: the same seed and stream give bit-identical output");
	CHECK(kinds_seen[0] > 5 && kinds_seen[1] > 20 && kinds_seen[2] > 80 && reverbs > 100 && reverbs < 180,
		  "augment: draws follow the probabilities (none %d, synthetic %d, clip %d, reverb %d of 200)",
		  kinds_seen[0], kinds_seen[1], kinds_seen[2], reverbs);
	CHECK(offsets_ok, "augment: view offsets stay within +-0.25 s");
	{
		sid_rng		r1,
					r2;

		sid_rng_init(&r1, 8, 0);
		sid_rng_init(&r2, 9, 0);
		sid_augment_draw(&cfg, &bank, &r1, n, &plan);
		sid_augment_draw(&cfg, &bank, &r2, n, &plan2);
		CHECK(memcmp(&plan, &plan2, sizeof(plan)) != 0, "augment: another seed, another plan");
	}
	sid_augment_describe(&plan, desc, sizeof(desc));
	CHECK(strstr(desc, "snr=") != NULL, "augment: describe: %s", desc);
	CHECK(sid_augment_run(w, &bank, &plan, in, pre, o1, n + 1, &err) == SID_ELIMIT,
		  "augment: a span longer than configured is refused");
	sid_augment_work_free(w);
	free(in);
	free(o1);
	free(o2);
	free(clip);
}

int
main(void)
{
	test_snr();
	test_noise_spectra();
	test_rir();
	test_convolution();
	test_eq();
	test_pipeline();
	return tap_done();
}
