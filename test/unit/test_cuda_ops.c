/*
 * test_cuda_ops.c - the CUDA operators against naive CPU reference loops.
 *
 * Three parts:
 *  1. Always: every kernel's per-thread body (cuda/sid_cuda_kernels.h, the
 *     code the GPU threads run) is run on the host for every thread index and
 *     compared with an independent naive loop.  This checks the index
 *     arithmetic and the algorithms without a GPU.
 *  2. Always: the device-independent parts of the C API: argument checking
 *     (SID_EINVAL before any CUDA call), and, when no GPU is usable, that the
 *     probe says why and every operator returns SID_EDEVICE instead of crashing.
 *  3. Only with a usable GPU: each operator run on the device, downloaded and
 *     compared with the same reference loops.  Skipped, saying so, otherwise.
 *
 * Tolerances (float32 everywhere, references in double):
 *  elementwise ops, norms, pooling, im2col   |gpu - ref| <= 1e-5 * (1 + |ref|)
 *  sums over C terms (distances, GEMM)       |gpu - ref| <= 1e-5 * C * scale
 *  top-k on identical distances              exact (same indices, same order)
 *  kNN from features                         every chosen neighbour is within
 *                                            1e-5 relative of the k-th distance
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "sid_device.h"
#include "sid_error.h"
#include "../../cuda/sid_cuda_ops.h"

/* ---------------------------------------------------------------- data */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static float
frand(void)						/* uniform in [-1, 1) */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float) ((rng_state >> 40) * (1.0 / 8388608.0) - 1.0);
}

static float *
rand_vec(int64_t n)
{
	float	   *v = malloc(sizeof(float) * n);

	for (int64_t i = 0; i < n; i++)
		v[i] = frand();
	return v;
}

static double
max_rel_err(const float *got, const double *want, int64_t n)
{
	double		worst = 0.0;

	for (int64_t i = 0; i < n; i++)
	{
		double		e = fabs((double) got[i] - want[i]) / (1.0 + fabs(want[i]));

		if (!(e <= worst))		/* NaN counts as the worst */
			worst = isnan(e) ? INFINITY : e;
	}
	return worst;
}

/* ---------------------------------------------------------- references */

static void
ref_sqdist(const float *x, int B, int N, int C, double *d)
{
	for (int b = 0; b < B; b++)
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
			{
				double		s = 0;

				for (int c = 0; c < C; c++)
				{
					double		t = (double) x[(b * N + i) * C + c] - x[(b * N + j) * C + c];

					s += t * t;
				}
				d[((int64_t) b * N + i) * N + j] = s;
			}
}

typedef struct cand
{
	float		d;
	int			j;
} cand;

static int
cand_cmp(const void *a, const void *b)
{
	const cand *x = a,
			   *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->j - y->j;
}

/* k nearest by (distance, index), sorting every candidate */
static void
ref_topk(const float *d, int B, int N, int k, int include_self, int32_t *idx)
{
	cand	   *c = malloc(sizeof(cand) * N);

	for (int64_t r = 0; r < (int64_t) B * N; r++)
	{
		int			i = (int) (r % N),
					m = 0;

		for (int j = 0; j < N; j++)
			if (include_self || j != i)
				c[m++] = (cand) {d[r * N + j], j};
		qsort(c, m, sizeof(cand), cand_cmp);
		for (int q = 0; q < k; q++)
			idx[r * k + q] = c[q].j;
	}
	free(c);
}

static void
ref_maxrel(const float *x, const int32_t *idx, int B, int N, int C, int k, double *y)
{
	for (int b = 0; b < B; b++)
		for (int i = 0; i < N; i++)
			for (int c = 0; c < C; c++)
			{
				double		xi = x[(b * N + i) * C + c],
							m = -INFINITY;

				for (int q = 0; q < k; q++)
				{
					int			j = idx[(b * N + i) * k + q];
					double		r = x[(b * N + j) * C + c] - xi;

					if (r > m)
						m = r;
				}
				y[((int64_t) b * N + i) * 2 * C + c] = xi;
				y[((int64_t) b * N + i) * 2 * C + C + c] = m;
			}
}

static void
ref_layernorm(const float *x, int64_t rows, int C, const float *g, const float *be,
			  double eps, double *y)
{
	for (int64_t r = 0; r < rows; r++)
	{
		double		mean = 0,
					var = 0;

		for (int c = 0; c < C; c++)
			mean += x[r * C + c];
		mean /= C;
		for (int c = 0; c < C; c++)
			var += (x[r * C + c] - mean) * (x[r * C + c] - mean);
		var /= C;
		for (int c = 0; c < C; c++)
			y[r * C + c] = (x[r * C + c] - mean) / sqrt(var + eps) * g[c] + be[c];
	}
}

