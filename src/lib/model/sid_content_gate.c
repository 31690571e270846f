/*
 * sid_content_gate.c - the null set of content-free signals and the gate
 * over fingerprints.  See sid_content_gate.h.
 */
#include "model/sid_content_gate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_rng.h"

#define NULL_SIGNAL_SECONDS 2.0

typedef enum null_kind
{
	NULL_SILENCE, NULL_WHITE, NULL_PINK, NULL_BROWN, NULL_SINE, NULL_HUM
} null_kind;

typedef struct null_spec
{
	null_kind	kind;
	double		level_dbfs;		/* RMS */
	double		freq;			/* sine, hum: Hz */
	uint64_t	seed;
} null_spec;

static const char *const null_kind_names[] = {"silence", "white", "pink", "brown", "sine", "hum"};

/*
 * Set 0: silence, three noise colours at four levels, 32 sines from 40 Hz to
 * 7 kHz, 50 and 60 Hz hum.  Set 1, held out: noise at other levels and seeds,
 * one-LSB dither, sines between set 0's frequencies at two other levels.
 */
static int
null_spec_of(int set, int i, null_spec *s)
{
	static const double levels0[] = {-70, -50, -30, -12};
	static const double levels1[] = {-90, -60, -40, -20};
	int			n_noise = 3 * 4,
				n_sine = set == 0 ? 32 : 2 * 31,
				n_total = 1 + n_noise + n_sine + 2;

	if (i < 0 || i >= n_total)
		return n_total;
	memset(s, 0, sizeof(*s));
	s->seed = 0x5e7a11ull + 1000003ull * set + i;
	if (i == 0)
		s->kind = set == 0 ? NULL_SILENCE : NULL_WHITE, s->level_dbfs = -96;
	else if (i <= n_noise)
	{
		s->kind = (null_kind) (NULL_WHITE + (i - 1) % 3);
		s->level_dbfs = (set == 0 ? levels0 : levels1)[(i - 1) / 3];
	}
	else if (i <= n_noise + n_sine)
	{
		int			j = i - 1 - n_noise;
		double		step = log(7000.0 / 40.0) / 31;

		s->kind = NULL_SINE;
		if (set == 0)
			s->freq = 40.0 * exp(step * j), s->level_dbfs = -12;
		else
			s->freq = 40.0 * exp(step * (j % 31 + 0.5)), s->level_dbfs = j < 31 ? -30 : -6;
	}
	else
	{
		s->kind = NULL_HUM;
		s->freq = i == n_total - 2 ? 50.0 : 60.0;
		s->level_dbfs = set == 0 ? -20 : -35;
	}
	return n_total;
}

static void
scale_to_rms(float *x, int64_t n, double level_dbfs)
{
	double		e = 0;

	for (int64_t t = 0; t < n; t++)
		e += (double) x[t] * x[t];
	if (e <= 0)
		return;
	double		g = pow(10.0, level_dbfs / 20.0) / sqrt(e / n);

	for (int64_t t = 0; t < n; t++)
		x[t] = (float) (x[t] * g);
}

int
sid_content_null_signal(int set, int i, float *out, int64_t n, int32_t rate, const char **kind)
{
	null_spec	s;
	int			count = null_spec_of(set, i, &s);
	sid_rng		rng;
	double		b0 = 0, b1 = 0, b2 = 0, brown = 0;

	if (i < 0 || i >= count)
		return count;
	if (kind)
		*kind = null_kind_names[s.kind];
	sid_rng_init(&rng, s.seed, 0);
	for (int64_t t = 0; t < n; t++)
	{
		double		w = s.kind >= NULL_WHITE && s.kind <= NULL_BROWN ? sid_rng_normal(&rng) : 0,
					ph = 2 * M_PI * s.freq * t / rate;

		switch (s.kind)
		{
			case NULL_SILENCE:
				out[t] = 0;
				break;
			case NULL_WHITE:
				out[t] = (float) w;
				break;
			case NULL_PINK:		/* Paul Kellet's economy 1/f filter */
				b0 = 0.99765 * b0 + w * 0.0990460;
				b1 = 0.96300 * b1 + w * 0.2965164;
				b2 = 0.57000 * b2 + w * 1.0526913;
				out[t] = (float) (b0 + b1 + b2 + w * 0.1848);
				break;
			case NULL_BROWN:	/* leaky integral of white noise */
				brown = 0.998 * brown + w;
				out[t] = (float) brown;
				break;
			case NULL_SINE:
				out[t] = (float) sin(ph);
				break;
			case NULL_HUM:
				out[t] = (float) (sin(ph) + 0.5 * sin(2 * ph) + 0.25 * sin(3 * ph));
				break;
		}
	}
	scale_to_rms(out, n, s.level_dbfs);
	return count;
}

