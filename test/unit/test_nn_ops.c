/*
 * test_nn_ops.c - every operator of sid_nn.h: forward against naive loops
 * in double, backward against central finite differences.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "nn_testutil.h"
#include "nn/sid_nn.h"
#include "tap.h"

#define GRAD_TOL 2e-3			/* relative vector error allowed (float forward) */
#define EPS 1e-2f

static size_t worst;

/* ---- linear ---- */
static struct
{
	int			rows, in, out;
	float	   *x, *w, *b, *y, *wy;
} L;

static double
linear_loss(void *ctx)
{
	(void) ctx;
	sid_linear_forward(L.y, L.x, L.w, L.b, L.rows, L.in, L.out);
	return test_dot(L.wy, L.y, (size_t) L.rows * L.out);
}

static void
test_linear(void)
{
	double		maxerr = 0.0;
	float	   *dx,
			   *dw,
			   *db;

	L.rows = 7;
	L.in = 5;
	L.out = 6;
	L.x = test_randn(L.rows * L.in, 1);
	L.w = test_randn(L.out * L.in, 1);
	L.b = test_randn(L.out, 1);
	L.y = test_zeros(L.rows * L.out);
	L.wy = test_randn(L.rows * L.out, 1);
	linear_loss(NULL);
	for (int r = 0; r < L.rows; r++)
		for (int o = 0; o < L.out; o++)
		{
			double		s = L.b[o];

			for (int i = 0; i < L.in; i++)
				s += (double) L.x[r * L.in + i] * L.w[o * L.in + i];
			maxerr = fmax(maxerr, fabs(s - L.y[r * L.out + o]));
		}
	CHECK(maxerr < 1e-5, "linear forward equals the naive loop (max error %.2g)", maxerr);

	dx = test_zeros(L.rows * L.in);
	dw = test_zeros(L.out * L.in);
	db = test_zeros(L.out);
	sid_linear_backward(dx, dw, db, L.wy, L.x, L.w, L.rows, L.in, L.out);
	CHECK(test_grad_check(linear_loss, NULL, L.x, dx, L.rows * L.in, EPS, &worst) < GRAD_TOL,
		  "linear backward: d input matches finite differences");
	CHECK(test_grad_check(linear_loss, NULL, L.w, dw, L.out * L.in, EPS, &worst) < GRAD_TOL,
		  "linear backward: d weight matches finite differences");
	CHECK(test_grad_check(linear_loss, NULL, L.b, db, L.out, EPS, &worst) < GRAD_TOL,
		  "linear backward: d bias matches finite differences");
	/* accumulation: a second backward doubles the gradient */
	sid_linear_backward(dx, dw, db, L.wy, L.x, L.w, L.rows, L.in, L.out);
	{
		float		dw1[30];

		memset(dw1, 0, sizeof(dw1));
		sid_linear_backward(NULL, dw1, NULL, L.wy, L.x, L.w, L.rows, L.in, L.out);
		CHECK(fabsf(dw[3] - 2 * dw1[3]) < 1e-4f, "linear backward accumulates into gradients");
	}
	free(L.x); free(L.w); free(L.b); free(L.y); free(L.wy); free(dx); free(dw); free(db);
}

/* ---- layer norm ---- */
static struct
{
	int			rows, dim;
	float	   *x, *g, *b, *y, *mean, *rstd, *wy;
} N;

static double
ln_loss(void *ctx)
{
	(void) ctx;
	sid_layernorm_forward(N.y, N.mean, N.rstd, N.x, N.g, N.b, N.rows, N.dim);
	return test_dot(N.wy, N.y, (size_t) N.rows * N.dim);
}

