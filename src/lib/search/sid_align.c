/*
 * sid_align.c - offset voting over nearest-neighbour hits.  See sid_align.h.
 */
#include "search/sid_align.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
sid_align_params_default(sid_align_params *p, double segment_seconds, double hop_seconds)
{
	p->segment_seconds = segment_seconds;
	p->tolerance_seconds = hop_seconds;
	p->min_segments = 1;
	p->rate_min = 1.0;
	p->rate_max = 1.0;
}

static double
vote_offset(const sid_vote *v)
{
	return (double) v->ref_t - v->query_t;
}

static int
cmp_vote(const void *a, const void *b)
{
	const sid_vote *x = a,
			   *y = b;
	double		dx = vote_offset(x),
				dy = vote_offset(y);

	if (x->recording != y->recording)
		return x->recording < y->recording ? -1 : 1;
	return (dx > dy) - (dx < dy);
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* The window [lo, hi) of unused votes of one recording; best per segment. */
typedef struct window_score
{
	int64_t		lo,
				hi;
	int32_t		segments;
	double		sim_sum;
} window_score;

/*
 * Scores the window of votes starting at lo: the votes of lo's recording
 * with offsets within the tolerance of lo's.  best[] (n_query_segs,
 * scratch) receives each segment's best similarity, -INFINITY for none.
 */
static window_score
score_window(const sid_vote *v, int64_t n, const uint8_t *used, int64_t lo, double tol,
			 float *best, int32_t n_query_segs)
{
	window_score w = {lo, lo, 0, 0};

	for (int32_t j = 0; j < n_query_segs; j++)
		best[j] = -INFINITY;
	for (w.hi = lo; w.hi < n && v[w.hi].recording == v[lo].recording &&
		 vote_offset(&v[w.hi]) - vote_offset(&v[lo]) <= tol; w.hi++)
	{
		if (used[w.hi])
			continue;
		if (best[v[w.hi].query_seg] == -INFINITY)
			w.segments++;
		if (v[w.hi].similarity > best[v[w.hi].query_seg])
			best[v[w.hi].query_seg] = v[w.hi].similarity;
	}
	for (int32_t j = 0; j < n_query_segs; j++)
		if (best[j] != -INFINITY)
			w.sim_sum += best[j];
	return w;
}

/*
 * The chosen window widened by the tolerance on both sides, so that the
 * adjacent offsets of the same recording (the rest of a split or drifting
 * alignment) merge into it instead of coming back as matches of their own;
 * rescored, with best[] for the widened window.
 */
static window_score
absorb_neighbours(const sid_vote *v, int64_t n, const uint8_t *used, window_score w, double tol,
				  float *best, int32_t n_query_segs)
{
	double		lo_off = vote_offset(&v[w.lo]) - tol;
	int64_t		lo = w.lo;
	window_score wide;

	while (lo > 0 && v[lo - 1].recording == v[w.lo].recording && vote_offset(&v[lo - 1]) >= lo_off)
		lo--;
	wide = score_window(v, n, used, lo, vote_offset(&v[w.hi - 1]) + tol - vote_offset(&v[lo]),
						best, n_query_segs);
	return wide;
}

/* The alignment of window w: each agreeing segment's best vote decides. */
static void
window_alignment(const sid_vote *v, const uint8_t *used, window_score w, double seg_s,
				 const float *best, double *offsets, sid_alignment *a)
{
	int32_t		k = 0;

	memset(a, 0, sizeof(*a));
	a->recording = v[w.lo].recording;
	a->query_start = INFINITY;
	a->query_end = -INFINITY;
	for (int64_t i = w.lo; i < w.hi; i++)
	{
		if (used[i] || v[i].similarity != best[v[i].query_seg])
			continue;
		offsets[k++] = vote_offset(&v[i]);
		a->query_start = fmin(a->query_start, v[i].query_t);
		a->query_end = fmax(a->query_end, v[i].query_t + seg_s);
	}
	qsort(offsets, k, sizeof(double), cmp_double);
	a->offset = k % 2 ? offsets[k / 2] : 0.5 * (offsets[k / 2 - 1] + offsets[k / 2]);
	a->segments = w.segments;
	a->similarity = w.sim_sum / w.segments;
	a->ref_start = a->query_start + a->offset;
	a->ref_end = a->query_end + a->offset;
	a->rate = 1.0;
}

/*
 * Whether out[k] is within one window plus the tolerance of the offset of a
 * better alignment of the same recording: the remains of that alignment
 * (a drifting rendition, a reverberant tail), not a match of its own.
 */
static int
repeats_better(const sid_alignment *out, int32_t k, const sid_align_params *p)
{
	for (int32_t i = 0; i < k; i++)
		if (out[i].recording == out[k].recording &&
			fabs(out[i].offset - out[k].offset) <= p->segment_seconds + p->tolerance_seconds)
			return 1;
	return 0;
}

/*
 * Tempo: a Hough transform over (rate, offset).  A vote's key at rate r is
 * ref_t - r x query_t; the votes of one recording sorted by key are scored
 * in windows of the tolerance, as at rate 1, for every rate of the grid.
 */
typedef struct tempo_item
{
	int64_t		recording;
	double		key;
	int64_t		vote;
} tempo_item;

static int
cmp_tempo_item(const void *a, const void *b)
{
	const tempo_item *x = a,
			   *y = b;

	if (x->recording != y->recording)
		return x->recording < y->recording ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->vote > y->vote) - (x->vote < y->vote);
}