static void
ref_batchnorm(const float *x, int64_t rows, int C, const float *mu, const float *var,
			  const float *g, const float *be, double eps, double *y)
{
	for (int64_t r = 0; r < rows; r++)
		for (int c = 0; c < C; c++)
			y[r * C + c] = (x[r * C + c] - mu[c]) / sqrt(var[c] + eps) * g[c] + be[c];
}

static double
ref_act(double v, int act)
{
	switch (act)
	{
		case SID_ACT_RELU:
			return v > 0 ? v : 0;
		case SID_ACT_ELU:
			return v > 0 ? v : exp(v) - 1;
		case SID_ACT_GELU_ERF:
			return 0.5 * v * (1 + erf(v / sqrt(2.0)));
		case SID_ACT_GELU_TANH:
			return 0.5 * v * (1 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
		default:
			return v;
	}
}

static void
ref_bias_act(const float *x, int64_t rows, int C, const float *bias, const float *res,
			 int act, double *y)
{
	for (int64_t r = 0; r < rows; r++)
		for (int c = 0; c < C; c++)
		{
			double		v = (double) x[r * C + c] + (bias ? bias[c] : 0) + (res ? res[r * C + c] : 0);

			y[r * C + c] = ref_act(v, act);
		}
}

static void
ref_meanpool(const float *x, int B, int N, int C, double *y)
{
	for (int b = 0; b < B; b++)
		for (int c = 0; c < C; c++)
		{
			double		s = 0;

			for (int n = 0; n < N; n++)
				s += x[((int64_t) b * N + n) * C + c];
			y[b * C + c] = s / N;
		}
}

static void
ref_l2norm(const float *x, int64_t rows, int D, double eps, double *y)
{
	for (int64_t r = 0; r < rows; r++)
	{
		double		s = 0;

		for (int c = 0; c < D; c++)
			s += (double) x[r * D + c] * x[r * D + c];
		s = sqrt(s);
		if (s < eps)
			s = eps;
		for (int c = 0; c < D; c++)
			y[r * D + c] = x[r * D + c] / s;
	}
}

/*
 * Direct convolution y[b][oh*OW+ow][o] = sum_{c,u,v} W[o][c][u][v] x(b,c,h,w),
 * written without any column matrix, to check im2col + GEMM against.
 */
static void
ref_conv(const float *x, const sid_conv_geom *g, const float *W, int Cout, double *y)
{
	for (int b = 0; b < g->B; b++)
		for (int oh = 0; oh < g->OH; oh++)
			for (int ow = 0; ow < g->OW; ow++)
				for (int o = 0; o < Cout; o++)
				{
					double		s = 0;

					for (int c = 0; c < g->Cin; c++)
						for (int u = 0; u < g->KH; u++)
							for (int v = 0; v < g->KW; v++)
							{
								int			h = oh * g->stride_h - g->pad_h + u,
											w = ow * g->stride_w - g->pad_w + v;

								if (h < 0 || h >= g->H || w < 0 || w >= g->W)
									continue;
								s += (double) W[((o * g->Cin + c) * g->KH + u) * g->KW + v] *
									x[b * g->sb + c * g->sc + h * g->sh + w * g->sw];
							}
					y[(((int64_t) b * g->OH + oh) * g->OW + ow) * Cout + o] = s;
				}
}

/* C[M][N] = op(A) op(B) row-major in double, like cblas_sgemm(RowMajor) */
static void
ref_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
		 int ldb, double *C, int ldc)
{
	for (int m = 0; m < M; m++)
		for (int n = 0; n < N; n++)
		{
			double		s = 0;

			for (int q = 0; q < K; q++)
				s += (double) (ta ? A[q * lda + m] : A[m * lda + q]) *
					(tb ? B[n * ldb + q] : B[q * ldb + n]);
			C[m * ldc + n] = s;
		}
}

/* im2col columns times W^T (Cout x Cin*KH*KW), the way the encoder uses them */
static void
cols_times_weights(const float *col, int64_t P, int K, const float *W, int Cout, float *y)
{
	for (int64_t p = 0; p < P; p++)
		for (int o = 0; o < Cout; o++)
		{
			double		s = 0;

			for (int q = 0; q < K; q++)
				s += (double) col[p * K + q] * W[o * K + q];
			y[p * Cout + o] = (float) s;
		}
}

/*
 * Geometries for im2col: an NCHW spectrogram window (3 x 16 x 11, kernel 4x3,
 * stride 4x2) and a channel-last node grid (6 x 7 nodes of 5 channels,
 * kernel 3x3, stride 2), both padded by one.
 */