static void
test_layernorm(void)
{
	double		maxerr = 0.0;
	float	   *dx,
			   *dg,
			   *db;

	N.rows = 5;
	N.dim = 12;
	N.x = test_randn(N.rows * N.dim, 2);
	N.g = test_randn(N.dim, 1);
	N.b = test_randn(N.dim, 1);
	N.y = test_zeros(N.rows * N.dim);
	N.mean = test_zeros(N.rows);
	N.rstd = test_zeros(N.rows);
	N.wy = test_randn(N.rows * N.dim, 1);
	ln_loss(NULL);
	for (int r = 0; r < N.rows; r++)
	{
		double		m = 0,
					v = 0;

		for (int i = 0; i < N.dim; i++)
			m += N.x[r * N.dim + i];
		m /= N.dim;
		for (int i = 0; i < N.dim; i++)
			v += (N.x[r * N.dim + i] - m) * (N.x[r * N.dim + i] - m);
		v /= N.dim;
		for (int i = 0; i < N.dim; i++)
		{
			double		y = (N.x[r * N.dim + i] - m) / sqrt(v + 1e-5) * N.g[i] + N.b[i];

			maxerr = fmax(maxerr, fabs(y - N.y[r * N.dim + i]));
		}
	}
	CHECK(maxerr < 1e-5, "layer norm forward equals the naive loop (max error %.2g)", maxerr);
	dx = test_zeros(N.rows * N.dim);
	dg = test_zeros(N.dim);
	db = test_zeros(N.dim);
	sid_layernorm_backward(dx, dg, db, N.wy, N.x, N.mean, N.rstd, N.g, N.rows, N.dim);
	CHECK(test_grad_check(ln_loss, NULL, N.x, dx, N.rows * N.dim, EPS, &worst) < GRAD_TOL,
		  "layer norm backward: d input matches finite differences");
	CHECK(test_grad_check(ln_loss, NULL, N.g, dg, N.dim, EPS, &worst) < GRAD_TOL,
		  "layer norm backward: d gamma matches finite differences");
	CHECK(test_grad_check(ln_loss, NULL, N.b, db, N.dim, EPS, &worst) < GRAD_TOL,
		  "layer norm backward: d beta matches finite differences");
	free(N.x); free(N.g); free(N.b); free(N.y); free(N.mean); free(N.rstd); free(N.wy);
	free(dx); free(dg); free(db);
}

/* ---- activations ---- */
static struct
{
	sid_activation act;
	int			n;
	float	   *x, *y, *wy;
} A;

static double
act_loss(void *ctx)
{
	(void) ctx;
	sid_act_forward(A.act, A.y, A.x, A.n);
	return test_dot(A.wy, A.y, A.n);
}

static void
test_activations(void)
{
	static const char *names[] = {"", "GELU", "ReLU", "ELU"};
	double		ref_err = 0.0;

	A.n = 40;
	A.x = test_randn(A.n, 2);
	/* keep ReLU's kink away from the finite-difference step */
	for (int i = 0; i < A.n; i++)
		if (fabsf(A.x[i]) < 0.05f)
			A.x[i] = 0.3f;
	A.y = test_zeros(A.n);
	A.wy = test_randn(A.n, 1);
	for (int a = SID_ACT_GELU; a <= SID_ACT_ELU; a++)
	{
		float	   *dx = test_zeros(A.n);

		A.act = (sid_activation) a;
		act_loss(NULL);
		for (int i = 0; i < A.n; i++)
		{
			double		u = A.x[i],
						ref;

			ref = a == SID_ACT_GELU ? 0.5 * u * (1 + tanh(sqrt(2 / M_PI) * (u + 0.044715 * u * u * u)))
				: a == SID_ACT_RELU ? (u > 0 ? u : 0) : (u > 0 ? u : exp(u) - 1);
			ref_err = fmax(ref_err, fabs(ref - A.y[i]));
		}
		sid_act_backward(A.act, dx, A.wy, A.x, NULL, A.n);
		CHECK(test_grad_check(act_loss, NULL, A.x, dx, A.n, 1e-3f, &worst) < GRAD_TOL,
			  "%s backward matches finite differences", names[a]);
		{
			/* reusing the forward output gives the same gradient */
			float	   *dx2 = test_zeros(A.n);
			double		maxd = 0;

			act_loss(NULL);
			sid_act_backward(A.act, dx2, A.wy, A.x, A.y, A.n);
			for (int i = 0; i < A.n; i++)
				maxd = fmax(maxd, fabs(dx2[i] - dx[i]));
			CHECK(maxd < 1e-5, "%s backward from the saved output equals the recomputed one (max diff %.2g)",
				  names[a], maxd);
			free(dx2);
		}
		free(dx);
	}
	CHECK(ref_err < 1e-5, "GELU, ReLU and ELU forward equal their formulas (max error %.2g)", ref_err);
	free(A.x); free(A.y); free(A.wy);
}

/*
 * GELU's vectorised exponential over the whole float range that matters:
 * a dense grid of [-12, 12] against the formula in double, and arguments
 * far out (where the exponential is clamped) giving 0 below and u above.
 */
