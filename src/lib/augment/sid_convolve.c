/*
 * sid_convolve.c - FFT convolution; see sid_convolve.h.
 */
#include "augment/sid_convolve.h"

#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "core/sid_fft_lock.h"

/* Larger transforms are refused: 2^24 samples is 17 minutes at 16 kHz. */
#define MAX_FFT_SIZE ((size_t) 1 << 24)

struct sid_convolver
{
	size_t		n;				/* FFT size */
	float	   *xbuf;			/* n real samples */
	float	   *hbuf;
	fftwf_complex *xspec;		/* n/2 + 1 bins */
	fftwf_complex *hspec;
	fftwf_plan	fwd_x;
	fftwf_plan	fwd_h;
	fftwf_plan	inv;
};

sid_convolver *
sid_convolver_create(size_t max_full, sid_error *err)
{
	sid_convolver *c;
	size_t		n = 2;

	if (max_full == 0 || max_full > MAX_FFT_SIZE)
	{
		sid_fail(err, SID_ELIMIT, "convolution: %zu samples is beyond the limit of %zu",
				 max_full, MAX_FFT_SIZE);
		return NULL;
	}
	while (n < max_full)
		n <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c)
	{
		sid_fail(err, SID_ENOMEM, "convolution: out of memory");
		return NULL;
	}
	c->n = n;
	c->xbuf = fftwf_alloc_real(n);
	c->hbuf = fftwf_alloc_real(n);
	c->xspec = fftwf_alloc_complex(n / 2 + 1);
	c->hspec = fftwf_alloc_complex(n / 2 + 1);
	if (!c->xbuf || !c->hbuf || !c->xspec || !c->hspec)
	{
		sid_convolver_free(c);
		sid_fail(err, SID_ENOMEM, "convolution: out of memory for a %zu-point FFT", n);
		return NULL;
	}
	/* ESTIMATE: planning must stay cheap, it runs once per worker */
	sid_fftw_planner_lock();
	c->fwd_x = fftwf_plan_dft_r2c_1d((int) n, c->xbuf, c->xspec, FFTW_ESTIMATE);
	c->fwd_h = fftwf_plan_dft_r2c_1d((int) n, c->hbuf, c->hspec, FFTW_ESTIMATE);
	c->inv = fftwf_plan_dft_c2r_1d((int) n, c->xspec, c->xbuf, FFTW_ESTIMATE);
	sid_fftw_planner_unlock();
	if (!c->fwd_x || !c->fwd_h || !c->inv)
	{
		sid_convolver_free(c);
		sid_fail(err, SID_ENOMEM, "convolution: FFTW could not plan a %zu-point FFT", n);
		return NULL;
	}
	return c;
}

void
sid_convolver_free(sid_convolver *c)
{
	if (!c)
		return;
	sid_fftw_planner_lock();
	if (c->fwd_x)
		fftwf_destroy_plan(c->fwd_x);
	if (c->fwd_h)
		fftwf_destroy_plan(c->fwd_h);
	if (c->inv)
		fftwf_destroy_plan(c->inv);
	sid_fftw_planner_unlock();
	fftwf_free(c->xbuf);
	fftwf_free(c->hbuf);
	fftwf_free(c->xspec);
	fftwf_free(c->hspec);
	free(c);
}

size_t
sid_convolver_size(const sid_convolver *c)
{
	return c->n;
}

sid_status
sid_convolve(sid_convolver *c, const float *x, size_t nx,
			 const float *h, size_t nh, size_t skip,
			 float *y, size_t ny, sid_error *err)
{
	size_t		full,
				bins = c->n / 2 + 1;
	float		scale = 1.0f / (float) c->n;

	if (nx == 0 || nh == 0)
		return sid_fail(err, SID_EINVAL, "convolution: empty input or response");
	full = nx + nh - 1;
	/*
	 * The transform is circular: output i also receives the linear result
	 * at i + n.  That is zero when the whole convolution fits, and outside
	 * the wanted span when skip >= full - n and the span ends by n, so a
	 * caller that skips the start can use a transform half the size.
	 */
	if (nx > c->n || nh > c->n ||
		(full > c->n && (skip < full - c->n || skip + ny > c->n)))
		return sid_fail(err, SID_ELIMIT, "convolution: %zu + %zu - 1 samples (from %zu on) exceed the %zu-point FFT",
						nx, nh, skip, c->n);
	memcpy(c->xbuf, x, nx * sizeof(float));
	memset(c->xbuf + nx, 0, (c->n - nx) * sizeof(float));
	memcpy(c->hbuf, h, nh * sizeof(float));
	memset(c->hbuf + nh, 0, (c->n - nh) * sizeof(float));
	fftwf_execute(c->fwd_x);
	fftwf_execute(c->fwd_h);
	for (size_t k = 0; k < bins; k++)
	{
		float		re = c->xspec[k][0] * c->hspec[k][0] - c->xspec[k][1] * c->hspec[k][1];
		float		im = c->xspec[k][0] * c->hspec[k][1] + c->xspec[k][1] * c->hspec[k][0];

		c->xspec[k][0] = re * scale;
		c->xspec[k][1] = im * scale;
	}
	fftwf_execute(c->inv);
	for (size_t i = 0; i < ny; i++)
		y[i] = skip + i < full && skip + i < c->n ? c->xbuf[skip + i] : 0.0f;
	return SID_OK;
}