static sid_conv_geom
test_geom(int channel_last)
{
	sid_conv_geom g = {.B = 2,.Cin = 3,.H = 16,.W = 11,.KH = 4,.KW = 3,
	.stride_h = 4,.stride_w = 2,.pad_h = 1,.pad_w = 1};

	if (channel_last)
	{
		g.Cin = 5;
		g.H = 6;
		g.W = 7;
		g.KH = 3;
		g.stride_h = 2;
		g.sc = 1;
		g.sw = g.Cin;
		g.sh = (int64_t) g.W * g.Cin;
		g.sb = g.sh * g.H;
	}
	else
	{
		g.sw = 1;
		g.sh = g.W;
		g.sc = (int64_t) g.H * g.W;
		g.sb = g.sc * g.Cin;
	}
	g.OH = (g.H + 2 * g.pad_h - g.KH) / g.stride_h + 1;
	g.OW = (g.W + 2 * g.pad_w - g.KW) / g.stride_w + 1;
	return g;
}

/* ------------------------------------------ part 1: host-run kernel bodies */

enum
{
	TB = 3, TN = 41, TC = 19, TK = 9
};

static void
host_bodies(void)
{
	int64_t		nn = (int64_t) TB * TN;
	float	   *x = rand_vec(nn * TC);
	float	   *d = malloc(sizeof(float) * nn * TN);
	double	   *dref = malloc(sizeof(double) * nn * TN);
	int32_t    *idx = malloc(sizeof(int32_t) * nn * TK);
	int32_t    *iref = malloc(sizeof(int32_t) * nn * TK);
	float	   *y = malloc(sizeof(float) * nn * 2 * TC);
	double	   *yref = malloc(sizeof(double) * nn * 2 * TC);
	int			same;

	/* distances */
	for (int64_t t = 0; t < nn * TN; t++)
		sid_k_sqdist(x, d, TN, TC, t);
	ref_sqdist(x, TB, TN, TC, dref);
	CHECK(max_rel_err(d, dref, nn * TN) <= 1e-5 * TC,
		  "host body: squared distances [%d][%d][%d] match the reference", TB, TN, TN);

	/* top-k with and without self, on the reference's own float distances */
	for (int self = 0; self <= 1; self++)
	{
		for (int64_t t = 0; t < nn; t++)
			sid_k_topk(d, idx, TN, TK, self, t);
		ref_topk(d, TB, TN, TK, self, iref);
		CHECK(memcmp(idx, iref, sizeof(int32_t) * nn * TK) == 0,
			  "host body: top-%d %s self equals a full sort", TK, self ? "including" : "excluding");
	}
	for (int64_t t = 0; t < nn; t++)
		sid_k_topk(d, idx, TN, TK, 1, t);
	same = 1;
	for (int64_t t = 0; t < nn; t++)
		same &= idx[t * TK] == (int32_t) (t % TN);
	CHECK(same, "host body: with self included each node is its own first neighbour");

	/* ties: integer distances with many repeats go to the lower index */
	{
		float	   *dt = malloc(sizeof(float) * nn * TN);

		for (int64_t q = 0; q < nn * TN; q++)
			dt[q] = (float) ((q * 7) % 5);
		for (int64_t t = 0; t < nn; t++)
			sid_k_topk(dt, idx, TN, TK, 0, t);
		ref_topk(dt, TB, TN, TK, 0, iref);
		CHECK(memcmp(idx, iref, sizeof(int32_t) * nn * TK) == 0,
			  "host body: top-k breaks distance ties towards the lower node index");
		free(dt);
	}

	/* max-relative on the neighbours just found */
	for (int64_t t = 0; t < nn * TC; t++)
		sid_k_maxrel(x, idx, y, TN, TC, TK, t);
	ref_maxrel(x, idx, TB, TN, TC, TK, yref);
	CHECK(max_rel_err(y, yref, nn * 2 * TC) <= 1e-6,
		  "host body: max-relative [x_i | max_j (x_j - x_i)] matches");

	/* layer norm and batch norm */
	{
		float	   *g = rand_vec(TC),
				   *be = rand_vec(TC),
				   *mu = rand_vec(TC),
				   *var = rand_vec(TC);

		for (int c = 0; c < TC; c++)
			var[c] = var[c] * var[c] + 0.1f;
		for (int64_t t = 0; t < nn; t++)
			sid_k_layernorm(x, y, g, be, TC, 1e-5f, t);
		ref_layernorm(x, nn, TC, g, be, 1e-5, yref);
		CHECK(max_rel_err(y, yref, nn * TC) <= 1e-5, "host body: layer norm matches");
		for (int64_t t = 0; t < nn * TC; t++)
			sid_k_batchnorm(x, y, mu, var, g, be, TC, 1e-5f, t);
		ref_batchnorm(x, nn, TC, mu, var, g, be, 1e-5, yref);
		CHECK(max_rel_err(y, yref, nn * TC) <= 1e-5, "host body: batch norm (running stats) matches");
		free(g);
		free(be);
		free(mu);
		free(var);
	}

	/* bias + residual + each activation, inputs spread over [-4, 4) */
	{
		float	   *xs = rand_vec(nn * TC),
				   *bias = rand_vec(TC),
				   *res = rand_vec(nn * TC);
		const char *names[] = {"none", "ReLU", "ELU", "GELU (erf)", "GELU (tanh)"};

		for (int64_t q = 0; q < nn * TC; q++)
			xs[q] *= 4.0f;
		for (int act = SID_ACT_NONE; act <= SID_ACT_GELU_TANH; act++)
		{
			for (int64_t t = 0; t < nn * TC; t++)
				sid_k_bias_act(xs, bias, res, y, TC, act, t);
			ref_bias_act(xs, nn, TC, bias, res, act, yref);
			CHECK(max_rel_err(y, yref, nn * TC) <= 1e-5,
				  "host body: bias + residual + activation %s matches", names[act]);
		}
		for (int64_t t = 0; t < nn * TC; t++)
			sid_k_bias_act(xs, NULL, NULL, y, TC, SID_ACT_NONE, t);
		CHECK(memcmp(y, xs, sizeof(float) * nn * TC) == 0,
			  "host body: no bias, no residual, no activation copies exactly");
		free(xs);
		free(bias);
		free(res);
	}

	/* mean pooling, L2 normalisation (with a zero row) */
	for (int64_t t = 0; t < (int64_t) TB * TC; t++)
		sid_k_meanpool(x, y, TN, TC, t);
	ref_meanpool(x, TB, TN, TC, yref);
	CHECK(max_rel_err(y, yref, (int64_t) TB * TC) <= 1e-5, "host body: mean pooling over nodes matches");
	memset(x, 0, sizeof(float) * TC);
	for (int64_t t = 0; t < nn; t++)
		sid_k_l2norm(x, y, TC, 1e-12f, t);
	ref_l2norm(x, nn, TC, 1e-12, yref);
	CHECK(max_rel_err(y, yref, nn * TC) <= 1e-5, "host body: L2 normalisation matches");
	same = 1;
	for (int c = 0; c < TC; c++)
		same &= y[c] == 0.0f;
	CHECK(same, "host body: L2 normalisation leaves a zero row zero (no NaN)");

	/* im2col then the weight product equals a direct convolution, both layouts */
	for (int layout = 0; layout < 2; layout++)
	{
		sid_conv_geom g = test_geom(layout);
		int			K = g.Cin * g.KH * g.KW,
					Cout = 6;
		int64_t		P = (int64_t) g.B * g.OH * g.OW;
		float	   *in = rand_vec((int64_t) g.B * g.Cin * g.H * g.W);
		float	   *W = rand_vec((int64_t) Cout * K);
		float	   *col = malloc(sizeof(float) * P * K);
		float	   *out = malloc(sizeof(float) * P * Cout);
		double	   *oref = malloc(sizeof(double) * P * Cout);

		for (int64_t t = 0; t < P * K; t++)
			sid_k_im2col(in, col, g, t);
		cols_times_weights(col, P, K, W, Cout, out);
		ref_conv(in, &g, W, Cout, oref);
		CHECK(max_rel_err(out, oref, P * Cout) <= 1e-5 * K,
			  "host body: im2col x weights equals a direct %s convolution (%dx%d stride %dx%d pad %dx%d)",
			  layout == 0 ? "NCHW" : "channel-last", g.KH, g.KW, g.stride_h, g.stride_w,
			  g.pad_h, g.pad_w);
		free(in);
		free(W);
		free(col);
		free(out);
		free(oref);
	}

	free(x);
	free(d);
	free(dref);
	free(idx);
	free(iref);
	free(y);
	free(yref);
}

