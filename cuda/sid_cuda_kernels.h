/*
 * sid_cuda_kernels.h - the per-thread bodies of the CUDA operator kernels.
 *
 * Written in the common subset of C11 and CUDA C++ so that the very same
 * code runs in two places: inside the __global__ kernels of
 * cuda/sid_cuda_ops.cu (one call per GPU thread) and, compiled by gcc, in the
 * unit tests, which call every body for every thread index on the host and
 * compare with the CPU operators (or naive loops where the CPU has none).  A machine without a GPU therefore
 * still checks the index arithmetic and the algorithms of the kernels; only
 * the launch, the memory transfers and the device arithmetic (which may
 * contract a*b+c into fused multiply-adds) go unexercised there.
 *
 * Layouts and semantics are those of the CPU operators (src/lib/nn/sid_nn.h,
 * src/lib/nn/sid_encoder.h), all row-major:
 *   node features   x[B][N][C]          node n of sample b at x + (b*N + n)*C
 *   squared dists   d[B][N][N]          d[b][i][j] = sum_c (x_i[c] - x_j[c])^2
 *   neighbours      idx[B][N][k]        int32 node indices within the sample,
 *                                       nearest first, ties to the lower index
 *   max-relative    y[B][N][2C]         y_i = [ x_i | max_j x_j - x_i ]
 *   patches         cols[B][N0][3*pt*pf] column (dt*pf + df)*3 + channel,
 *                                       channels log-mel standardised per
 *                                       window, t/(T-1), m/(M-1)
 */
#ifndef SID_CUDA_KERNELS_H
#define SID_CUDA_KERNELS_H

#include <math.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif
/* sid_activation, SID_ACT_NONE, SID_KNN_MAX_K, sid_patch_geom */
#include "nn/sid_encoder_device.h"
#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
#define SID_HD static __host__ __device__ inline
#else
#define SID_HD static inline
#endif

/* ---- pairwise squared Euclidean distances: thread t = (b*N + i)*N + j ---- */
SID_HD void
sid_k_sqdist(const float *x, float *d, int N, int C, int64_t t)
{
	int64_t		bi = t / N;			/* b*N + i */
	int			j = (int) (t % N);
	int64_t		b = bi / N;
	const float *xi = x + bi * C;
	const float *xj = x + (b * N + j) * C;
	float		s = 0.0f;

	for (int c = 0; c < C; c++)
	{
		float		diff = xi[c] - xj[c];

		s += diff * diff;
	}
	d[t] = s;
}

/*
 * ---- k smallest of one distance row: thread t = b*N + i ----
 * Keeps the k nearest in ascending distance, ties to the lower node index
 * (a strict < when inserting, scanning j upwards).  With include_self == 0
 * node i itself is never chosen; otherwise it is a candidate like any other
 * (at distance 0 it comes first unless an exact duplicate has a lower index).
 * Requires k <= SID_KNN_MAX_K and k <= N - !include_self (checked by callers).
 */
SID_HD void
sid_k_topk(const float *d, int32_t *idx, int N, int k, int include_self, int64_t t)
{
	const float *row = d + t * N;
	int			i = (int) (t % N);
	float		best_d[SID_KNN_MAX_K];
	int32_t		best_j[SID_KNN_MAX_K];
	int			have = 0;

	for (int j = 0; j < N; j++)
	{
		float		dj = row[j];
		int			pos;

		if (j == i && !include_self)
			continue;
		if (have == k && !(dj < best_d[k - 1]))
			continue;
		/* insertion: shift larger entries right, dropping the last when full */
		pos = have < k ? have++ : k - 1;
		while (pos > 0 && dj < best_d[pos - 1])
		{
			best_d[pos] = best_d[pos - 1];
			best_j[pos] = best_j[pos - 1];
			pos--;
		}
		best_d[pos] = dj;
		best_j[pos] = j;
	}
	for (int m = 0; m < k; m++)
		idx[t * k + m] = best_j[m];
}

/* ---- max-relative aggregation: thread t = (b*N + i)*C + c ---- */
SID_HD void
sid_k_maxrel(const float *x, const int32_t *idx, float *y, int N, int C, int k, int64_t t)
{
	int64_t		bi = t / C;
	int			c = (int) (t % C);
	int64_t		b = bi / N;
	const int32_t *nb = idx + bi * k;
	float		m = x[(b * N + nb[0]) * C + c];

	/* the max of the neighbours first, then minus x_i: the CPU's order */
	for (int q = 1; q < k; q++)
	{
		float		v = x[(b * N + nb[q]) * C + c];

		m = v > m ? v : m;
	}
	y[bi * 2 * C + c] = x[t];
	y[bi * 2 * C + C + c] = m - x[t];
}

