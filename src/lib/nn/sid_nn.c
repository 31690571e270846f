/*
 * sid_nn.c - dense operators: linear (OpenBLAS sgemm), layer norm,
 * activations, mean pooling, L2 normalisation.  Forward and backward side by
 * side; conventions in sid_nn.h.
 */
#include "nn/sid_nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void
sid_nn_set_threads(int nthreads)
{
	openblas_set_num_threads(nthreads < 1 ? 1 : nthreads);
}

/* ---- linear ------------------------------------------------------------ */

void
sid_linear_forward(float *y, const float *x, const float *w, const float *b,
				   int rows, int in, int out)
{
	if (b)
		for (int r = 0; r < rows; r++)
			memcpy(y + (size_t) r * out, b, sizeof(float) * out);
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

void
sid_layernorm_forward(float *y, float *mean, float *rstd, const float *x,
					  const float *gamma, const float *beta, int rows, int dim)
{
	for (int r = 0; r < rows; r++)
	{
		const float *xr = x + (size_t) r * dim;
		float	   *yr = y + (size_t) r * dim;
		float		m = 0.0f,
					v = 0.0f,
					s;

		for (int i = 0; i < dim; i++)
			m += xr[i];
		m /= dim;
		for (int i = 0; i < dim; i++)
			v += (xr[i] - m) * (xr[i] - m);
		v /= dim;
		s = 1.0f / sqrtf(v + SID_LN_EPS);
		for (int i = 0; i < dim; i++)
			yr[i] = (xr[i] - m) * s * gamma[i] + beta[i];
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

void
sid_act_forward(sid_activation act, float *y, const float *x, size_t n)
{
	switch (act)
	{
		case SID_ACT_GELU:
			/*
			 * 0.5 u (1 + tanh(z)) = u * sigmoid(2z): one expf instead of
			 * glibc's tanhf, which is several times slower
			 */
			for (size_t i = 0; i < n; i++)
			{
				float		u = x[i];
				float		z = GELU_K * (u + 0.044715f * u * u * u);

				y[i] = u / (1.0f + expf(-2.0f * z));
			}
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