/* ------------------------------------------------ part 2 and 3: the C API */

#ifdef SAMPLEID_HAVE_CUDA

/* argument errors come back as SID_EINVAL before the device is touched */
static void
api_arguments(void)
{
	sid_error	err;
	sid_conv_geom g = test_geom(0);

	memset(&err, 0, sizeof(err));
	CHECK(sid_cuda_topk(NULL, NULL, 1, 8, 0, 1, NULL, &err) == SID_EINVAL,
		  "topk with k = 0 is SID_EINVAL (%s)", err.msg);
	CHECK(sid_cuda_knn(NULL, NULL, 1, 8, 4, 8, 0, NULL, &err) == SID_EINVAL,
		  "knn with k = N and self excluded is SID_EINVAL (%s)", err.msg);
	CHECK(sid_cuda_knn(NULL, NULL, 1, 64, 4, SID_KNN_MAX_K + 1, 1, NULL, &err) == SID_EINVAL,
		  "knn with k above %d is SID_EINVAL", SID_KNN_MAX_K);
	CHECK(sid_cuda_maxrel(NULL, NULL, NULL, 0, 8, 4, 2, NULL, &err) == SID_EINVAL,
		  "maxrel with B = 0 is SID_EINVAL");
	CHECK(sid_cuda_layernorm(NULL, NULL, 4, 8, NULL, NULL, 0.0f, NULL, &err) == SID_EINVAL,
		  "layer norm with eps = 0 is SID_EINVAL");
	CHECK(sid_cuda_bias_act(NULL, NULL, 4, 8, NULL, NULL, 99, NULL, &err) == SID_EINVAL,
		  "unknown activation is SID_EINVAL");
	CHECK(sid_cuda_gemm(NULL, 0, 0, 4, 5, 6, 1.0f, NULL, 5, NULL, 5, 0.0f, NULL, 5, &err) == SID_EINVAL,
		  "gemm with lda < K is SID_EINVAL (%s)", err.msg);
	g.KH = 40;
	CHECK(sid_conv_geom_finish(&g, &err) == SID_EINVAL,
		  "a kernel taller than the padded input is SID_EINVAL (%s)", err.msg);
	g = test_geom(0);
	g.OH++;
	CHECK(sid_cuda_im2col(NULL, NULL, &g, NULL, &err) == SID_EINVAL,
		  "im2col with an inconsistent output size is SID_EINVAL");
	g = test_geom(0);
	CHECK(sid_conv_geom_finish(&g, &err) == SID_OK && g.OH == 4 && g.OW == 6,
		  "conv geometry 16x11, kernel 4x3, stride 4x2, pad 1 gives 4x6 outputs");
}