/*
 * The rates tried, nearest 1 first (so that a tie keeps the rate nearest 1):
 * 1 +- i x step, the step such that neighbouring rates move a vote at the
 * end of the query's span by half the tolerance, at most SID_ALIGN_MAX_RATES.
 */
static int
rate_grid(const sid_align_params *p, double span, double *rates)
{
	double		step = span > 0 ? 0.5 * p->tolerance_seconds / span : 1.0;
	double		widest = fmax(1.0 - p->rate_min, p->rate_max - 1.0);
	int			n = 0;

	if (widest / step > (SID_ALIGN_MAX_RATES - 1) / 2.0)
		step = widest / ((SID_ALIGN_MAX_RATES - 1) / 2.0);
	rates[n++] = 1.0;
	for (int i = 1; n < SID_ALIGN_MAX_RATES - 1 && i * step <= widest + 1e-12; i++)
	{
		if (1.0 - i * step >= p->rate_min - 1e-12)
			rates[n++] = 1.0 - i * step;
		if (1.0 + i * step <= p->rate_max + 1e-12)
			rates[n++] = 1.0 + i * step;
	}
	return n;
}

/* The unused votes keyed at rate r, sorted; returns how many. */
static int64_t
key_items(const sid_vote *v, int64_t n, const uint8_t *used, double r, tempo_item *it)
{
	int64_t		m = 0;

	for (int64_t i = 0; i < n; i++)
		if (!used[i])
			it[m++] = (tempo_item) {v[i].recording, (double) v[i].ref_t - r * v[i].query_t, i};
	qsort(it, m, sizeof(tempo_item), cmp_tempo_item);
	return m;
}

/*
 * Scores items [lo, hi) of one recording in one pass: best[] receives the
 * best similarity of each segment of the window, which stamp[] marks with
 * *window (a fresh number per call), so nothing of size n_query_segs is
 * reset per window.
 */
static window_score
score_items(const sid_vote *v, const tempo_item *it, int64_t lo, int64_t hi, float *best,
			uint32_t *stamp, uint32_t *window)
{
	window_score w = {lo, hi, 0, 0};
	uint32_t	cur = ++*window;

	for (int64_t i = lo; i < hi; i++)
	{
		const sid_vote *x = &v[it[i].vote];

		if (stamp[x->query_seg] != cur)
		{
			stamp[x->query_seg] = cur;
			best[x->query_seg] = x->similarity;
			w.segments++;
			w.sim_sum += x->similarity;
		}
		else if (x->similarity > best[x->query_seg])
		{
			w.sim_sum += x->similarity - best[x->query_seg];
			best[x->query_seg] = x->similarity;
		}
	}
	return w;
}

/* The end of the window of items starting at lo: same recording, key within tol. */
static int64_t
window_end(const tempo_item *it, int64_t m, int64_t lo, double lo_key, double tol)
{
	int64_t		hi = lo;

	while (hi < m && it[hi].recording == it[lo].recording && it[hi].key - lo_key <= tol)
		hi++;
	return hi;
}

/*
 * The alignment of items [lo, hi) at grid rate r: each agreeing segment's
 * best vote decides; the rate is refined by least squares over them (kept
 * within the range), the offset is their median at that rate.
 */
