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

sid_status
sid_align_votes(sid_vote *votes, int64_t n, int32_t n_query_segs, const sid_align_params *p,
				sid_alignment *out, int32_t max_out, int32_t *n_out, sid_error *err)
{
	uint8_t    *used;
	float	   *best;
	double	   *offsets;

	*n_out = 0;
	if (n < 0 || n_query_segs < 1 || max_out < 0 || !(p->tolerance_seconds > 0) ||
		!(p->segment_seconds > 0) || p->min_segments < 1)
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
	double		lo = fmax(ref_lo, a->offset),	/* query time 0 */
				start = fmax(a->ref_start, lo),
				end = fmin(a->ref_end, ref_hi);

	if (!(end > start))
		return 0;
	a->ref_start = start;
	a->ref_end = end;
	a->query_start = start - a->offset;
	a->query_end = end - a->offset;
	return 1;
}