/* no usable GPU: a reason, and SID_EDEVICE from everything that needs one */
static void
api_without_device(const char *why)
{
	sid_error	err;
	sid_cuda_ctx *ctx = (sid_cuda_ctx *) 1;
	sid_status	st;
	int			bad = 0;
	char		reason[256];
	float		host[4] = {0};
	sid_conv_geom g = test_geom(0);

	CHECK(sid_cuda_device_count(reason, sizeof(reason)) == 0 && reason[0] != '\0',
		  "device probe returns 0 with a reason: %s", why);
	CHECK(sid_device_resolve(SID_DEVICE_CUDA, reason, sizeof(reason)) == -1,
		  "resolving sampleid.device = cuda fails: %s", reason);
	CHECK(sid_device_resolve(SID_DEVICE_AUTO, reason, sizeof(reason)) == SID_DEVICE_CPU,
		  "resolving auto gives the CPU: %s", reason);

	memset(&err, 0, sizeof(err));
	st = sid_cuda_ctx_create(&ctx, 0, 1 << 20, &err);
	CHECK(st == SID_EDEVICE && ctx == NULL && err.code == SID_EDEVICE && err.msg[0] != '\0',
		  "creating a CUDA context gives SID_EDEVICE and NULL: %s", err.msg);
	CHECK(sid_cuda_alloc(NULL, 64, &err) == NULL && err.code == SID_EDEVICE,
		  "arena allocation without a context gives SID_EDEVICE");
	CHECK(sid_cuda_upload(NULL, host, host, sizeof(host), &err) == SID_EDEVICE &&
		  sid_cuda_download(NULL, host, host, sizeof(host), &err) == SID_EDEVICE,
		  "upload and download without a context give SID_EDEVICE");

	/* every operator, called with valid shapes and no context */
	bad |= sid_cuda_gemm(NULL, 0, 1, 4, 5, 6, 1.0f, host, 6, host, 6, 0.0f, host, 5, &err) != SID_EDEVICE;
	bad |= sid_cuda_linear(NULL, host, 4, 6, host, NULL, 5, SID_ACT_GELU_ERF, NULL, host + 1, &err) != SID_EDEVICE;
	bad |= sid_cuda_sqdist(NULL, host, 1, 8, 4, host, &err) != SID_EDEVICE;
	bad |= sid_cuda_topk(NULL, host, 1, 8, 3, 0, NULL, &err) != SID_EDEVICE;
	bad |= sid_cuda_knn(NULL, host, 1, 8, 4, 3, 1, NULL, &err) != SID_EDEVICE;
	bad |= sid_cuda_maxrel(NULL, host, NULL, 1, 8, 4, 3, host, &err) != SID_EDEVICE;
	bad |= sid_cuda_layernorm(NULL, host, 4, 8, NULL, NULL, 1e-5f, host, &err) != SID_EDEVICE;
	bad |= sid_cuda_batchnorm(NULL, host, 4, 8, host, host, host, host, 1e-5f, host, &err) != SID_EDEVICE;
	bad |= sid_cuda_bias_act(NULL, host, 4, 8, NULL, NULL, SID_ACT_RELU, host, &err) != SID_EDEVICE;
	bad |= sid_cuda_meanpool(NULL, host, 1, 8, 4, host, &err) != SID_EDEVICE;
	bad |= sid_cuda_l2norm(NULL, host, 4, 8, 1e-12f, host, &err) != SID_EDEVICE;
	bad |= sid_cuda_im2col(NULL, host, &g, host, &err) != SID_EDEVICE;
	bad |= sid_cuda_sync(NULL, &err) != SID_EDEVICE;
	CHECK(bad == 0, "all 13 operators return SID_EDEVICE without a context (last: %s)", err.msg);
	sid_cuda_ctx_free(NULL);
	CHECK(1, "freeing a NULL context is a no-op");
}