static void
test_gelu_range(void)
{
	enum
	{
		n = 24001
	};
	float	   *x = malloc(sizeof(float) * n),
			   *y = malloc(sizeof(float) * n);
	const float far[] = {-1e4f, -100.0f, -30.0f, 30.0f, 100.0f, 1e4f};
	float		y_far[6];
	double		worst = 0.0;
	int			far_ok = 1;

	for (int i = 0; i < n; i++)
		x[i] = -12.0f + 24.0f * i / (n - 1);
	sid_act_forward(SID_ACT_GELU, y, x, n);
	for (int i = 0; i < n; i++)
	{
		double		u = x[i],
					ref = 0.5 * u * (1 + tanh(sqrt(2 / M_PI) * (u + 0.044715 * u * u * u)));

		worst = fmax(worst, fabs(ref - y[i]) / fmax(1.0, fabs(u)));
	}
	CHECK(worst < 1e-6, "GELU on [-12, 12] equals its formula within 1e-6 relative (max %.2g)", worst);
	sid_act_forward(SID_ACT_GELU, y_far, far, 6);
	for (int i = 0; i < 6; i++)
		far_ok &= isfinite(y_far[i]) && fabsf(y_far[i] - (far[i] > 0 ? far[i] : 0.0f)) <= 1e-6f * fabsf(far[i]);
	CHECK(far_ok, "GELU far out is 0 below and u above, finite (%g at -1e4, %g at 1e4)",
		  (double) y_far[0], (double) y_far[5]);
	free(x);
	free(y);
}

/*
 * kNN at the encoder's first-stage size (N = 120, blocks of 8 skipped whole
 * once the list is full) against brute force; and with every node at the
 * same place, where every distance ties, the smaller indices in order.
 */
static void
test_knn_large(void)
{
	int			B = 2,
				N = 120,
				C = 16,
				k = 9;
	float	   *x = test_randn((size_t) B * N * C, 7);
	float	   *scratch = test_zeros(sid_knn_scratch_floats(B, N));
	int32_t    *idx = malloc(sizeof(int32_t) * B * N * k);
	int			ok = 1,
				ties_ok = 1;

	sid_knn_forward(idx, scratch, x, B, N, C, k);
	for (int b = 0; b < B; b++)
		for (int i = 0; i < N; i++)
		{
			double		d[120];
			int			used[120] = {0};

			for (int j = 0; j < N; j++)
			{
				d[j] = 0;
				for (int c = 0; c < C; c++)
				{
					double		t = x[(b * N + i) * C + c] - x[(b * N + j) * C + c];

					d[j] += t * t;
				}
			}
			used[i] = 1;
			for (int r = 0; r < k; r++)
			{
				int			best = -1;

				for (int j = 0; j < N; j++)
					if (!used[j] && (best < 0 || d[j] < d[best]))
						best = j;
				used[best] = 1;
				ok &= idx[(b * N + i) * k + r] == best;
			}
		}
	CHECK(ok, "kNN at N = 120, k = 9 equals brute-force nearest neighbours");
	for (int i = 0; i < B * N * C; i++)
		x[i] = 0.25f;
	sid_knn_forward(idx, scratch, x, B, N, C, k);
	for (int i = 0; i < N; i++)
		for (int r = 0; r < k; r++)
			ties_ok &= idx[(size_t) i * k + r] == (r < i ? r : r + 1);
	CHECK(ties_ok, "kNN with every distance tied takes the smallest other indices, in order");
	free(x);
	free(scratch);
	free(idx);
}

/*
 * The scalar selection sid_knn_forward used before it ran on 8 rows per
 * vector (commit d30b057): insertion into a sorted list, strict <, the
 * first k candidates entering unconditionally.  The vector selection must
 * give the same lists bit for bit, or fingerprints move.
 */
static void
select_k_scalar(const float *row, int N, int k, int32_t *out)
{
	float		best[SID_KNN_MAX_K];
	int			have = 0;

	for (int j = 0; j < N; j++)
	{
		float		d = row[j];
		int			p;

		if (have == k)
		{
			if (!(d < best[k - 1]))
				continue;
			p = k - 1;
		}
		else
			p = have++;
		while (p > 0 && d < best[p - 1])
		{
			best[p] = best[p - 1];
			out[p] = out[p - 1];
			p--;
		}
		best[p] = d;
		out[p] = j;
	}
}