static void
tempo_alignment(const sid_vote *v, const tempo_item *it, window_score w, double r,
				const sid_align_params *p, const float *best, double *offsets, sid_alignment *a)
{
	int32_t		k = 0;
	double		sx = 0,
				sy = 0,
				sxx = 0,
				sxy = 0;

	memset(a, 0, sizeof(*a));
	a->recording = it[w.lo].recording;
	a->query_start = INFINITY;
	a->query_end = -INFINITY;
	for (int64_t i = w.lo; i < w.hi; i++)
	{
		const sid_vote *x = &v[it[i].vote];

		if (x->similarity != best[x->query_seg])
			continue;
		sx += x->query_t, sy += x->ref_t;
		sxx += (double) x->query_t * x->query_t, sxy += (double) x->query_t * x->ref_t;
		k++;
		a->query_start = fmin(a->query_start, x->query_t);
		a->query_end = fmax(a->query_end, x->query_t + p->segment_seconds);
	}
	if (k >= 3 && sxx - sx * sx / k > 1e-9)
	{
		double		fit = (sxy - sx * sy / k) / (sxx - sx * sx / k);

		if (fabs(fit - r) <= 0.5 * p->tolerance_seconds / fmax(a->query_end - a->query_start, 1e-9) + 1e-9)
			r = fmin(p->rate_max, fmax(p->rate_min, fit));
	}
	k = 0;
	for (int64_t i = w.lo; i < w.hi; i++)
	{
		const sid_vote *x = &v[it[i].vote];

		if (x->similarity == best[x->query_seg])
			offsets[k++] = (double) x->ref_t - r * x->query_t;
	}
	qsort(offsets, k, sizeof(double), cmp_double);
	a->offset = k % 2 ? offsets[k / 2] : 0.5 * (offsets[k / 2 - 1] + offsets[k / 2]);
	a->rate = r;
	a->segments = w.segments;
	a->similarity = w.sim_sum / w.segments;
	/* a segment of the query covers rate x its length of the reference */
	a->ref_start = a->offset + r * a->query_start;
	a->ref_end = a->offset + r * a->query_end;
}

/* As repeats_better, by reference ranges: the tempo changes what an offset means. */
static int
repeats_better_tempo(const sid_alignment *out, int32_t k, const sid_align_params *p)
{
	double		slack = p->segment_seconds + p->tolerance_seconds;

	for (int32_t i = 0; i < k; i++)
		if (out[i].recording == out[k].recording &&
			fabs(out[i].offset + out[i].rate * out[k].query_start - out[k].ref_start) <= slack)
			return 1;
	return 0;
}

static sid_status
align_tempo(const sid_vote *v, int64_t n, int32_t n_query_segs, const sid_align_params *p,
			sid_alignment *out, int32_t max_out, int32_t *n_out, uint8_t *used, float *best,
			sid_error *err)
{
	double		rates[SID_ALIGN_MAX_RATES],
				qlo = INFINITY,
				qhi = -INFINITY,
				tol = p->tolerance_seconds;
	tempo_item *it = malloc(sizeof(tempo_item) * (n + 1));
	double	   *offsets = malloc(sizeof(double) * (n + 1));
	uint32_t   *stamp = calloc(n_query_segs, sizeof(uint32_t));
	uint32_t	window = 0;
	int			n_rates;

	if (!it || !offsets || !stamp)
	{
		free(it), free(offsets), free(stamp);
		return sid_fail(err, SID_ENOMEM, "alignment: out of memory for %lld hits", (long long) n);
	}
	for (int64_t i = 0; i < n; i++)
		qlo = fmin(qlo, v[i].query_t), qhi = fmax(qhi, v[i].query_t);
	n_rates = rate_grid(p, n > 0 ? qhi - qlo : 0, rates);
	while (*n_out < max_out)
	{
		window_score top = {0, 0, 0, 0};
		int			top_rate = -1;
		int64_t		m;

		for (int ri = 0; ri < n_rates; ri++)
		{
			m = key_items(v, n, used, rates[ri], it);
			for (int64_t lo = 0; lo < m; lo++)
			{
				window_score w = score_items(v, it, lo, window_end(it, m, lo, it[lo].key, tol),
											 best, stamp, &window);

				if (w.segments > top.segments ||
					(w.segments == top.segments && w.sim_sum > top.sim_sum))
					top = w, top_rate = ri;
			}
		}
		if (top_rate < 0 || top.segments < p->min_segments)
			break;
		/* the chosen window widened by the tolerance on both sides, as at rate 1 */
		m = key_items(v, n, used, rates[top_rate], it);
		{
			double		lo_key = it[top.lo].key - tol,
						hi_key = it[top.hi - 1].key + tol;
			int64_t		lo = top.lo,
						hi = top.hi;

			while (lo > 0 && it[lo - 1].recording == it[top.lo].recording && it[lo - 1].key >= lo_key)
				lo--;
			while (hi < m && it[hi].recording == it[top.lo].recording && it[hi].key <= hi_key)
				hi++;
			top = score_items(v, it, lo, hi, best, stamp, &window);
		}
		tempo_alignment(v, it, top, rates[top_rate], p, best, offsets, &out[*n_out]);
		for (int64_t i = top.lo; i < top.hi; i++)
			used[it[i].vote] = 1;
		if (!repeats_better_tempo(out, *n_out, p))
			(*n_out)++;
	}
	free(it), free(offsets), free(stamp);
	return SID_OK;
}

