/*
 * sid_nn.c - dense operators: linear (OpenBLAS sgemm), layer norm,
 * activations, mean pooling, L2 normalisation.  Forward and backward side by
 * side; conventions in sid_nn.h.
 */
#include "nn/sid_nn.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/sid_simd.h"

void
sid_nn_set_threads(int nthreads)
{
	openblas_set_num_threads(nthreads < 1 ? 1 : nthreads);
}

/* ---- linear ------------------------------------------------------------ */

/*
 * Every row starts as the bias and sgemm adds the product (beta = 1): a copy
 * loop the compiler vectorises, where a libc memcpy per short row took 7 %
 * of inference (perf), and OpenBLAS's beta = 0 path would clear y first.
 */
SID_VECTOR_CLONES
static void
fill_rows(float *y, const float *b, int rows, int out)
{
	for (int r = 0; r < rows; r++)
	{
		float	   *yr = y + (size_t) r * out;

		for (int o = 0; o < out; o++)
			yr[o] = b[o];
	}
}

void
sid_linear_forward(float *y, const float *x, const float *w, const float *b,
				   int rows, int in, int out)
{
	if (b)
		fill_rows(y, b, rows, out);
	/* y[rows][out] (+)= x[rows][in] * w[out][in]^T */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in,
				1.0f, x, in, w, in, b ? 1.0f : 0.0f, y, out);
}

void
sid_linear_backward(float *dx, float *dw, float *db, const float *dy,
					const float *x, const float *w, int rows, int in, int out)
{
	/* dx[rows][in] += dy[rows][out] * w[out][in] */
	if (dx)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out,
					1.0f, dy, out, w, in, 1.0f, dx, in);
	/* dw[out][in] += dy^T[out][rows] * x[rows][in] */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, rows,
				1.0f, dy, out, x, in, 1.0f, dw, in);
	if (db)
		for (int r = 0; r < rows; r++)
		{
			const float *dyr = dy + (size_t) r * out;

			for (int o = 0; o < out; o++)
				db[o] += dyr[o];
		}
}

/* ---- layer norm -------------------------------------------------------- */

/*
 * Also compiled for AVX2, where the normalisation vectorises wider.  The
 * sums stay in index order: summed in vector lanes they moved one
 * fingerprint of real music in 1596 by 1.5e-4 (a kNN near-tie flipped).
 * So that one row's chain of dependent additions does not set the pace,
 * LN_ROWS rows are summed side by side, each still in index order (the
 * same bits as one row at a time).
 */
#define LN_ROWS 8

static inline __attribute__((always_inline)) void
layernorm_normalise(float *yr, const float *xr, float m, float s, const float *gamma,
					const float *beta, int dim)
{
	for (int i = 0; i < dim; i++)
		yr[i] = (xr[i] - m) * s * gamma[i] + beta[i];
}

SID_VECTOR_CLONES
void
sid_layernorm_forward(float *y, float *mean, float *rstd, const float *x,
					  const float *gamma, const float *beta, int rows, int dim)
{
	int			r = 0;

	for (; r + LN_ROWS <= rows; r += LN_ROWS)
	{
		const float *xr = x + (size_t) r * dim;
		float		m[LN_ROWS] = {0},
					v[LN_ROWS] = {0};

		for (int i = 0; i < dim; i++)
			for (int q = 0; q < LN_ROWS; q++)
				m[q] += xr[(size_t) q * dim + i];
		for (int q = 0; q < LN_ROWS; q++)
			m[q] /= dim;
		for (int i = 0; i < dim; i++)
			for (int q = 0; q < LN_ROWS; q++)
			{
				float		c = xr[(size_t) q * dim + i] - m[q];

				v[q] += c * c;
			}
		for (int q = 0; q < LN_ROWS; q++)
		{
			float		s = 1.0f / sqrtf(v[q] / dim + SID_LN_EPS);

			layernorm_normalise(y + (size_t) (r + q) * dim, xr + (size_t) q * dim, m[q], s,
								gamma, beta, dim);
			mean[r + q] = m[q];
			rstd[r + q] = s;
		}
	}
	for (; r < rows; r++)
	{
		const float *xr = x + (size_t) r * dim;
		float		m = 0.0f,
					v = 0.0f,
					s;

		for (int i = 0; i < dim; i++)
			m += xr[i];
		m /= dim;
		for (int i = 0; i < dim; i++)
			v += (xr[i] - m) * (xr[i] - m);
		s = 1.0f / sqrtf(v / dim + SID_LN_EPS);
		layernorm_normalise(y + (size_t) r * dim, xr, m, s, gamma, beta, dim);
		mean[r] = m;
		rstd[r] = s;
	}
}