/*
 * sid_knn_forward against the scalar selection on the same Gram matrix (one
 * sgemm, as sid_knn_forward computes it), for sizes that are and are not
 * multiples of 8, k from 1 to N - 1, on Gaussian features and on small
 * integer features, where many distances tie exactly.
 */
static void
test_knn_selection(void)
{
	static const struct
	{
		int			N,
					C,
					k;
	}			cases[] = {{120, 32, 9}, {60, 64, 9}, {30, 128, 9}, {37, 8, 1}, {13, 4, 12},
	{120, 16, 33}, {9, 3, 8}, {70, 2, 64}};
	int			B = 3,
				lists = 0,
				ties = 0,
				same = 1;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (int integer = 0; integer < 2; integer++)
		{
			int			N = cases[c].N,
						C = cases[c].C,
						k = cases[c].k;
			float	   *x = test_randn((size_t) B * N * C, 1.0f);
			float	   *scratch = test_zeros(sid_knn_scratch_floats(B, N));
			float	   *gram = malloc(sizeof(float) * N * N),
					   *row = malloc(sizeof(float) * N);
			int32_t    *idx = malloc(sizeof(int32_t) * B * N * k),
					   *want = malloc(sizeof(int32_t) * k);

			if (integer)		/* -2..2: exact distances, most of them tied */
				for (int i = 0; i < B * N * C; i++)
					x[i] = rintf(fmaxf(-2.0f, fminf(2.0f, x[i] * 1.5f)));
			sid_knn_forward(idx, scratch, x, B, N, C, k);
			for (int b = 0; b < B; b++)
			{
				const float *xb = x + (size_t) b * N * C;

				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, C,
							1.0f, xb, C, xb, C, 0.0f, gram, N);
				for (int i = 0; i < N; i++)
				{
					for (int j = 0; j < N; j++)
						row[j] = gram[(size_t) j * N + j] - 2.0f * gram[(size_t) i * N + j];
					row[i] = INFINITY;
					select_k_scalar(row, N, k, want);
					for (int r = 0; r < k; r++)
						same &= idx[((size_t) b * N + i) * k + r] == want[r];
					for (int r = 1; r < k; r++)
						ties += row[want[r]] == row[want[r - 1]];
					lists++;
				}
			}
			free(x);
			free(scratch);
			free(gram);
			free(row);
			free(idx);
			free(want);
		}
	CHECK(same && ties > 1000, "kNN selection equals the scalar insertion selection in all %d lists "
		  "(%d tied neighbours among them)", lists, ties);
}

/* ---- kNN and max-relative ---- */
static struct
{
	int			B, N, C, k;
	float	   *x, *y, *wy;
	int32_t    *idx, *argmax;
} G;

static double
maxrel_loss(void *ctx)
{
	(void) ctx;
	sid_maxrel_forward(G.y, G.argmax, G.x, G.idx, G.B, G.N, G.C, G.k);
	return test_dot(G.wy, G.y, (size_t) G.B * G.N * 2 * G.C);
}