/* ------------------------------------------------ part 3: on the GPU */

/* upload n floats into a fresh arena block */
static float *
dev_from(sid_cuda_ctx *ctx, const void *host, size_t bytes, sid_error *err)
{
	void	   *d = sid_cuda_alloc(ctx, bytes, err);

	if (d && sid_cuda_upload(ctx, d, host, bytes, err) != SID_OK)
		return NULL;
	return d;
}

#define GPU_OK(call) do { if ((call) != SID_OK) { CHECK(0, "%s: %s", #call, err.msg); goto out; } } while (0)
#define DEV(ptr) do { if ((ptr) == NULL) { CHECK(0, "device allocation: %s", err.msg); goto out; } } while (0)

static void
gpu_ops(void)
{
	enum
	{
		B = 4, N = 196, C = 48, K = 16
	};
	int64_t		nn = (int64_t) B * N;
	sid_error	err;
	sid_cuda_ctx *ctx = NULL;
	float	   *x = rand_vec(nn * C);
	float	   *y = malloc(sizeof(float) * nn * 2 * C);
	float	   *d = malloc(sizeof(float) * nn * N);
	double	   *dref = malloc(sizeof(double) * nn * N);
	double	   *yref = malloc(sizeof(double) * nn * 2 * C);
	int32_t    *idx = malloc(sizeof(int32_t) * nn * K);
	int32_t    *iref = malloc(sizeof(int32_t) * nn * K);
	float	   *g = rand_vec(C),
			   *be = rand_vec(C),
			   *mu = rand_vec(C),
			   *var = rand_vec(C),
			   *res = rand_vec(nn * C);
	float	   *dx,
			   *dd,
			   *dy,
			   *dg,
			   *dbe,
			   *dmu,
			   *dvar,
			   *dres;
	int32_t    *didx;

	memset(&err, 0, sizeof(err));
	for (int c = 0; c < C; c++)
		var[c] = var[c] * var[c] + 0.1f;
	GPU_OK(sid_cuda_ctx_create(&ctx, 0, (size_t) 64 << 20, &err));
	DEV(dx = dev_from(ctx, x, sizeof(float) * nn * C, &err));
	DEV(dg = dev_from(ctx, g, sizeof(float) * C, &err));
	DEV(dbe = dev_from(ctx, be, sizeof(float) * C, &err));
	DEV(dmu = dev_from(ctx, mu, sizeof(float) * C, &err));
	DEV(dvar = dev_from(ctx, var, sizeof(float) * C, &err));
	DEV(dres = dev_from(ctx, res, sizeof(float) * nn * C, &err));
	DEV(dd = sid_cuda_alloc(ctx, sizeof(float) * nn * N, &err));
	DEV(dy = sid_cuda_alloc(ctx, sizeof(float) * nn * 2 * C, &err));
	DEV(didx = sid_cuda_alloc(ctx, sizeof(int32_t) * nn * K, &err));

	GPU_OK(sid_cuda_sqdist(ctx, dx, B, N, C, dd, &err));
	GPU_OK(sid_cuda_download(ctx, d, dd, sizeof(float) * nn * N, &err));
	ref_sqdist(x, B, N, C, dref);
	CHECK(max_rel_err(d, dref, nn * N) <= 1e-5 * C, "GPU: squared distances [%d][%d][%d]", B, N, N);

	/* top-k on the GPU's own distances must equal the sort of the same floats */
	for (int self = 0; self <= 1; self++)
	{
		GPU_OK(sid_cuda_topk(ctx, dd, B, N, K, self, didx, &err));
		GPU_OK(sid_cuda_download(ctx, idx, didx, sizeof(int32_t) * nn * K, &err));
		ref_topk(d, B, N, K, self, iref);
		CHECK(memcmp(idx, iref, sizeof(int32_t) * nn * K) == 0,
			  "GPU: top-%d %s self equals a full sort exactly", K, self ? "including" : "excluding");
	}

	/* fused kNN from features: chosen neighbours are as near as the k-th (near-ties aside) */
	{
		int			ok = 1;

		ref_topk(d, B, N, K, 0, iref);
		GPU_OK(sid_cuda_knn(ctx, dx, B, N, C, K, 0, didx, &err));
		GPU_OK(sid_cuda_download(ctx, idx, didx, sizeof(int32_t) * nn * K, &err));
		for (int64_t r = 0; r < nn; r++)
		{
			double		kth = dref[r * N + iref[r * K + K - 1]];

			for (int q = 0; q < K; q++)
				ok &= idx[r * K + q] != (int32_t) (r % N) &&
					dref[r * N + idx[r * K + q]] <= kth * (1 + 1e-5) + 1e-6;
		}
		CHECK(ok, "GPU: kNN from features picks only true k-nearest neighbours (self excluded)");
	}

	GPU_OK(sid_cuda_maxrel(ctx, dx, didx, B, N, C, K, dy, &err));
	GPU_OK(sid_cuda_download(ctx, y, dy, sizeof(float) * nn * 2 * C, &err));
	ref_maxrel(x, idx, B, N, C, K, yref);
	CHECK(max_rel_err(y, yref, nn * 2 * C) <= 1e-5, "GPU: max-relative aggregation");

	GPU_OK(sid_cuda_layernorm(ctx, dx, nn, C, dg, dbe, 1e-5f, dy, &err));
	GPU_OK(sid_cuda_download(ctx, y, dy, sizeof(float) * nn * C, &err));
	ref_layernorm(x, nn, C, g, be, 1e-5, yref);
	CHECK(max_rel_err(y, yref, nn * C) <= 1e-5, "GPU: layer norm");

	GPU_OK(sid_cuda_batchnorm(ctx, dx, nn, C, dmu, dvar, dg, dbe, 1e-5f, dy, &err));
	GPU_OK(sid_cuda_download(ctx, y, dy, sizeof(float) * nn * C, &err));
	ref_batchnorm(x, nn, C, mu, var, g, be, 1e-5, yref);
	CHECK(max_rel_err(y, yref, nn * C) <= 1e-5, "GPU: batch norm");

	for (int act = SID_ACT_NONE; act <= SID_ACT_GELU_TANH; act++)
	{
		GPU_OK(sid_cuda_bias_act(ctx, dx, nn, C, dg, dres, act, dy, &err));
		GPU_OK(sid_cuda_download(ctx, y, dy, sizeof(float) * nn * C, &err));
		ref_bias_act(x, nn, C, g, res, act, yref);
		CHECK(max_rel_err(y, yref, nn * C) <= 1e-5, "GPU: bias + residual + activation %d", act);
	}

	GPU_OK(sid_cuda_meanpool(ctx, dx, B, N, C, dy, &err));
	GPU_OK(sid_cuda_download(ctx, y, dy, sizeof(float) * B * C, &err));
	ref_meanpool(x, B, N, C, yref);
	CHECK(max_rel_err(y, yref, (int64_t) B * C) <= 1e-5, "GPU: mean pooling");

	GPU_OK(sid_cuda_l2norm(ctx, dx, nn, C, 1e-12f, dy, &err));
	GPU_OK(sid_cuda_download(ctx, y, dy, sizeof(float) * nn * C, &err));
	ref_l2norm(x, nn, C, 1e-12, yref);
	CHECK(max_rel_err(y, yref, nn * C) <= 1e-5, "GPU: L2 normalisation");

	/* GEMM in all four transpose combinations with padded leading dimensions */
	for (int ta = 0; ta <= 1; ta++)
		for (int tb = 0; tb <= 1; tb++)
		{
			int			M = 37,
						Nn = 29,
						Kk = 53;
			int			lda = (ta ? M : Kk) + 3,
						ldb = (tb ? Kk : Nn) + 2,
						ldc = Nn + 5;
			size_t		mark = sid_cuda_mark(ctx);
			float	   *A = rand_vec((int64_t) (ta ? Kk : M) * lda);
			float	   *Bm = rand_vec((int64_t) (tb ? Nn : Kk) * ldb);
			float	   *Cm = malloc(sizeof(float) * M * ldc);
			double	   *Cref = calloc((size_t) M * ldc, sizeof(double));
			float	   *dA,
					   *dB,
					   *dC;
			double		worst = 0;

			dA = dev_from(ctx, A, sizeof(float) * (ta ? Kk : M) * lda, &err);
			dB = dev_from(ctx, Bm, sizeof(float) * (tb ? Nn : Kk) * ldb, &err);
			dC = sid_cuda_alloc(ctx, sizeof(float) * M * ldc, &err);
			if (dA && dB && dC &&
				sid_cuda_gemm(ctx, ta, tb, M, Nn, Kk, 1.0f, dA, lda, dB, ldb, 0.0f, dC, ldc, &err) == SID_OK &&
				sid_cuda_download(ctx, Cm, dC, sizeof(float) * M * ldc, &err) == SID_OK)
			{
				ref_gemm(ta, tb, M, Nn, Kk, A, lda, Bm, ldb, Cref, ldc);
				for (int m = 0; m < M; m++)
					for (int n = 0; n < Nn; n++)
						worst = fmax(worst, fabs(Cm[m * ldc + n] - Cref[m * ldc + n]));
				CHECK(worst <= 1e-5 * Kk, "GPU: gemm trans_a %d trans_b %d (max error %.2g)", ta, tb, worst);
			}
			else
				CHECK(0, "GPU: gemm trans_a %d trans_b %d: %s", ta, tb, err.msg);
			sid_cuda_release(ctx, mark);
			free(A);
			free(Bm);
			free(Cm);
			free(Cref);
		}

	/* linear with the residual being the output itself (the block's x += f(x)) */
	{
		int			out_c = 24;
		size_t		mark = sid_cuda_mark(ctx);
		float	   *W = rand_vec((int64_t) out_c * C),
				   *bias = rand_vec(out_c),
				   *r0 = rand_vec(nn * out_c);
		float	   *dW = dev_from(ctx, W, sizeof(float) * out_c * C, &err),
				   *db = dev_from(ctx, bias, sizeof(float) * out_c, &err),
				   *dr = dev_from(ctx, r0, sizeof(float) * nn * out_c, &err);

		if (dW && db && dr &&
			sid_cuda_linear(ctx, dx, (int) nn, C, dW, db, out_c, SID_ACT_NONE, dr, dr, &err) == SID_OK &&
			sid_cuda_download(ctx, y, dr, sizeof(float) * nn * out_c, &err) == SID_OK)
		{
			for (int64_t r = 0; r < nn; r++)
				for (int o = 0; o < out_c; o++)
				{
					double		s = (double) bias[o] + r0[r * out_c + o];

					for (int c = 0; c < C; c++)
						s += (double) x[r * C + c] * W[o * C + c];
					yref[r * out_c + o] = s;
				}
			CHECK(max_rel_err(y, yref, nn * out_c) <= 1e-5 * C, "GPU: linear + bias + in-place residual");
		}
		else
			CHECK(0, "GPU: linear: %s", err.msg);
		sid_cuda_release(ctx, mark);
		free(W);
		free(bias);
		free(r0);
	}

	/* im2col + gemm equals a direct convolution */
	for (int layout = 0; layout < 2; layout++)
	{
		sid_conv_geom cg = test_geom(layout);
		int			Kc = cg.Cin * cg.KH * cg.KW,
					Cout = 6;
		int64_t		P = (int64_t) cg.B * cg.OH * cg.OW,
					nin = (int64_t) cg.B * cg.Cin * cg.H * cg.W;
		size_t		mark = sid_cuda_mark(ctx);
		float	   *in = rand_vec(nin),
				   *W = rand_vec((int64_t) Cout * Kc),
				   *out = malloc(sizeof(float) * P * Cout);
		double	   *oref = malloc(sizeof(double) * P * Cout);
		float	   *din = dev_from(ctx, in, sizeof(float) * nin, &err),
				   *dW = dev_from(ctx, W, sizeof(float) * Cout * Kc, &err),
				   *dcol = sid_cuda_alloc(ctx, sizeof(float) * P * Kc, &err),
				   *dout = sid_cuda_alloc(ctx, sizeof(float) * P * Cout, &err);

		if (din && dW && dcol && dout &&
			sid_cuda_im2col(ctx, din, &cg, dcol, &err) == SID_OK &&
			sid_cuda_linear(ctx, dcol, (int) P, Kc, dW, NULL, Cout, SID_ACT_NONE, NULL, dout, &err) == SID_OK &&
			sid_cuda_download(ctx, out, dout, sizeof(float) * P * Cout, &err) == SID_OK)
		{
			ref_conv(in, &cg, W, Cout, oref);
			CHECK(max_rel_err(out, oref, P * Cout) <= 1e-5 * Kc, "GPU: im2col + linear = %s convolution",
				  layout == 0 ? "NCHW" : "channel-last");
		}
		else
			CHECK(0, "GPU: im2col layout %d: %s", layout, err.msg);
		sid_cuda_release(ctx, mark);
		free(in);
		free(W);
		free(out);
		free(oref);
	}

	/* the arena refuses what it cannot hold, with SID_ENOMEM */
	CHECK(sid_cuda_alloc(ctx, sid_cuda_arena_size(ctx) + 1, &err) == NULL && err.code == SID_ENOMEM,
		  "GPU: an allocation larger than the arena is SID_ENOMEM (%s)", err.msg);

out:
	sid_cuda_ctx_free(ctx);
	free(x);
	free(y);
	free(d);
	free(dref);
	free(yref);
	free(idx);
	free(iref);
	free(g);
	free(be);
	free(mu);
	free(var);
	free(res);
}

#endif							/* SAMPLEID_HAVE_CUDA */

int
main(void)
{
	char		why[256];

	host_bodies();
#ifdef SAMPLEID_HAVE_CUDA
	api_arguments();
	if (sid_cuda_device_count(why, sizeof(why)) > 0)
	{
		printf("# GPU present: %s\n", why);
		gpu_ops();
	}
	else
	{
		api_without_device(why);
		tap_skip("GPU operator checks not run (no usable CUDA device: %s): "
				 "sqdist, topk with/without self, knn, maxrel, layernorm, batchnorm, "
				 "bias+residual+5 activations, meanpool, l2norm, gemm x4 transposes, "
				 "linear with in-place residual, im2col+linear (NCHW, channel-last), "
				 "arena exhaustion", why);
	}
#else
	(void) why;
	tap_skip("built without CUDA (nvcc not found at build time): "
			 "only the host-run kernel bodies were checked");
#endif
	return tap_done();
}