sid_status
sid_align_votes(sid_vote *votes, int64_t n, int32_t n_query_segs, const sid_align_params *p,
				sid_alignment *out, int32_t max_out, int32_t *n_out, sid_error *err)
{
	uint8_t    *used;
	float	   *best;
	double	   *offsets;

	*n_out = 0;
	if (n < 0 || n_query_segs < 1 || max_out < 0 || !(p->tolerance_seconds > 0) ||
		!(p->segment_seconds > 0) || p->min_segments < 1 ||
		!(p->rate_min >= 0.25 && p->rate_min <= 1.0 && p->rate_max >= 1.0 && p->rate_max <= 4.0))
		return sid_fail(err, SID_EINVAL, "alignment: invalid parameters");
	for (int64_t i = 0; i < n; i++)
		if (votes[i].query_seg < 0 || votes[i].query_seg >= n_query_segs ||
			!isfinite(votes[i].query_t) || !isfinite(votes[i].ref_t) ||
			!isfinite(votes[i].similarity))
			return sid_fail(err, SID_EINVAL, "alignment: hit %lld is out of range", (long long) i);
	used = calloc(n + 1, 1);
	best = malloc(sizeof(float) * n_query_segs);
	offsets = malloc(sizeof(double) * (n + 1));
	if (!used || !best || !offsets)
	{
		free(used), free(best), free(offsets);
		return sid_fail(err, SID_ENOMEM, "alignment: out of memory for %lld hits", (long long) n);
	}
	if (p->rate_min < 1.0 || p->rate_max > 1.0)
	{
		sid_status	st = align_tempo(votes, n, n_query_segs, p, out, max_out, n_out, used, best, err);

		free(used), free(best), free(offsets);
		return st;
	}
	qsort(votes, n, sizeof(sid_vote), cmp_vote);
	while (*n_out < max_out)
	{
		window_score top = {0, 0, 0, 0};

		for (int64_t lo = 0; lo < n; lo++)
		{
			window_score w;

			if (used[lo])
				continue;
			w = score_window(votes, n, used, lo, p->tolerance_seconds, best, n_query_segs);
			if (w.segments > top.segments ||
				(w.segments == top.segments && w.sim_sum > top.sim_sum))
				top = w;
		}
		if (top.segments < p->min_segments)
			break;
		top = absorb_neighbours(votes, n, used, top, p->tolerance_seconds, best, n_query_segs);
		window_alignment(votes, used, top, p->segment_seconds, best, offsets, &out[*n_out]);
		for (int64_t i = top.lo; i < top.hi; i++)
			used[i] = 1;
		if (!repeats_better(out, *n_out, p))
			(*n_out)++;
	}
	free(used), free(best), free(offsets);
	return SID_OK;
}

int
sid_alignment_clamp(sid_alignment *a, double ref_lo, double ref_hi)
{
	double		rate = a->rate > 0 ? a->rate : 1.0,
				lo = fmax(ref_lo, a->offset),	/* query time 0 */
				start = fmax(a->ref_start, lo),
				end = fmin(a->ref_end, ref_hi);

	if (!(end > start))
		return 0;
	a->ref_start = start;
	a->ref_end = end;
	/* the rate-1 case stays the subtraction it always was, bit for bit */
	a->query_start = rate == 1.0 ? start - a->offset : (start - a->offset) / rate;
	a->query_end = rate == 1.0 ? end - a->offset : (end - a->offset) / rate;
	return 1;
}

int
sid_alignment_same_use(const sid_alignment *a, const sid_alignment *b)
{
	return a->recording == b->recording &&
		b->query_start < a->query_end && b->query_end > a->query_start &&
		b->ref_start < a->ref_end && b->ref_end > a->ref_start;
}