/* ---- layer norm over the last dimension: thread t = row ---- */
SID_HD void
sid_k_layernorm(const float *x, float *y, const float *gamma, const float *beta,
				int C, float eps, int64_t t)
{
	const float *xr = x + t * C;
	float	   *yr = y + t * C;
	float		mean = 0.0f,
				var = 0.0f,
				inv;

	for (int c = 0; c < C; c++)
		mean += xr[c];
	mean /= (float) C;
	for (int c = 0; c < C; c++)
	{
		float		dv = xr[c] - mean;

		var += dv * dv;
	}
	var /= (float) C;
	inv = 1.0f / sqrtf(var + eps);
	for (int c = 0; c < C; c++)
		yr[c] = (xr[c] - mean) * inv * (gamma ? gamma[c] : 1.0f) + (beta ? beta[c] : 0.0f);
}

/* ---- activations, elementwise ---- */
SID_HD float
sid_k_act1(float v, int act)
{
	switch (act)
	{
		case SID_ACT_GELU:		/* tanh form as u * sigmoid(2z), written as in sid_nn.c */
			return v / (1.0f + expf(-2.0f * (0.7978845608028654f * (v + 0.044715f * v * v * v))));
		case SID_ACT_RELU:
			return v > 0.0f ? v : 0.0f;
		case SID_ACT_ELU:
			return v > 0.0f ? v : expm1f(v);
		default:				/* SID_ACT_NONE */
			return v;
	}
}

/* ---- y[row][c] = x[row][c] + bias[c] (+ residual) then act: thread t = row*C + c ---- */
SID_HD void
sid_k_bias_act(const float *x, const float *bias, const float *residual, float *y,
			   int C, int act, int64_t t)
{
	float		v = x[t];

	if (bias)
		v += bias[t % C];
	if (residual)
		v += residual[t];
	y[t] = sid_k_act1(v, act);
}

/* ---- mean over nodes: thread t = b*C + c, y[B][C] ---- */
SID_HD void
sid_k_meanpool(const float *x, float *y, int N, int C, int64_t t)
{
	int64_t		b = t / C;
	int			c = (int) (t % C);
	float		s = 0.0f;

	for (int n = 0; n < N; n++)
		s += x[(b * N + n) * C + c];
	y[t] = s / (float) N;
}

/* ---- L2 normalisation of one row (zero rows stay zero): thread t = row ---- */
SID_HD void
sid_k_l2norm(const float *x, float *y, int D, float eps, int64_t t)
{
	const float *xr = x + t * D;
	float	   *yr = y + t * D;
	float		s = 0.0f,
				inv;

	for (int c = 0; c < D; c++)
		s += xr[c] * xr[c];
	inv = 1.0f / fmaxf(sqrtf(s), eps);
	for (int c = 0; c < D; c++)
		yr[c] = xr[c] * inv;
}

/*
 * ---- per-window standardisation of the log-mel input: thread t = window ----
 * stats[2t] = mean, stats[2t+1] = 1 / max(std, SID_INPUT_STD_FLOOR) over the
 * window's T*M values, accumulated in double exactly as the CPU does.
 */
SID_HD void
sid_k_window_stats(const float *input, float *stats, int64_t win, int64_t t)
{
	const float *x = input + t * win;
	double		sum = 0.0,
				ss = 0.0;
	float		mean;

	for (int64_t i = 0; i < win; i++)
		sum += x[i];
	mean = (float) (sum / (double) win);
	for (int64_t i = 0; i < win; i++)
		ss += ((double) x[i] - mean) * ((double) x[i] - mean);
	stats[2 * t] = mean;
	stats[2 * t + 1] = 1.0f / fmaxf((float) sqrt(ss / (double) win), SID_INPUT_STD_FLOOR);
}

/*
 * ---- patch gathering for the patch embedding (im2col of a convolution whose
 * kernel equals its stride, plus the two position channels) ----
 * input [B][T][M] log-mel frames, stats from sid_k_window_stats; node
 * n = ti * F0 + fi with F0 = M / pf, T0 = T / pt (frames past T0 * pt
 * unused); thread t indexes cols[B][T0*F0][3*pt*pf], column
 * (dt*pf + df)*3 + channel, channels (x - mean) * scale, t/(T-1), m/(M-1).
 */
SID_HD void
sid_k_patches(const float *input, const float *stats, float *cols, sid_patch_geom g, int64_t t)
{
	int			K = 3 * g.pt * g.pf;
	int			F0 = g.M / g.pf,
				T0 = g.T / g.pt;
	int64_t		bn = t / K;
	int			q = (int) (t % K);
	int64_t		b = bn / ((int64_t) T0 * F0);
	int			n = (int) (bn % ((int64_t) T0 * F0));
	int			ch = q % 3,
				df = (q / 3) % g.pf,
				dt = (q / 3) / g.pf;
	int			frame = (n / F0) * g.pt + dt,
				m = (n % F0) * g.pf + df;

	cols[t] = ch == 0 ? (input[(b * g.T + frame) * g.M + m] - stats[2 * b]) * stats[2 * b + 1]
		: ch == 1 ? (float) frame / (float) (g.T - 1)
		: (float) m / (float) (g.M - 1);
}

#endif
