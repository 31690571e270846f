/*
 * sid_verifier.c - the cross-attention verifier: forward and backward side
 * by side, and its .sidv file (layout in sid_verifier.h).
 */
#include "model/sid_verifier.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_bytes.h"
#include "core/sid_rng.h"
#include "core/sid_sha256.h"

#define CFG_FIELDS 12
#define OFF_CONFIG 340
#define OFF_THRESHOLD 388
#define OFF_NPARAMS 392
#define OFF_ENCODER 400
#define OFF_HEADER_CRC 464

struct sid_verifier_work
{
	int			maxq,
				maxk,
				din;
	float	   *xq,
			   *xc;				/* [max][din] */
	float	   *acts;			/* sid_xattn_acts at the maxima */
	float	   *y;				/* [maxq][A] */
	float	   *h0;				/* [maxq][A + 2] */
	float	   *a1,
			   *h1;				/* [maxq][F] */
	float	   *m,
			   *a2,
			   *g;				/* [F], [G], [G] */
	float	   *scratch;		/* backward */
	size_t		scratch_floats;
};

void
sid_verifier_config_default(sid_verifier_config *cfg, int32_t fp_dim)
{
	cfg->fp_dim = fp_dim;
	cfg->pe_pairs = 8;
	cfg->heads = 4;
	cfg->head_dim = 16;
	cfg->att_dim = 32;
	cfg->hidden = 32;
	cfg->head_hidden = 16;
	cfg->max_query_segments = 64;
	cfg->max_candidate_segments = 96;
	cfg->pe_min_period = 1.0f;
	cfg->pe_max_period = 64.0f;
	cfg->margin_seconds = 1.0f;
}