void
sid_content_window_measure(const float *w, int T, int M, float *level_db, float *modulation_db)
{
	enum
	{
		SMOOTH = 5
	};
	double		level = -1e30,
				top = -1e30,
				mod = 0;
	int			used = 0;

	for (int t = 0; t < T; t++)
	{
		double		p = 0;

		for (int k = 0; k < M; k++)
			p += pow(10.0, w[t * M + k] / 10.0);
		level = fmax(level, 10 * log10(p / M + 1e-30));
	}
	for (int k = 0; k < M; k++)
	{
		double		mean = 0;

		for (int t = 0; t < T; t++)
			mean += w[t * M + k];
		top = fmax(top, mean / T);
	}
	for (int k = 0; k < M && T >= SMOOTH; k++)
	{
		double		mean = 0,
					s1 = 0,
					s2 = 0;
		int			n = T - SMOOTH + 1;

		for (int t = 0; t < T; t++)
			mean += w[t * M + k];
		if (mean / T < top - 30)
			continue;
		for (int t = 0; t < n; t++)
		{
			double		a = 0;

			for (int j = 0; j < SMOOTH; j++)
				a += w[(t + j) * M + k];
			a /= SMOOTH;
			s1 += a;
			s2 += a * a;
		}
		mod += sqrt(fmax(0, s2 / n - (s1 / n) * (s1 / n)));
		used++;
	}
	*level_db = (float) level;
	*modulation_db = used ? (float) (mod / used) : 0.0f;
}

void
sid_content_embedded_windows(const sid_embedder *e, int count, uint8_t *content)
{
	int			T = e->model->enc->cfg.n_frames,
				M = e->model->enc->cfg.n_mels;

	for (int i = 0; i < count; i++)
	{
		float		level,
					mod;

		sid_content_window_measure(e->windows + (size_t) i * T * M, T, M, &level, &mod);
		content[i] = (uint8_t) sid_content_window_has_content(level, mod);
	}
}

sid_status
sid_content_embed_pcm(sid_embedder *e, sid_device_kind device, const float *pcm, int64_t n,
					  sid_embed_result *res, uint8_t **content, sid_error *err)
{
	int64_t		S = sid_embed_count(e, n);

	memset(res, 0, sizeof(*res));
	res->dim = e->model->enc->cfg.embed_dim;
	res->fp = malloc(sizeof(float) * (size_t) (S > 0 ? S : 1) * res->dim);
	res->t_start = malloc(sizeof(double) * (size_t) (S > 0 ? S : 1));
	*content = malloc((size_t) (S > 0 ? S : 1));
	if (!res->fp || !res->t_start || !*content)
	{
		sid_embed_result_free(res);
		free(*content);
		*content = NULL;
		return sid_fail(err, SID_ENOMEM, "out of memory for %lld segments", (long long) S);
	}
	for (int64_t first = 0; first < S; first += e->batch)
	{
		int			count = (int) (S - first < e->batch ? S - first : e->batch);
		sid_status	st = sid_embed_batch(e, device, pcm, n, first, count,
										 res->fp + (size_t) first * res->dim,
										 res->t_start + first, err);

		if (st != SID_OK)
		{
			sid_embed_result_free(res);
			free(*content);
			*content = NULL;
			return st;
		}
		sid_content_embedded_windows(e, count, *content + first);
	}
	res->n_segments = S;
	return SID_OK;
}

/* Appends the fingerprints of every window of x to g (room for them made). */
static sid_status
add_null_windows(sid_content_gate *g, sid_embedder *e, const float *x, int64_t n, double *t,
				 sid_error *err)
{
	int64_t		per = sid_embed_count(e, n);

	for (int64_t first = 0; first < per; first += e->batch)
	{
		int			count = (int) (per - first < e->batch ? per - first : e->batch);
		sid_status	st = sid_embed_batch(e, SID_DEVICE_CPU, x, n, first, count,
										 g->null_fp + (size_t) g->n_null * g->dim, t, err);

		if (st != SID_OK)
			return st;
		g->n_null += count;
	}
	return SID_OK;
}

sid_content_gate *
sid_content_gate_create(sid_embedder *e, float threshold, sid_error *err)
{
	int32_t		rate = e->features.sample_rate;
	int64_t		n = (int64_t) (NULL_SIGNAL_SECONDS * rate);
	int			count = sid_content_null_signal(0, -1, NULL, 0, rate, NULL);
	int64_t		per = sid_embed_count(e, n);
	sid_content_gate *g = calloc(1, sizeof(*g));
	float	   *x = malloc(sizeof(float) * n);
	double	   *t = malloc(sizeof(double) * e->batch);

	if (g)
	{
		g->dim = e->model->enc->cfg.embed_dim;
		g->threshold = threshold;
		g->null_fp = malloc(sizeof(float) * (size_t) count * per * g->dim);
	}
	if (!g || !g->null_fp || !x || !t)
	{
		sid_fail(err, SID_ENOMEM, "content gate: out of memory");
		free(x), free(t), sid_content_gate_free(g);
		return NULL;
	}
	for (int i = 0; i < count; i++)
	{
		sid_content_null_signal(0, i, x, n, rate, NULL);
		if (add_null_windows(g, e, x, n, t, err) != SID_OK)
		{
			free(x), free(t), sid_content_gate_free(g);
			return NULL;
		}
	}
	free(x);
	free(t);
	return g;
}

void
sid_content_gate_free(sid_content_gate *g)
{
	if (!g)
		return;
	free(g->null_fp);
	free(g);
}

float
sid_content_gate_score(const sid_content_gate *g, const float *fp)
{
	float		best = -INFINITY;

	for (int32_t i = 0; i < g->n_null; i++)
	{
		const float *z = g->null_fp + (size_t) i * g->dim;
		float		s = 0;

		for (int32_t d = 0; d < g->dim; d++)
			s += z[d] * fp[d];
		if (s > best)
			best = s;
	}
	return best;
}