static void
test_graph(void)
{
	float	   *scratch;
	int			knn_ok = 1,
				mr_ok = 1;
	float	   *dx;

	G.B = 3;
	G.N = 20;
	G.C = 6;
	G.k = 5;
	/*
	 * distinct values 0.01 apart (a shuffled ramp), so a finite-difference
	 * step of 1e-3 never changes which neighbour attains a max
	 */
	G.x = test_zeros(G.B * G.N * G.C);
	for (int i = 0; i < G.B * G.N * G.C; i++)
		G.x[i] = 0.01f * i - 1.8f;
	for (int i = G.B * G.N * G.C - 1; i > 0; i--)
	{
		int			j = (int) (test_uniform() * (i + 1));
		float		t = G.x[i];

		G.x[i] = G.x[j];
		G.x[j] = t;
	}
	G.idx = malloc(sizeof(int32_t) * G.B * G.N * G.k);
	G.argmax = malloc(sizeof(int32_t) * G.B * G.N * G.C);
	G.y = test_zeros(G.B * G.N * 2 * G.C);
	G.wy = test_randn(G.B * G.N * 2 * G.C, 1);
	scratch = test_zeros(sid_knn_scratch_floats(G.B, G.N));
	sid_knn_forward(G.idx, scratch, G.x, G.B, G.N, G.C, G.k);

	/* brute force in double: the k nearest other nodes, in order */
	for (int b = 0; b < G.B; b++)
		for (int i = 0; i < G.N; i++)
		{
			double		d[64];
			int			used[64] = {0};

			for (int j = 0; j < G.N; j++)
			{
				d[j] = 0;
				for (int c = 0; c < G.C; c++)
				{
					double		t = G.x[(b * G.N + i) * G.C + c] - G.x[(b * G.N + j) * G.C + c];

					d[j] += t * t;
				}
			}
			used[i] = 1;
			for (int r = 0; r < G.k; r++)
			{
				int			best = -1;

				for (int j = 0; j < G.N; j++)
					if (!used[j] && (best < 0 || d[j] < d[best]))
						best = j;
				used[best] = 1;
				if (G.idx[(b * G.N + i) * G.k + r] != best)
					knn_ok = 0;
			}
		}
	CHECK(knn_ok, "kNN equals brute-force nearest neighbours (self excluded, nearest first)");

	maxrel_loss(NULL);
	for (int b = 0; b < G.B; b++)
		for (int i = 0; i < G.N; i++)
			for (int c = 0; c < G.C; c++)
			{
				float		xi = G.x[(b * G.N + i) * G.C + c];
				float		mx = -1e30f;

				for (int j = 0; j < G.k; j++)
				{
					int			n = G.idx[(b * G.N + i) * G.k + j];
					float		v = G.x[(b * G.N + n) * G.C + c] - xi;

					if (v > mx)
						mx = v;
				}
				if (G.y[(b * G.N + i) * 2 * G.C + c] != xi ||
					fabsf(G.y[(b * G.N + i) * 2 * G.C + G.C + c] - mx) > 1e-6f)
					mr_ok = 0;
			}
	CHECK(mr_ok, "max-relative forward equals concat(x_i, max_j (x_j - x_i))");

	dx = test_zeros(G.B * G.N * G.C);
	sid_maxrel_backward(dx, G.wy, G.argmax, G.B, G.N, G.C);
	CHECK(test_grad_check(maxrel_loss, NULL, G.x, dx, G.B * G.N * G.C, 1e-3f, &worst) < GRAD_TOL,
		  "max-relative backward (through the arg-max) matches finite differences");
	free(dx);
	free(scratch);
	free(G.x); free(G.idx); free(G.argmax); free(G.y); free(G.wy);
}

/* ---- mean pool and L2 normalisation ---- */
static struct
{
	int			B, N, C;
	float	   *x, *y, *norm, *wy;
} P;

static double
pool_loss(void *ctx)
{
	(void) ctx;
	sid_meanpool_forward(P.y, P.x, P.B, P.N, P.C);
	return test_dot(P.wy, P.y, (size_t) P.B * P.C);
}

static double
l2_loss(void *ctx)
{
	(void) ctx;
	sid_l2norm_forward(P.y, P.norm, P.x, P.B, P.C);
	return test_dot(P.wy, P.y, (size_t) P.B * P.C);
}

static void
test_pool_l2(void)
{
	float	   *dx;
	double		len_err = 0.0;

	P.B = 3;
	P.N = 7;
	P.C = 5;
	P.x = test_randn(P.B * P.N * P.C, 1);
	P.y = test_zeros(P.B * P.N * P.C);
	P.norm = test_zeros(P.B * P.N);
	P.wy = test_randn(P.B * P.N * P.C, 1);
	pool_loss(NULL);
	{
		double		s = 0;

		for (int n = 0; n < P.N; n++)
			s += P.x[(1 * P.N + n) * P.C + 2];
		CHECK_NEAR(P.y[1 * P.C + 2], s / P.N, 1e-6, "mean pool forward averages the nodes");
	}
	dx = test_zeros(P.B * P.N * P.C);
	sid_meanpool_backward(dx, P.wy, P.B, P.N, P.C);
	CHECK(test_grad_check(pool_loss, NULL, P.x, dx, P.B * P.N * P.C, EPS, &worst) < GRAD_TOL,
		  "mean pool backward matches finite differences");

	/* L2 normalisation over rows = B*N rows of C */
	P.B = P.B * P.N;
	l2_loss(NULL);
	for (int r = 0; r < P.B; r++)
	{
		double		s = 0;

		for (int c = 0; c < P.C; c++)
			s += (double) P.y[r * P.C + c] * P.y[r * P.C + c];
		len_err = fmax(len_err, fabs(sqrt(s) - 1));
	}
	CHECK(len_err < 1e-6, "L2 normalisation gives unit rows (max error %.2g)", len_err);
	memset(dx, 0, sizeof(float) * P.B * P.C);
	sid_l2norm_backward(dx, P.wy, P.y, P.norm, P.B, P.C);
	CHECK(test_grad_check(l2_loss, NULL, P.x, dx, P.B * P.C, 1e-3f, &worst) < GRAD_TOL,
		  "L2 normalisation backward matches finite differences");
	free(dx);
	free(P.x); free(P.y); free(P.norm); free(P.wy);
}

