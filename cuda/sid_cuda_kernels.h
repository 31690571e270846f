/*
 * sid_cuda_kernels.h - the per-thread bodies of the CUDA operator kernels.
 *
 * Written in the common subset of C11 and CUDA C++ so that the very same
 * code runs in two places: inside the __global__ kernels of
 * cuda/sid_cuda_ops.cu (one call per GPU thread) and, compiled by gcc, in the
 * unit tests, which call every body for every thread index on the host and
 * compare with naive reference loops.  A machine without a GPU therefore
 * still checks the index arithmetic and the algorithms of the kernels; only
 * the launch, the memory transfers and the device arithmetic (which may
 * contract a*b+c into fused multiply-adds) go unexercised there.
 *
 * Layouts (row-major, the same as the CPU operators):
 *   node features   x[B][N][C]          node n of sample b at x + (b*N + n)*C
 *   squared dists   d[B][N][N]          d[b][i][j] = sum_c (x_i[c] - x_j[c])^2
 *   neighbours      idx[B][N][k]        int32 node indices within the sample
 *   max-relative    y[B][N][2C]         y_i = [ x_i | max_j (x_j - x_i) ]
 *   im2col columns  col[B][OH*OW][Cin*KH*KW], column c*KH*KW + u*KW + v,
 *                   so conv weights [Cout][Cin][KH][KW] multiply it directly.
 */
#ifndef SID_CUDA_KERNELS_H
#define SID_CUDA_KERNELS_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define SID_HD static __host__ __device__ inline
#else
#define SID_HD static inline
#endif

/* Largest k the top-k selection keeps in registers. */
#define SID_KNN_MAX_K 32

typedef enum sid_act
{
	SID_ACT_NONE = 0,
	SID_ACT_RELU,
	SID_ACT_ELU,				/* alpha = 1 */
	SID_ACT_GELU_ERF,			/* x * Phi(x), the exact form */
	SID_ACT_GELU_TANH			/* the tanh approximation */
} sid_act;

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
	float		xi = x[t];
	const int32_t *nb = idx + bi * k;
	float		m = -INFINITY;

	for (int q = 0; q < k; q++)
	{
		float		r = x[(b * N + nb[q]) * C + c] - xi;

		m = r > m ? r : m;
	}
	y[bi * 2 * C + c] = xi;
	y[bi * 2 * C + C + c] = m;
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

/* ---- batch norm, inference (running statistics): thread t = row*C + c ---- */
SID_HD void
sid_k_batchnorm(const float *x, float *y, const float *mean, const float *var,
				const float *gamma, const float *beta, int C, float eps, int64_t t)
{
	int			c = (int) (t % C);

	y[t] = (x[t] - mean[c]) / sqrtf(var[c] + eps) * gamma[c] + beta[c];
}

/* ---- activations, elementwise ---- */
SID_HD float
sid_k_act1(float v, int act)
{
	switch (act)
	{
		case SID_ACT_RELU:
			return v > 0.0f ? v : 0.0f;
		case SID_ACT_ELU:
			return v > 0.0f ? v : expm1f(v);
		case SID_ACT_GELU_ERF:
			return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
		case SID_ACT_GELU_TANH:
			return 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
		default:
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
 * ---- im2col ----
 * Input element (b, c, h, w) lives at x[b*sb + c*sc + h*sh + w*sw], so one
 * body serves both NCHW spectrogram windows (sw = 1, sh = W, sc = H*W) and
 * channel-last node grids [B][H*W][C] (sc = 1, sw = C, sh = W*C).  Padding
 * reads as zero.  Thread t indexes col[B][OH*OW][Cin*KH*KW] (layout above).
 */
typedef struct sid_conv_geom
{
	int			B,
				Cin,
				H,
				W;
	int64_t		sb,
				sc,
				sh,
				sw;				/* element strides of the input */
	int			KH,
				KW,
				stride_h,
				stride_w,
				pad_h,
				pad_w;
	int			OH,
				OW;
} sid_conv_geom;

SID_HD void
sid_k_im2col(const float *x, float *col, sid_conv_geom g, int64_t t)
{
	int64_t		ncol = (int64_t) g.Cin * g.KH * g.KW;
	int64_t		bp = t / ncol;		/* b*OH*OW + p */
	int			q = (int) (t % ncol);
	int64_t		b = bp / ((int64_t) g.OH * g.OW);
	int			p = (int) (bp % ((int64_t) g.OH * g.OW));
	int			oh = p / g.OW,
				ow = p % g.OW;
	int			c = q / (g.KH * g.KW);
	int			u = (q / g.KW) % g.KH,
				v = q % g.KW;
	int			h = oh * g.stride_h - g.pad_h + u;
	int			w = ow * g.stride_w - g.pad_w + v;

	col[t] = (h < 0 || h >= g.H || w < 0 || w >= g.W) ? 0.0f
		: x[b * g.sb + c * g.sc + h * g.sh + w * g.sw];
}

#endif
