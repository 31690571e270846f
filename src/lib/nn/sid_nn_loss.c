/*
 * sid_nn_loss.c - training losses: NT-Xent for contrastive pairs and binary
 * cross-entropy on logits.  Both return the loss in double and write (not
 * accumulate) the gradient.
 */
#include "nn/sid_nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

size_t
sid_ntxent_scratch_floats(int P)
{
	return (size_t) 8 * P * P;	/* similarities and the gradient matrix, (2P)^2 each */
}

double
sid_ntxent(float *dz, float *scratch, const float *z, int P, int D, float temperature)
{
	int			R = 2 * P;
	float	   *s = scratch;	/* [R][R]: similarities / t, then softmax */
	double		loss = 0.0;
	float		inv_t = 1.0f / temperature;

	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, R, D,
				inv_t, z, D, z, D, 0.0f, s, R);
	for (int i = 0; i < R; i++)
	{
		float	   *si = s + (size_t) i * R;
		int			pos = i < P ? i + P : i - P;
		float		mx = -INFINITY;
		double		sum = 0.0;

		for (int j = 0; j < R; j++)
			if (j != i && si[j] > mx)
				mx = si[j];
		for (int j = 0; j < R; j++)
			if (j != i)
				sum += exp((double) si[j] - mx);
		loss += -((double) si[pos] - mx - log(sum));
		/* keep p_ij (0 on the diagonal) for the gradient */
		for (int j = 0; j < R; j++)
			si[j] = j == i ? 0.0f : (float) (exp((double) si[j] - mx) / sum);
	}
	loss /= R;

	if (dz)
	{
		/*
		 * L = (1/R) sum_i [ -s_ip/t + log sum_j exp(s_ij/t) ], s symmetric in
		 * (i, j): dL/dz_i = (1/(R t)) [ sum_j (p_ij + p_ji) z_j - 2 z_pos ].
		 * G = P + P^T - 2 I_pos, then dz = G z / (R t).
		 */
		float	   *g = s + (size_t) R * R;

		for (int i = 0; i < R; i++)
			for (int j = 0; j < R; j++)
				g[(size_t) i * R + j] = s[(size_t) i * R + j] + s[(size_t) j * R + i];
		for (int i = 0; i < R; i++)
			g[(size_t) i * R + (i < P ? i + P : i - P)] -= 2.0f;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, D, R,
					inv_t / R, g, R, z, D, 0.0f, dz, D);
	}
	return loss;
}

double
sid_bce_logits(float *dx, const float *logits, const float *targets, int n)
{
	double		loss = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		x = logits[i],
					y = targets[i];

		loss += (x > 0 ? x : 0) - x * y + log1p(exp(-fabs(x)));
		if (dx)
			dx[i] = (float) ((1.0 / (1.0 + exp(-x)) - y) / n);
	}
	return loss / n;
}