void
sid_layernorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
					   const float *x, const float *mean, const float *rstd,
					   const float *gamma, int rows, int dim)
{
	for (int r = 0; r < rows; r++)
	{
		const float *xr = x + (size_t) r * dim;
		const float *dyr = dy + (size_t) r * dim;
		float	   *dxr = dx + (size_t) r * dim;
		float		m = mean[r],
					s = rstd[r];
		float		sum_g = 0.0f,
					sum_gx = 0.0f;

		/* with xhat = (x - m) s and g = dy * gamma:
		 * dx = s (g - mean(g) - xhat mean(g xhat)) */
		for (int i = 0; i < dim; i++)
		{
			float		xhat = (xr[i] - m) * s;
			float		g = dyr[i] * gamma[i];

			sum_g += g;
			sum_gx += g * xhat;
			dgamma[i] += dyr[i] * xhat;
			dbeta[i] += dyr[i];
		}
		sum_g /= dim;
		sum_gx /= dim;
		for (int i = 0; i < dim; i++)
		{
			float		xhat = (xr[i] - m) * s;

			dxr[i] += s * (dyr[i] * gamma[i] - sum_g - xhat * sum_gx);
		}
	}
}

/* ---- activations ------------------------------------------------------- */

#define GELU_K 0.7978845608028654f	/* sqrt(2/pi) */

/*
 * exp(x) in plain float arithmetic the compiler vectorises (glibc's expf is a
 * call per element): x = n ln2 + r with |r| <= ln2/2 (ln2 in two parts, the
 * Cephes split), exp(r) by its degree-7 Taylor polynomial, 2^n built in
 * the exponent bits; GELU through it is within 1.1e-7 (relative) of its
 * formula in double on [-12, 12] (test_nn_ops).  x must lie in [-87, 88] (the caller clamps it, in a
 * loop of its own: with the clamp inside, GCC 12 does not vectorise).
 */
static inline float
exp_vectorisable(float x)
{
	const float round_magic = 12582912.0f;	/* 1.5 * 2^23: adding it rounds to an integer */
	float		n,
				r,
				p,
				scale;
	int32_t		bits;

	n = (x * 1.44269504088896341f + round_magic) - round_magic;
	r = x - n * 0.693359375f;
	r = r + n * 2.12194440e-4f;
	p = 1.0f / 5040.0f;
	p = p * r + 1.0f / 720.0f;
	p = p * r + 1.0f / 120.0f;
	p = p * r + 1.0f / 24.0f;
	p = p * r + 1.0f / 6.0f;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	bits = ((int32_t) n + 127) << 23;
	memcpy(&scale, &bits, sizeof(scale));
	return p * scale;
}

/*
 * GELU's tanh form as 0.5 u (1 + tanh(z)) = u * sigmoid(2z): one exponential,
 * vectorised (glibc's expf, called per element, was 21 % of inference).
 */
SID_VECTOR_CLONES
static void
gelu_forward(float *y, const float *x, size_t n)
{
	float		arg[256];

	for (size_t start = 0; start < n; start += 256)
	{
		size_t		len = n - start < 256 ? n - start : 256;
		const float *xs = x + start;

		for (size_t i = 0; i < len; i++)
		{
			float		u = xs[i];
			float		a = -2.0f * GELU_K * (u + 0.044715f * u * u * u);

			a = a < -87.0f ? -87.0f : a;
			arg[i] = a > 88.0f ? 88.0f : a;
		}
		for (size_t i = 0; i < len; i++)
			y[start + i] = xs[i] / (1.0f + exp_vectorisable(arg[i]));
	}
}