/* ---- attention ---- */
static struct
{
	int			B, Nq, Nk, H, dh;
	float	   *q, *k, *v, *out, *att, *wy;
} T;

static double
att_loss(void *ctx)
{
	(void) ctx;
	sid_attention_forward(T.out, T.att, T.q, T.k, T.v, T.B, T.Nq, T.Nk, T.H, T.dh);
	return test_dot(T.wy, T.out, (size_t) T.B * T.Nq * T.H * T.dh);
}

static void
test_attention(void)
{
	int			D;
	double		maxerr = 0.0;
	float	   *dq,
			   *dk,
			   *dv,
			   *scratch;

	T.B = 2;
	T.Nq = 5;
	T.Nk = 7;
	T.H = 2;
	T.dh = 4;
	D = T.H * T.dh;
	T.q = test_randn(T.B * T.Nq * D, 1);
	T.k = test_randn(T.B * T.Nk * D, 1);
	T.v = test_randn(T.B * T.Nk * D, 1);
	T.out = test_zeros(T.B * T.Nq * D);
	T.att = test_zeros(T.B * T.H * T.Nq * T.Nk);
	T.wy = test_randn(T.B * T.Nq * D, 1);
	att_loss(NULL);
	for (int b = 0; b < T.B; b++)
		for (int h = 0; h < T.H; h++)
			for (int i = 0; i < T.Nq; i++)
			{
				double		s[16],
							mx = -1e300,
							sum = 0;

				for (int j = 0; j < T.Nk; j++)
				{
					s[j] = 0;
					for (int c = 0; c < T.dh; c++)
						s[j] += (double) T.q[(b * T.Nq + i) * D + h * T.dh + c] *
							T.k[(b * T.Nk + j) * D + h * T.dh + c];
					s[j] /= sqrt(T.dh);
					mx = fmax(mx, s[j]);
				}
				for (int j = 0; j < T.Nk; j++)
					sum += (s[j] = exp(s[j] - mx));
				for (int c = 0; c < T.dh; c++)
				{
					double		o = 0;

					for (int j = 0; j < T.Nk; j++)
						o += s[j] / sum * T.v[(b * T.Nk + j) * D + h * T.dh + c];
					maxerr = fmax(maxerr, fabs(o - T.out[(b * T.Nq + i) * D + h * T.dh + c]));
				}
			}
	CHECK(maxerr < 1e-5, "multi-head attention forward equals the naive loop (max error %.2g)", maxerr);
	dq = test_zeros(T.B * T.Nq * D);
	dk = test_zeros(T.B * T.Nk * D);
	dv = test_zeros(T.B * T.Nk * D);
	scratch = test_zeros(T.Nq * T.Nk);
	sid_attention_backward(dq, dk, dv, scratch, T.wy, T.att, T.q, T.k, T.v,
						   T.B, T.Nq, T.Nk, T.H, T.dh);
	CHECK(test_grad_check(att_loss, NULL, T.q, dq, T.B * T.Nq * D, EPS, &worst) < GRAD_TOL,
		  "attention backward: d query matches finite differences");
	CHECK(test_grad_check(att_loss, NULL, T.k, dk, T.B * T.Nk * D, EPS, &worst) < GRAD_TOL,
		  "attention backward: d key matches finite differences");
	CHECK(test_grad_check(att_loss, NULL, T.v, dv, T.B * T.Nk * D, EPS, &worst) < GRAD_TOL,
		  "attention backward: d value matches finite differences");
	free(dq); free(dk); free(dv); free(scratch);
	free(T.q); free(T.k); free(T.v); free(T.out); free(T.att); free(T.wy);
}

