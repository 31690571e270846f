/*
 * sid_nn_attention.c - multi-head scaled dot-product attention, the core of
 * the reranker's cross-attention (projections are ordinary linear layers).
 * Layouts in sid_nn.h.
 */
#include "nn/sid_nn.h"

#include <cblas.h>
#include <math.h>

void
sid_attention_forward(float *out, float *att, const float *q, const float *k,
					  const float *v, int B, int Nq, int Nk, int H, int dh)
{
	int			D = H * dh;
	float		scale = 1.0f / sqrtf((float) dh);

	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++)
		{
			const float *qh = q + (size_t) b * Nq * D + h * dh;
			const float *kh = k + (size_t) b * Nk * D + h * dh;
			const float *vh = v + (size_t) b * Nk * D + h * dh;
			float	   *oh = out + (size_t) b * Nq * D + h * dh;
			float	   *a = att + ((size_t) b * H + h) * Nq * Nk;

			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Nq, Nk, dh,
						scale, qh, D, kh, D, 0.0f, a, Nk);
			for (int i = 0; i < Nq; i++)
			{
				float	   *ai = a + (size_t) i * Nk;
				float		mx = ai[0],
							sum = 0.0f;

				for (int j = 1; j < Nk; j++)
					if (ai[j] > mx)
						mx = ai[j];
				for (int j = 0; j < Nk; j++)
				{
					ai[j] = expf(ai[j] - mx);
					sum += ai[j];
				}
				for (int j = 0; j < Nk; j++)
					ai[j] /= sum;
			}
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Nq, dh, Nk,
						1.0f, a, Nk, vh, D, 0.0f, oh, D);
		}
}

void
sid_attention_backward(float *dq, float *dk, float *dv, float *scratch,
					   const float *dout, const float *att, const float *q,
					   const float *k, const float *v,
					   int B, int Nq, int Nk, int H, int dh)
{
	int			D = H * dh;
	float		scale = 1.0f / sqrtf((float) dh);

	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++)
		{
			size_t		qo = (size_t) b * Nq * D + h * dh;
			size_t		ko = (size_t) b * Nk * D + h * dh;
			const float *a = att + ((size_t) b * H + h) * Nq * Nk;
			float	   *ds = scratch;

			/* dV += A^T dO;  dA = dO V^T */
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Nk, dh, Nq,
						1.0f, a, Nk, dout + qo, D, 1.0f, dv + ko, D);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Nq, Nk, dh,
						1.0f, dout + qo, D, v + ko, D, 0.0f, ds, Nk);
			/* softmax backward: dS = A * (dA - sum_j dA A) */
			for (int i = 0; i < Nq; i++)
			{
				const float *ai = a + (size_t) i * Nk;
				float	   *di = ds + (size_t) i * Nk;
				float		dot = 0.0f;

				for (int j = 0; j < Nk; j++)
					dot += di[j] * ai[j];
				for (int j = 0; j < Nk; j++)
					di[j] = ai[j] * (di[j] - dot);
			}
			/* S = scale Q K^T: dQ += scale dS K, dK += scale dS^T Q */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Nq, dh, Nk,
						scale, ds, Nk, k + ko, D, 1.0f, dq + qo, D);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Nk, dh, Nq,
						scale, ds, Nk, q + qo, D, 1.0f, dk + ko, D);
		}
}