void
sid_act_forward(sid_activation act, float *y, const float *x, size_t n)
{
	switch (act)
	{
		case SID_ACT_GELU:
			gelu_forward(y, x, n);
			break;
		case SID_ACT_RELU:
			for (size_t i = 0; i < n; i++)
				y[i] = x[i] > 0.0f ? x[i] : 0.0f;
			break;
		case SID_ACT_ELU:
			for (size_t i = 0; i < n; i++)
				y[i] = x[i] > 0.0f ? x[i] : expm1f(x[i]);
			break;
	}
}

void
sid_act_backward(sid_activation act, float *dx, const float *dy, const float *x, const float *y,
				 size_t n)
{
	switch (act)
	{
		case SID_ACT_GELU:
			for (size_t i = 0; i < n; i++)
			{
				float		u = x[i];
				float		z2 = 1.0f + 3.0f * 0.044715f * u * u;
				float		sg;	/* sigmoid(2z) = (1 + tanh z) / 2 */

				if (y && u != 0.0f)
					sg = y[i] / u;	/* y = u sg: a division instead of an exp */
				else
					sg = 1.0f / (1.0f + expf(-2.0f * GELU_K * (u + 0.044715f * u * u * u)));
				/* d/du [u sg(2z)] = sg + u * 2 sg (1 - sg) dz/du */
				dx[i] += dy[i] * (sg + 2.0f * u * sg * (1.0f - sg) * GELU_K * z2);
			}
			break;
		case SID_ACT_RELU:
			for (size_t i = 0; i < n; i++)
				dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
			break;
		case SID_ACT_ELU:
			for (size_t i = 0; i < n; i++)
				dx[i] += x[i] > 0.0f ? dy[i] : dy[i] * (y ? y[i] + 1.0f : expf(x[i]));
			break;
	}
}

float
sid_dot(const float *a, const float *b, int n)
{
	float		s = 0.0f;

	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* ---- pooling, normalisation, residual ---------------------------------- */

void
sid_meanpool_forward(float *y, const float *x, int B, int N, int C)
{
	for (int b = 0; b < B; b++)
	{
		float	   *yb = y + (size_t) b * C;

		memset(yb, 0, sizeof(float) * C);
		for (int n = 0; n < N; n++)
		{
			const float *xn = x + ((size_t) b * N + n) * C;

			for (int c = 0; c < C; c++)
				yb[c] += xn[c];
		}
		for (int c = 0; c < C; c++)
			yb[c] /= N;
	}
}

void
sid_meanpool_backward(float *dx, const float *dy, int B, int N, int C)
{
	for (int b = 0; b < B; b++)
		for (int n = 0; n < N; n++)
		{
			float	   *dxn = dx + ((size_t) b * N + n) * C;

			for (int c = 0; c < C; c++)
				dxn[c] += dy[(size_t) b * C + c] / N;
		}
}

void
sid_l2norm_forward(float *y, float *norm, const float *x, int rows, int dim)
{
	for (int r = 0; r < rows; r++)
	{
		const float *xr = x + (size_t) r * dim;
		float	   *yr = y + (size_t) r * dim;
		double		ss = 0.0;
		float		nrm;

		for (int i = 0; i < dim; i++)
			ss += (double) xr[i] * xr[i];
		nrm = (float) sqrt(ss);
		if (nrm < 1e-12f)
			nrm = 1e-12f;
		for (int i = 0; i < dim; i++)
			yr[i] = xr[i] / nrm;
		norm[r] = nrm;
	}
}

void
sid_l2norm_backward(float *dx, const float *dy, const float *y, const float *norm,
					int rows, int dim)
{
	/* y = x / |x|: dx = (dy - y (y . dy)) / |x| */
	for (int r = 0; r < rows; r++)
	{
		const float *yr = y + (size_t) r * dim;
		const float *dyr = dy + (size_t) r * dim;
		float	   *dxr = dx + (size_t) r * dim;
		float		dot = 0.0f;

		for (int i = 0; i < dim; i++)
			dot += yr[i] * dyr[i];
		for (int i = 0; i < dim; i++)
			dxr[i] += (dyr[i] - yr[i] * dot) / norm[r];
	}
}

void
sid_add_inplace(float *y, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] += x[i];
}
