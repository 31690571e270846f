/*
 * nn_testutil.h - helpers shared by the neural-engine unit tests: a seeded
 * random source and a central finite-difference gradient check.
 */
#ifndef NN_TESTUTIL_H
#define NN_TESTUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/sid_rng.h"

static uint64_t test_rng_state = 12345;	/* a SplitMix64 state */

__attribute__((unused))
static double
test_uniform(void)				/* [0, 1) */
{
	return (sid_splitmix64(&test_rng_state) >> 11) * (1.0 / 9007199254740992.0);
}

__attribute__((unused))
static float
test_normal(void)
{
	double		u1 = test_uniform() + 1e-12,
				u2 = test_uniform();

	return (float) (sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

__attribute__((unused))
static float *
test_randn(size_t n, float scale)
{
	float	   *x = malloc(sizeof(float) * (n ? n : 1));

	for (size_t i = 0; i < n; i++)
		x[i] = test_normal() * scale;
	return x;
}

__attribute__((unused))
static float *
test_zeros(size_t n)
{
	return calloc(n ? n : 1, sizeof(float));
}

/* A scalar loss of the current state (the test's forward pass). */
typedef double (*test_loss_fn) (void *ctx);

/*
 * Compares analytic (n values) with central differences of loss with respect
 * to x[0..n-1], perturbed by eps in place.  Returns the relative error
 * |a - f| / max(|a| + |f|, floor) over the whole vector (2-norms), and writes
 * the worst element's index.
 */
__attribute__((unused))
static double
test_grad_check(test_loss_fn loss, void *ctx, float *x, const float *analytic, size_t n,
				float eps, size_t *worst)
{
	double		diff2 = 0.0,
				a2 = 0.0,
				f2 = 0.0,
				worst_d = -1.0;

	for (size_t i = 0; i < n; i++)
	{
		float		saved = x[i];
		double		lp,
					lm,
					fd,
					d;

		x[i] = saved + eps;
		lp = loss(ctx);
		x[i] = saved - eps;
		lm = loss(ctx);
		x[i] = saved;
		fd = (lp - lm) / (2.0 * eps);
		d = fabs(fd - analytic[i]);
		diff2 += d * d;
		a2 += (double) analytic[i] * analytic[i];
		f2 += fd * fd;
		if (d > worst_d)
		{
			worst_d = d;
			if (worst)
				*worst = i;
		}
	}
	return sqrt(diff2) / fmax(sqrt(a2) + sqrt(f2), 1e-6);
}

/* sum_i w[i] * y[i] in double: a loss whose gradient with respect to y is w */
__attribute__((unused))
static double
test_dot(const float *w, const float *y, size_t n)
{
	double		s = 0.0;

	for (size_t i = 0; i < n; i++)
		s += (double) w[i] * y[i];
	return s;
}

#endif
