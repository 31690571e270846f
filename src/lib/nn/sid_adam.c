/*
 * sid_adam.c - AdamW with linear warm-up, cosine learning-rate decay and
 * global gradient-norm clipping, over one flat parameter buffer.
 */
#include "nn/sid_nn.h"

#include <math.h>

void
sid_adam_default_config(sid_adam_config *cfg, int total_steps)
{
	cfg->lr = 1e-3f;
	cfg->lr_min = 1e-5f;
	cfg->warmup_steps = total_steps / 20;
	cfg->total_steps = total_steps;
	cfg->beta1 = 0.9f;
	cfg->beta2 = 0.999f;
	cfg->eps = 1e-8f;
	cfg->weight_decay = 0.0f;
	cfg->clip_norm = 1.0f;
}

float
sid_adam_lr(const sid_adam_config *cfg, int t)
{
	double		progress;

	if (t < cfg->warmup_steps)
		return cfg->lr * (float) (t + 1) / (float) cfg->warmup_steps;
	if (cfg->total_steps <= cfg->warmup_steps)
		return cfg->lr;
	progress = (double) (t - cfg->warmup_steps) / (double) (cfg->total_steps - cfg->warmup_steps);
	if (progress > 1.0)
		progress = 1.0;
	return cfg->lr_min + 0.5f * (cfg->lr - cfg->lr_min) * (float) (1.0 + cos(M_PI * progress));
}

float
sid_grad_norm(const float *grad, size_t n)
{
	double		ss = 0.0;

	for (size_t i = 0; i < n; i++)
		ss += (double) grad[i] * grad[i];
	return (float) sqrt(ss);
}

float
sid_adam_step(float *params, float *grad, float *m, float *v, size_t n,
			  const sid_adam_config *cfg, int t)
{
	float		norm = sid_grad_norm(grad, n);
	float		lr = sid_adam_lr(cfg, t);
	float		clip = 1.0f;
	double		bc1 = 1.0 - pow(cfg->beta1, t + 1);
	double		bc2 = 1.0 - pow(cfg->beta2, t + 1);

	if (cfg->clip_norm > 0 && norm > cfg->clip_norm)
		clip = cfg->clip_norm / norm;
	for (size_t i = 0; i < n; i++)
	{
		float		g = grad[i] * clip;
		float		mh,
					vh;

		grad[i] = g;
		m[i] = cfg->beta1 * m[i] + (1.0f - cfg->beta1) * g;
		v[i] = cfg->beta2 * v[i] + (1.0f - cfg->beta2) * g * g;
		mh = (float) (m[i] / bc1);
		vh = (float) (v[i] / bc2);
		params[i] -= lr * (mh / (sqrtf(vh) + cfg->eps) + cfg->weight_decay * params[i]);
	}
	return norm;
}