/* ---- cross-attention layer ---- */
static struct
{
	int			B, Nq, Nk;
	sid_xattn	p;
	sid_xattn_acts a;
	float	   *params, *acts, *xq, *xkv, *y, *wy;
} XA;

static double
xattn_loss(void *ctx)
{
	(void) ctx;
	sid_xattn_forward(&XA.p, &XA.a, XA.y, XA.xq, XA.xkv, XA.B, XA.Nq, XA.Nk);
	return test_dot(XA.wy, XA.y, (size_t) XA.B * XA.Nq * XA.p.d_out);
}

static void
test_xattn(void)
{
	size_t		np;
	sid_xattn	g;
	float	   *grads,
			   *scratch,
			   *dxq,
			   *dxkv;
	const int	dq_in = 5,
				dkv_in = 7,
				H = 2,
				dh = 3,
				d_out = 4;

	XA.B = 2;
	XA.Nq = 3;
	XA.Nk = 4;
	np = sid_xattn_num_params(dq_in, dkv_in, H, dh, d_out);
	XA.params = test_randn(np, 0.5f);
	sid_xattn_bind(&XA.p, XA.params, dq_in, dkv_in, H, dh, d_out);
	XA.acts = test_zeros(sid_xattn_acts_floats(&XA.p, XA.B, XA.Nq, XA.Nk));
	sid_xattn_acts_bind(&XA.a, XA.acts, &XA.p, XA.B, XA.Nq, XA.Nk);
	XA.xq = test_randn(XA.B * XA.Nq * dq_in, 1);
	XA.xkv = test_randn(XA.B * XA.Nk * dkv_in, 1);
	XA.y = test_zeros(XA.B * XA.Nq * d_out);
	XA.wy = test_randn(XA.B * XA.Nq * d_out, 1);
	CHECK(np == (size_t) (6 * 5 + 6) + 2 * (6 * 7 + 6) + (4 * 6 + 4), "cross-attention parameter count");

	grads = test_zeros(np);
	sid_xattn_bind(&g, grads, dq_in, dkv_in, H, dh, d_out);
	scratch = test_zeros(sid_xattn_scratch_floats(&XA.p, XA.B, XA.Nq, XA.Nk));
	dxq = test_zeros(XA.B * XA.Nq * dq_in);
	dxkv = test_zeros(XA.B * XA.Nk * dkv_in);
	xattn_loss(NULL);
	sid_xattn_backward(&XA.p, &g, &XA.a, dxq, dxkv, scratch, XA.wy, XA.xq, XA.xkv, XA.B, XA.Nq, XA.Nk);
	CHECK(test_grad_check(xattn_loss, NULL, XA.params, grads, np, EPS, &worst) < GRAD_TOL,
		  "cross-attention backward: every projection weight and bias matches finite differences");
	CHECK(test_grad_check(xattn_loss, NULL, XA.xq, dxq, XA.B * XA.Nq * dq_in, EPS, &worst) < GRAD_TOL,
		  "cross-attention backward: d query nodes match finite differences");
	CHECK(test_grad_check(xattn_loss, NULL, XA.xkv, dxkv, XA.B * XA.Nk * dkv_in, EPS, &worst) < GRAD_TOL,
		  "cross-attention backward: d key/value nodes match finite differences");
	free(grads); free(scratch); free(dxq); free(dxkv);
	free(XA.params); free(XA.acts); free(XA.xq); free(XA.xkv); free(XA.y); free(XA.wy);
}

/* ---- losses ---- */
static struct
{
	int			P, D;
	float		temp;
	float	   *z, *scratch;
} X;

static double
ntxent_loss(void *ctx)
{
	(void) ctx;
	return sid_ntxent(NULL, X.scratch, X.z, X.P, X.D, X.temp);
}

static struct
{
	int			n;
	float	   *x, *y;
} E;

static double
bce_loss(void *ctx)
{
	(void) ctx;
	return sid_bce_logits(NULL, E.x, E.y, E.n);
}