sid_status
sid_verifier_config_check(const sid_verifier_config *c, sid_error *err)
{
#define RANGE(f, lo, hi) \
	if (c->f < (lo) || c->f > (hi)) \
		return sid_fail(err, SID_EFORMAT, "verifier " #f " %d is outside %d .. %d", (int) c->f, (int) (lo), (int) (hi))
	RANGE(fp_dim, 1, 4096);
	RANGE(pe_pairs, 0, 64);
	RANGE(heads, 1, 64);
	RANGE(head_dim, 1, 256);
	RANGE(att_dim, 1, 1024);
	RANGE(hidden, 1, 1024);
	RANGE(head_hidden, 1, 1024);
	RANGE(max_query_segments, 1, 4096);
	RANGE(max_candidate_segments, 1, 4096);
#undef RANGE
	if (!(c->pe_min_period > 0.0f && c->pe_max_period >= c->pe_min_period &&
		  c->pe_max_period <= 1e6f))
		return sid_fail(err, SID_EFORMAT, "verifier positional periods %g .. %g are not 0 < min <= max <= 1e6",
						c->pe_min_period, c->pe_max_period);
	if (!(c->margin_seconds >= 0.0f && c->margin_seconds <= 3600.0f))
		return sid_fail(err, SID_EFORMAT, "verifier margin %g s is outside 0 .. 3600", c->margin_seconds);
	return SID_OK;
}

static int
din_of(const sid_verifier_config *c)
{
	return c->fp_dim + 2 * c->pe_pairs;
}

size_t
sid_verifier_num_params(const sid_verifier_config *c)
{
	size_t		A = c->att_dim,
				F = c->hidden,
				G = c->head_hidden;

	return sid_xattn_num_params(din_of(c), din_of(c), c->heads, c->head_dim, c->att_dim)
		+ F * (A + SID_VERIFIER_FEATURES) + F + G * F + G + G + 1;
}

void
sid_verifier_bind(const sid_verifier_config *c, float *buf, sid_verifier_weights *w)
{
	size_t		A = c->att_dim,
				F = c->hidden,
				G = c->head_hidden;

	sid_xattn_bind(&w->xa, buf, din_of(c), din_of(c), c->heads, c->head_dim, c->att_dim);
	w->w1 = buf + sid_xattn_num_params(din_of(c), din_of(c), c->heads, c->head_dim, c->att_dim);
	w->b1 = w->w1 + F * (A + SID_VERIFIER_FEATURES);
	w->w2 = w->b1 + F;
	w->b2 = w->w2 + G * F;
	w->w3 = w->b2 + G;
	w->b3 = w->w3 + G;
}

/* Normal(0, 1/fan_in) weights, zero biases. */
static void
init_linear(float *wt, float *b, int out, int in, sid_rng *rng)
{
	float		s = 1.0f / sqrtf((float) in);

	for (size_t i = 0; i < (size_t) out * in; i++)
		wt[i] = s * sid_rng_normal(rng);
	memset(b, 0, sizeof(float) * out);
}

sid_verifier *
sid_verifier_new(const char *name, const sid_verifier_config *cfg, uint64_t seed, sid_error *err)
{
	sid_verifier *v;
	sid_verifier_weights w;
	sid_rng		rng;
	int			din = din_of(cfg),
				D = cfg->heads * cfg->head_dim;

	if (sid_verifier_config_check(cfg, err) != SID_OK)
		return NULL;
	if (!name || !*name || strlen(name) >= SID_VERIFIER_NAME_LEN)
	{
		sid_fail(err, SID_EINVAL, "a verifier name needs 1 to %d characters", SID_VERIFIER_NAME_LEN - 1);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (v)
		v->params = calloc(sid_verifier_num_params(cfg), sizeof(float));
	if (!v || !v->params)
	{
		free(v);
		sid_fail(err, SID_ENOMEM, "out of memory");
		return NULL;
	}
	v->cfg = *cfg;
	v->num_params = sid_verifier_num_params(cfg);
	v->threshold = 0.5f;
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->note, sizeof(v->note), "UNTRAINED: random initialisation, seed %llu",
			 (unsigned long long) seed);
	sid_verifier_bind(cfg, v->params, &w);
	sid_rng_init(&rng, seed, 0);
	init_linear(w.xa.wq, w.xa.bq, D, din, &rng);
	init_linear(w.xa.wk, w.xa.bk, D, din, &rng);
	init_linear(w.xa.wv, w.xa.bv, D, din, &rng);
	init_linear(w.xa.wo, w.xa.bo, cfg->att_dim, D, &rng);
	init_linear(w.w1, w.b1, cfg->hidden, cfg->att_dim + SID_VERIFIER_FEATURES, &rng);
	init_linear(w.w2, w.b2, cfg->head_hidden, cfg->hidden, &rng);
	init_linear(w.w3, w.b3, 1, cfg->head_hidden, &rng);
	return v;
}

void
sid_verifier_free(sid_verifier *v)
{
	if (!v)
		return;
	free(v->params);
	free(v);
}

sid_verifier_work *
sid_verifier_work_create(const sid_verifier_config *c, sid_error *err)
{
	sid_verifier_work *w = calloc(1, sizeof(*w));
	sid_xattn	shape;
	size_t		Q = c->max_query_segments,
				K = c->max_candidate_segments,
				A = c->att_dim,
				F = c->hidden,
				G = c->head_hidden;

	if (!w)
		goto oom;
	w->maxq = (int) Q;
	w->maxk = (int) K;
	w->din = din_of(c);
	shape.heads = c->heads;
	shape.head_dim = c->head_dim;
	/* backward's scratch: the attention's, then dy, dh0, dh1, da1, dm, da2, dg */
	w->scratch_floats = sid_xattn_scratch_floats(&shape, 1, (int) Q, (int) K)
		+ Q * A + Q * (A + SID_VERIFIER_FEATURES) + 2 * Q * F + F + 2 * G;
	w->xq = malloc(sizeof(float) * Q * w->din);
	w->xc = malloc(sizeof(float) * K * w->din);
	w->acts = malloc(sizeof(float) * sid_xattn_acts_floats(&shape, 1, (int) Q, (int) K));
	w->y = malloc(sizeof(float) * Q * A);
	w->h0 = malloc(sizeof(float) * Q * (A + SID_VERIFIER_FEATURES));
	w->a1 = malloc(sizeof(float) * Q * F);
	w->h1 = malloc(sizeof(float) * Q * F);
	w->m = malloc(sizeof(float) * F);
	w->a2 = malloc(sizeof(float) * G);
	w->g = malloc(sizeof(float) * G);
	w->scratch = malloc(sizeof(float) * w->scratch_floats);
	if (!w->xq || !w->xc || !w->acts || !w->y || !w->h0 || !w->a1 || !w->h1 || !w->m ||
		!w->a2 || !w->g || !w->scratch)
		goto oom;
	return w;
oom:
	sid_verifier_work_free(w);
	sid_fail(err, SID_ENOMEM, "out of memory for the verifier's activations");
	return NULL;
}

void
sid_verifier_work_free(sid_verifier_work *w)
{
	if (!w)
		return;
	free(w->xq);
	free(w->xc);
	free(w->acts);
	free(w->y);
	free(w->h0);
	free(w->a1);
	free(w->h1);
	free(w->m);
	free(w->a2);
	free(w->g);
	free(w->scratch);
	free(w);
}

sid_status
sid_verifier_pair_check(const sid_verifier_config *c, const sid_verifier_pair *p, sid_error *err)
{
	if (p->nq < 1 || p->nk < 1)
		return sid_fail(err, SID_EINVAL, "the verifier needs at least one query and one candidate segment (%d, %d)",
						p->nq, p->nk);
	if (p->nq > c->max_query_segments)
		return sid_fail(err, SID_ELIMIT, "%d query segments, the verifier takes at most %d",
						p->nq, c->max_query_segments);
	if (p->nk > c->max_candidate_segments)
		return sid_fail(err, SID_ELIMIT, "%d candidate segments, the verifier takes at most %d",
						p->nk, c->max_candidate_segments);
	if (!isfinite(p->offset) || fabs(p->offset) > 1e7)
		return sid_fail(err, SID_EINVAL, "the alignment's offset is not a finite time");
	for (int i = 0; i < p->nq; i++)
		if (!isfinite(p->q_t[i]) || fabs(p->q_t[i]) > 1e7)
			return sid_fail(err, SID_EINVAL, "query segment %d has no finite time", i);
	for (int i = 0; i < p->nk; i++)
		if (!isfinite(p->c_t[i]) || fabs(p->c_t[i]) > 1e7)
			return sid_fail(err, SID_EINVAL, "candidate segment %d has no finite time", i);
	for (size_t i = 0; i < (size_t) p->nq * c->fp_dim; i++)
		if (!isfinite(p->q_fp[i]))
			return sid_fail(err, SID_EINVAL, "a query fingerprint is not finite");
	for (size_t i = 0; i < (size_t) p->nk * c->fp_dim; i++)
		if (!isfinite(p->c_fp[i]))
			return sid_fail(err, SID_EINVAL, "a candidate fingerprint is not finite");
	return SID_OK;
}

/* One row: the fingerprint, then sin / cos of 2 pi u / T at geometric periods. */
static void
input_row(const sid_verifier_config *c, float *row, const float *fp, double u)
{
	memcpy(row, fp, sizeof(float) * c->fp_dim);
	for (int k = 0; k < c->pe_pairs; k++)
	{
		double		T = c->pe_pairs > 1
			? c->pe_min_period * pow(c->pe_max_period / c->pe_min_period, (double) k / (c->pe_pairs - 1))
			: c->pe_min_period;
		double		a = 2.0 * M_PI * u / T;

		row[c->fp_dim + 2 * k] = (float) sin(a);
		row[c->fp_dim + 2 * k + 1] = (float) cos(a);
	}
}

float
sid_verifier_forward(const sid_verifier_config *c, const float *params, sid_verifier_work *w,
					 const sid_verifier_pair *p)
{
	sid_verifier_weights wt;
	sid_xattn_acts acts;
	int			A = c->att_dim,
				F = c->hidden,
				G = c->head_hidden,
				AF = A + SID_VERIFIER_FEATURES,
				D = c->fp_dim,
				nq = p->nq,
				nk = p->nk;
	double		q0 = p->q_t[0];

	for (int i = 1; i < nq; i++)
		if (p->q_t[i] < q0)
			q0 = p->q_t[i];
	sid_verifier_bind(c, (float *) params, &wt);
	for (int i = 0; i < nq; i++)
		input_row(c, w->xq + (size_t) i * w->din, p->q_fp + (size_t) i * D, p->q_t[i] - q0);
	for (int j = 0; j < nk; j++)
		input_row(c, w->xc + (size_t) j * w->din, p->c_fp + (size_t) j * D, p->c_t[j] - p->offset - q0);
	sid_xattn_acts_bind(&acts, w->acts, &wt.xa, 1, nq, nk);
	sid_xattn_forward(&wt.xa, &acts, w->y, w->xq, w->xc, 1, nq, nk);
	for (int i = 0; i < nq; i++)
	{
		const float *qf = p->q_fp + (size_t) i * D;
		float	   *row = w->h0 + (size_t) i * AF;
		double		ui = p->q_t[i],
					best_dt = INFINITY;
		float		best = -INFINITY,
					nearest = 0.0f;

		memcpy(row, w->y + (size_t) i * A, sizeof(float) * A);
		for (int j = 0; j < nk; j++)
		{
			float		s = sid_dot(qf, p->c_fp + (size_t) j * D, D);
			double		dt = fabs(p->c_t[j] - p->offset - ui);

			if (s > best)
				best = s;
			if (dt < best_dt)
			{
				best_dt = dt;
				nearest = s;
			}
		}
		row[A] = best;
		row[A + 1] = nearest;
	}
	sid_linear_forward(w->a1, w->h0, wt.w1, wt.b1, nq, AF, F);
	sid_act_forward(SID_ACT_GELU, w->h1, w->a1, (size_t) nq * F);
	for (int f = 0; f < F; f++)
	{
		float		s = 0.0f;

		for (int i = 0; i < nq; i++)
			s += w->h1[(size_t) i * F + f];
		w->m[f] = s / nq;
	}
	sid_linear_forward(w->a2, w->m, wt.w2, wt.b2, 1, F, G);
	sid_act_forward(SID_ACT_GELU, w->g, w->a2, G);
	return sid_dot(w->g, wt.w3, G) + wt.b3[0];
}

void
sid_verifier_backward(const sid_verifier_config *c, const float *params, sid_verifier_work *w,
					  const sid_verifier_pair *p, float dlogit, float *grad)
{
	sid_verifier_weights wt,
				gw;
	sid_xattn_acts acts;
	int			A = c->att_dim,
				F = c->hidden,
				G = c->head_hidden,
				AF = A + SID_VERIFIER_FEATURES,
				nq = p->nq,
				nk = p->nk;
	size_t		att_scratch = sid_xattn_scratch_floats(&((sid_xattn) {.heads = c->heads,.head_dim = c->head_dim}),
													   1, nq, nk);
	float	   *dy = w->scratch + att_scratch,
			   *dh0 = dy + (size_t) nq * A,
			   *dh1 = dh0 + (size_t) nq * AF,
			   *da1 = dh1 + (size_t) nq * F,
			   *dm = da1 + (size_t) nq * F,
			   *da2 = dm + F,
			   *dg = da2 + G;

	sid_verifier_bind(c, (float *) params, &wt);
	sid_verifier_bind(c, grad, &gw);
	sid_xattn_acts_bind(&acts, w->acts, &wt.xa, 1, nq, nk);
	/* logit = g . w3 + b3 */
	for (int k = 0; k < G; k++)
	{
		gw.w3[k] += dlogit * w->g[k];
		dg[k] = dlogit * wt.w3[k];
	}
	gw.b3[0] += dlogit;
	/* g = GELU(a2); a2 = m W2^T + b2 */
	memset(da2, 0, sizeof(float) * G);
	sid_act_backward(SID_ACT_GELU, da2, dg, w->a2, w->g, G);
	memset(dm, 0, sizeof(float) * F);
	sid_linear_backward(dm, gw.w2, gw.b2, da2, w->m, wt.w2, 1, F, G);
	/* m = mean of h1 */
	for (int i = 0; i < nq; i++)
		for (int f = 0; f < F; f++)
			dh1[(size_t) i * F + f] = dm[f] / nq;
	/* h1 = GELU(a1); a1 = h0 W1^T + b1 */
	memset(da1, 0, sizeof(float) * (size_t) nq * F);
	sid_act_backward(SID_ACT_GELU, da1, dh1, w->a1, w->h1, (size_t) nq * F);
	memset(dh0, 0, sizeof(float) * (size_t) nq * AF);
	sid_linear_backward(dh0, gw.w1, gw.b1, da1, w->h0, wt.w1, nq, AF, F);
	/* the similarity features are inputs; the attention's output gets its columns */
	for (int i = 0; i < nq; i++)
		memcpy(dy + (size_t) i * A, dh0 + (size_t) i * AF, sizeof(float) * A);
	sid_xattn_backward(&wt.xa, &gw.xa, &acts, NULL, NULL, w->scratch, dy, w->xq, w->xc, 1, nq, nk);
}

void
sid_verifier_region(const sid_verifier_config *cfg, const double *q_t, int32_t nq, double offset,
					double *lo, double *hi)
{
	double		a = q_t[0],
				b = q_t[0];

	for (int i = 1; i < nq; i++)
	{
		a = fmin(a, q_t[i]);
		b = fmax(b, q_t[i]);
	}
	*lo = a + offset - cfg->margin_seconds;
	*hi = b + offset + cfg->margin_seconds;
}

int32_t
sid_verifier_query_side(const sid_verifier_config *cfg, const float *fp, const double *t,
						const bool *content, int32_t n, double query_start, double query_end,
						double rate, float *out_fp, double *out_t)
{
	int32_t		n_content = 0,
				nq = 0,
				max = cfg->max_query_segments,
				D = cfg->fp_dim;

	for (int32_t j = 0; j < n; j++)
		n_content += !content || content[j];
	for (int32_t j = 0; j < n && nq < max; j++)
	{
		if (content && !content[j])
			continue;
		if (n_content > max && (t[j] < query_start - 1e-6 || t[j] > query_end))
			continue;
		memcpy(out_fp + (size_t) nq * D, fp + (size_t) j * D, sizeof(float) * D);
		out_t[nq++] = rate == 1.0 || rate == 0.0 ? t[j] : rate * t[j];
	}
	return nq;
}

float
sid_verifier_probability(const sid_verifier *v, sid_verifier_work *w, const sid_verifier_pair *p)
{
	float		logit = sid_verifier_forward(&v->cfg, v->params, w, p);

	return 1.0f / (1.0f + expf(-logit));
}

/* ---- the file ----------------------------------------------------------- */

static void
config_fields(const sid_verifier_config *c, uint32_t out[CFG_FIELDS])
{
	int32_t		ints[9] = {c->fp_dim, c->pe_pairs, c->heads, c->head_dim, c->att_dim, c->hidden,
	c->head_hidden, c->max_query_segments, c->max_candidate_segments};
	float		floats[3] = {c->pe_min_period, c->pe_max_period, c->margin_seconds};

	for (int i = 0; i < 9; i++)
		out[i] = (uint32_t) ints[i];
	for (int i = 0; i < 3; i++)
		memcpy(&out[9 + i], &floats[i], 4);
}

static void
config_from_header(const unsigned char *h, sid_verifier_config *c)
{
	int32_t		ints[9];
	float		floats[3];

	for (int i = 0; i < 9; i++)
		ints[i] = (int32_t) sid_get_u32(h + OFF_CONFIG + 4 * i);
	for (int i = 0; i < 3; i++)
		floats[i] = sid_get_f32(h + OFF_CONFIG + 36 + 4 * i);
	c->fp_dim = ints[0];
	c->pe_pairs = ints[1];
	c->heads = ints[2];
	c->head_dim = ints[3];
	c->att_dim = ints[4];
	c->hidden = ints[5];
	c->head_hidden = ints[6];
	c->max_query_segments = ints[7];
	c->max_candidate_segments = ints[8];
	c->pe_min_period = floats[0];
	c->pe_max_period = floats[1];
	c->margin_seconds = floats[2];
}

sid_status
sid_verifier_check_encoder(const sid_verifier *v, const char *model_sha256, sid_error *err)
{
	if (v->encoder_sha256[0] == '\0')
		return sid_fail(err, SID_EINVAL, "verifier \"%s\" records no encoder: it was not made by training",
						v->name);
	if (strcmp(v->encoder_sha256, model_sha256) != 0)
		return sid_fail(err, SID_EINVAL, "verifier \"%s\" was trained on the fingerprints of encoder "
						"sha256 %.12s, not of this one (sha256 %.12s)", v->name, v->encoder_sha256,
						model_sha256);
	return SID_OK;
}

size_t
sid_verifier_file_size(const sid_verifier *v)
{
	return SID_VERIFIER_HEADER_BYTES + 4 * v->num_params + 4;
}

void
sid_verifier_serialize(const sid_verifier *v, unsigned char *out)
{
	uint32_t	f[CFG_FIELDS];
	unsigned char *wts = out + SID_VERIFIER_HEADER_BYTES;

	memset(out, 0, SID_VERIFIER_HEADER_BYTES);
	memcpy(out, SID_VERIFIER_MAGIC, 8);
	sid_put_u32(out + 8, SID_VERIFIER_VERSION);
	sid_put_u32(out + 12, SID_VERIFIER_HEADER_BYTES);
	sid_put_u32(out + 16, v->flags);
	memcpy(out + 20, v->name, strnlen(v->name, SID_VERIFIER_NAME_LEN - 1));
	memcpy(out + 84, v->note, strnlen(v->note, SID_VERIFIER_NOTE_LEN - 1));
	config_fields(&v->cfg, f);
	for (int i = 0; i < CFG_FIELDS; i++)
		sid_put_u32(out + OFF_CONFIG + 4 * i, f[i]);
	sid_put_f32(out + OFF_THRESHOLD, v->threshold);
	sid_put_u32(out + OFF_NPARAMS, (uint32_t) (v->num_params & 0xffffffffu));
	sid_put_u32(out + OFF_NPARAMS + 4, (uint32_t) ((uint64_t) v->num_params >> 32));
	memcpy(out + OFF_ENCODER, v->encoder_sha256, strnlen(v->encoder_sha256, SID_SHA256_HEX_LEN));
	sid_put_u32(out + OFF_HEADER_CRC, sid_crc32(0, out, OFF_HEADER_CRC));
	for (size_t i = 0; i < v->num_params; i++)
		sid_put_f32(wts + 4 * i, v->params[i]);
	sid_put_u32(wts + 4 * v->num_params, sid_crc32(0, wts, 4 * v->num_params));
}

sid_status
sid_verifier_save(const sid_verifier *v, const char *path, sid_error *err)
{
	size_t		size = sid_verifier_file_size(v);
	unsigned char *buf = malloc(size);
	sid_status	st;

	if (!buf)
		return sid_fail(err, SID_ENOMEM, "out of memory writing verifier \"%s\"", path);
	sid_verifier_serialize(v, buf);
	st = sid_write_file_atomic(path, buf, size, err);
	free(buf);
	return st;
}

/* Empty (all NUL: never trained) or 64 lowercase hex digits. */
static int
encoder_field_ok(const unsigned char *f)
{
	int			hex = 0;

	while (hex < SID_SHA256_HEX_LEN && ((f[hex] >= '0' && f[hex] <= '9') || (f[hex] >= 'a' && f[hex] <= 'f')))
		hex++;
	if (hex != 0 && hex != SID_SHA256_HEX_LEN)
		return 0;
	for (int i = hex; i < SID_SHA256_HEX_LEN; i++)
		if (f[i] != '\0')
			return 0;
	return 1;
}

sid_verifier *
sid_verifier_load_mem(const void *data, size_t len, sid_error *err)
{
	const unsigned char *h = data;
	sid_verifier_config cfg;
	uint64_t	nparams;
	float		threshold;
	sid_verifier *v;

	if (len < 12 || memcmp(h, SID_VERIFIER_MAGIC, 8) != 0)
	{
		sid_fail(err, SID_EFORMAT, len < 12 ? "not a sampleid verifier file: only %zu bytes"
				 : "not a sampleid verifier file: bad magic (expected \"SIDVERIF\")", len);
		return NULL;
	}
	if (sid_get_u32(h + 8) != SID_VERIFIER_VERSION)
	{
		sid_fail(err, SID_EUNSUPPORTED, "verifier file format version %u is not supported (this build reads version %d)",
				 sid_get_u32(h + 8), SID_VERIFIER_VERSION);
		return NULL;
	}
	if (len < SID_VERIFIER_HEADER_BYTES)
	{
		sid_fail(err, SID_EFORMAT, "verifier file is truncated: %zu bytes, shorter than its %d-byte header",
				 len, SID_VERIFIER_HEADER_BYTES);
		return NULL;
	}
	if (sid_get_u32(h + 12) != SID_VERIFIER_HEADER_BYTES)
	{
		sid_fail(err, SID_EFORMAT, "verifier file header length %u is wrong (version %d uses %d)",
				 sid_get_u32(h + 12), SID_VERIFIER_VERSION, SID_VERIFIER_HEADER_BYTES);
		return NULL;
	}
	if (sid_get_u32(h + OFF_HEADER_CRC) != sid_crc32(0, h, OFF_HEADER_CRC))
	{
		sid_fail(err, SID_EFORMAT, "verifier file header is corrupted: header checksum mismatch");
		return NULL;
	}
	config_from_header(h, &cfg);
	if (sid_verifier_config_check(&cfg, err) != SID_OK)
		return NULL;
	threshold = sid_get_f32(h + OFF_THRESHOLD);
	if (!(threshold >= 0.0f && threshold <= 1.0f))
	{
		sid_fail(err, SID_EFORMAT, "verifier threshold %g is outside 0 .. 1", threshold);
		return NULL;
	}
	nparams = (uint64_t) sid_get_u32(h + OFF_NPARAMS) | (uint64_t) sid_get_u32(h + OFF_NPARAMS + 4) << 32;
	if (nparams != sid_verifier_num_params(&cfg))
	{
		sid_fail(err, SID_EFORMAT, "verifier file has %llu parameters but its architecture needs %zu",
				 (unsigned long long) nparams, sid_verifier_num_params(&cfg));
		return NULL;
	}
	if (len != SID_VERIFIER_HEADER_BYTES + 4 * nparams + 4)
	{
		sid_fail(err, SID_EFORMAT, "verifier file is %s: %zu bytes, expected %llu",
				 len < SID_VERIFIER_HEADER_BYTES + 4 * nparams + 4 ? "truncated" : "too long", len,
				 (unsigned long long) (SID_VERIFIER_HEADER_BYTES + 4 * nparams + 4));
		return NULL;
	}
	if (sid_get_u32(h + SID_VERIFIER_HEADER_BYTES + 4 * nparams) !=
		sid_crc32(0, h + SID_VERIFIER_HEADER_BYTES, 4 * nparams))
	{
		sid_fail(err, SID_EFORMAT, "verifier file weights are corrupted: checksum mismatch");
		return NULL;
	}
	if (!encoder_field_ok(h + OFF_ENCODER))
	{
		sid_fail(err, SID_EFORMAT, "verifier file's encoder digest is not 64 hex digits");
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (v)
		v->params = malloc(sizeof(float) * nparams);
	if (!v || !v->params)
	{
		free(v);
		sid_fail(err, SID_ENOMEM, "out of memory");
		return NULL;
	}
	v->cfg = cfg;
	v->num_params = (size_t) nparams;
	v->threshold = threshold;
	v->flags = sid_get_u32(h + 16);
	memcpy(v->name, h + 20, SID_VERIFIER_NAME_LEN - 1);
	memcpy(v->note, h + 84, SID_VERIFIER_NOTE_LEN - 1);
	memcpy(v->encoder_sha256, h + OFF_ENCODER, SID_SHA256_HEX_LEN);
	for (size_t i = 0; i < nparams; i++)
	{
		v->params[i] = sid_get_f32(h + SID_VERIFIER_HEADER_BYTES + 4 * i);
		if (!isfinite(v->params[i]))
		{
			sid_verifier_free(v);
			sid_fail(err, SID_EFORMAT, "verifier file weight %zu is not finite", i);
			return NULL;
		}
	}
	sid_sha256_hex(data, len, v->sha256);
	return v;
}

#define V1_HEADER_BYTES 404
#define V1_OFF_HEADER_CRC 400

sid_verifier *
sid_verifier_load_v1(const void *data, size_t len, const char *encoder_sha256, sid_error *err)
{
	const unsigned char *h = data;
	unsigned char *v2;
	sid_verifier *v;

	if (len < V1_HEADER_BYTES + 4 || memcmp(h, SID_VERIFIER_MAGIC, 8) != 0 || sid_get_u32(h + 8) != 1 ||
		sid_get_u32(h + 12) != V1_HEADER_BYTES)
	{
		sid_fail(err, SID_EFORMAT, "not a version-1 sampleid verifier file");
		return NULL;
	}
	if (sid_get_u32(h + V1_OFF_HEADER_CRC) != sid_crc32(0, h, V1_OFF_HEADER_CRC))
	{
		sid_fail(err, SID_EFORMAT, "verifier file header is corrupted: header checksum mismatch");
		return NULL;
	}
	if (strlen(encoder_sha256) != SID_SHA256_HEX_LEN || !encoder_field_ok((const unsigned char *) encoder_sha256))
	{
		sid_fail(err, SID_EINVAL, "an encoder digest is 64 lowercase hex digits");
		return NULL;
	}
	if (!(v2 = malloc(len - V1_HEADER_BYTES + SID_VERIFIER_HEADER_BYTES)))
	{
		sid_fail(err, SID_ENOMEM, "out of memory");
		return NULL;
	}
	memset(v2, 0, SID_VERIFIER_HEADER_BYTES);
	memcpy(v2, h, V1_OFF_HEADER_CRC);
	sid_put_u32(v2 + 8, SID_VERIFIER_VERSION);
	sid_put_u32(v2 + 12, SID_VERIFIER_HEADER_BYTES);
	memcpy(v2 + OFF_ENCODER, encoder_sha256, SID_SHA256_HEX_LEN);
	sid_put_u32(v2 + OFF_HEADER_CRC, sid_crc32(0, v2, OFF_HEADER_CRC));
	/* the weights and their CRC as they are */
	memcpy(v2 + SID_VERIFIER_HEADER_BYTES, h + V1_HEADER_BYTES, len - V1_HEADER_BYTES);
	v = sid_verifier_load_mem(v2, len - V1_HEADER_BYTES + SID_VERIFIER_HEADER_BYTES, err);
	free(v2);
	return v;
}

sid_verifier *
sid_verifier_load(const char *path, sid_error *err)
{
	size_t		len;
	void	   *buf = sid_read_file(path, SID_VERIFIER_MAX_FILE_BYTES, &len, err);
	sid_verifier *v;

	if (!buf)
		return NULL;
	v = sid_verifier_load_mem(buf, len, err);
	free(buf);
	if (!v)
		sid_error_name_file(err, path);
	return v;
}