static void
test_losses(void)
{
	float	   *dz;
	double		ref = 0.0,
				got;

	X.P = 4;
	X.D = 6;
	X.temp = 0.1f;
	X.z = test_randn(2 * X.P * X.D, 0.4f);
	X.scratch = test_zeros(sid_ntxent_scratch_floats(X.P));
	for (int i = 0; i < 2 * X.P; i++)
	{
		double		s[8],
					sum = 0;
		int			pos = i < X.P ? i + X.P : i - X.P;

		for (int j = 0; j < 2 * X.P; j++)
		{
			s[j] = 0;
			for (int c = 0; c < X.D; c++)
				s[j] += (double) X.z[i * X.D + c] * X.z[j * X.D + c];
			s[j] /= X.temp;
			if (j != i)
				sum += exp(s[j]);
		}
		ref += -(s[pos] - log(sum));
	}
	ref /= 2 * X.P;
	dz = test_zeros(2 * X.P * X.D);
	got = sid_ntxent(dz, X.scratch, X.z, X.P, X.D, X.temp);
	CHECK_NEAR(got, ref, 1e-4 * fabs(ref), "NT-Xent equals the naive formula (%.5f vs %.5f)", got, ref);
	CHECK(test_grad_check(ntxent_loss, NULL, X.z, dz, 2 * X.P * X.D, 1e-3f, &worst) < GRAD_TOL,
		  "NT-Xent backward matches finite differences");
	free(dz);
	free(X.z);
	free(X.scratch);

	E.n = 9;
	E.x = test_randn(E.n, 3);
	E.y = test_zeros(E.n);
	for (int i = 0; i < E.n; i++)
		E.y[i] = (float) (i % 2);
	ref = 0;
	for (int i = 0; i < E.n; i++)
	{
		double		p = 1 / (1 + exp(-E.x[i]));

		ref += -(E.y[i] * log(p) + (1 - E.y[i]) * log(1 - p));
	}
	ref /= E.n;
	dz = test_zeros(E.n);
	got = sid_bce_logits(dz, E.x, E.y, E.n);
	CHECK_NEAR(got, ref, 1e-6, "binary cross-entropy equals -y log p - (1-y) log(1-p)");
	CHECK(test_grad_check(bce_loss, NULL, E.x, dz, E.n, 1e-3f, &worst) < GRAD_TOL,
		  "binary cross-entropy backward matches finite differences");
	{
		float		big[2] = {80.0f, -80.0f},
					tgt[2] = {0.0f, 1.0f};
		double		l = sid_bce_logits(NULL, big, tgt, 2);

		CHECK(isfinite(l) && fabs(l - 80.0) < 1e-3, "binary cross-entropy is stable for large logits");
	}
	free(dz);
	free(E.x);
	free(E.y);
}

/* ---- Adam ---- */
static void
test_adam(void)
{
	sid_adam_config cfg;
	float		p[2] = {1.0f, -2.0f},
				g[2] = {30.0f, 40.0f},
				m[2] = {0, 0},
				v[2] = {0, 0};
	float		norm;

	sid_adam_default_config(&cfg, 1000);
	cfg.warmup_steps = 10;
	cfg.lr = 1e-2f;
	cfg.lr_min = 1e-4f;
	CHECK_NEAR(sid_adam_lr(&cfg, 0), 1e-3, 1e-9, "warm-up starts at lr/warmup_steps");
	CHECK_NEAR(sid_adam_lr(&cfg, 9), 1e-2, 1e-9, "warm-up reaches the peak");
	CHECK_NEAR(sid_adam_lr(&cfg, 10 + 495), (1e-2 + 1e-4) / 2, 1e-7, "cosine is half-way at mid-period");
	CHECK_NEAR(sid_adam_lr(&cfg, 1000), 1e-4, 1e-9, "cosine ends at lr_min");
	cfg.clip_norm = 1.0f;
	norm = sid_adam_step(p, g, m, v, 2, &cfg, 0);
	CHECK_NEAR(norm, 50.0, 1e-4, "Adam returns the gradient norm before clipping");
	CHECK_NEAR(sid_grad_norm(g, 2), 1.0, 1e-6, "global clipping scales the gradient to clip_norm");
	/* first Adam step moves each parameter by lr * sign(g) (bias-corrected) */
	CHECK_NEAR(p[0], 1.0 - 1e-3, 1e-6, "first Adam step moves by lr against the gradient");
	CHECK_NEAR(p[1], -2.0 - 1e-3, 1e-6, "first Adam step works per coordinate");
}

int
main(void)
{
	sid_nn_set_threads(1);
	test_linear();
	test_layernorm();
	test_activations();
	test_gelu_range();
	test_knn_large();
	test_knn_selection();
	test_graph();
	test_pool_l2();
	test_attention();
	test_xattn();
	test_losses();
	test_adam();
	return tap_done();
}
