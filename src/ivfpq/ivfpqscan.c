/*
 * ivfpqscan.c - ORDER BY fp <op> query LIMIT k through an ivfpq index.
 *
 * The first call ranks the lists by their centroid's distance to the query,
 * reads the best ivfpq.probes lists and scores each entry by asymmetric
 * distance computation (ADC): a table of distances from the query's
 * sub-vectors to every codeword, summed over the entry's code.  The best
 * ivfpq.rerank candidates by that approximate distance are kept in a bounded
 * max-heap (most entries cost one comparison); the others are only counted.
 * Should the scan outlive the kept candidates, it reads the probed lists
 * again for them, into an overflow array made a min-heap (a LIMIT within the
 * first batch, the common case, never does).  The probed lists are picked
 * with PostgreSQL's binaryheap.
 *
 * Product-quantised distances are not lower bounds of the exact ones, so the
 * executor's reorder queue cannot fix their order.  Instead the scan re-scores
 * candidates exactly from the fingerprint in their heap tuple (which also
 * drops tuples the snapshot cannot see), ivfpq.rerank at a time, into a
 * min-heap of exactly scored rows.  The first ivfpq.rerank / 10 rows come from
 * the first batch; after that the heap's top is returned only once no unscored
 * candidate looks closer: its product-quantised distance, less the look-ahead
 * margin, is above the top's.  The margin estimates the largest error among
 * the unscored candidates from the errors (approximate less exact distance)
 * of those scored so far (update_look_ahead).  A row scored after a farther
 * row was returned is skipped, so rows always come back in exact distance
 * order (docs/ivfpq.md).
 *
 * With refine codes (refine = sq8) a batch is scored from the candidates'
 * refine records in the index instead of the heap: each gives a distance and
 * a lower bound of the exact one (its code's error norm is stored beside
 * it).  A bounded candidate is read from the heap only when its bound is
 * below the nearest exactly scored row, so a LIMIT 10 reads about its own
 * rows from the heap rather than ivfpq.rerank of them.
 *
 * When the probed lists are used up the scan goes on to the next-nearest
 * lists, one at a time, up to ivfpq.max_probes lists: a LIMIT or a filtered
 * query is filled while rows exist.  ivfpq.iterative_scan says how: in
 * strict_order a further list's rows closer than one already returned are
 * skipped as well; in relaxed_order each further list starts a round in exact
 * order of its own.  A flat index stores exact vectors and needs no
 * re-scoring.  Candidate memory is bounded by work_mem.  The codes of a data
 * page lie packed side by side (ivfpq.h) and are scored four at a time.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "lib/binaryheap.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq/ivfpq.h"
#include "search/sid_pq4.h"

/* every index of nbits = 4 can have its table quantised */
StaticAssertDecl(IVFPQ_MAX_M <= SID_PQ4_MAX_M, "sid_pq4 takes fewer sub-quantisers than an index may have");

/*
 * The look-ahead margin is the larger of the largest error seen and what the
 * errors of the last IVFPQ_ERROR_WINDOW scored candidates predict for the
 * largest error of the n unscored ones: their mean plus their standard
 * deviation times sqrt(2 ln n) (the expected maximum of n normal draws) plus
 * IVFPQ_TAIL_MARGIN.  Two regimes need both terms.  With 4-bit codes on
 * clustered data the nearest candidates overestimate most (their quantised
 * residuals lose part of their alignment with the query; logged by hand at
 * 10 M rows, the first batch's errors ran 0.13-0.36, the bulk's about
 * 0 +- 0.05), so the largest error seen bounds the rest.  On the regression data the errors are
 * noise of one spread, and the largest of the first few batches is below
 * that of the thousands after them: with the largest error alone the
 * regression suite's full scans skipped rows (one of 70 000, one of 2667).
 * Twice the largest error, the rule before, scored 55 000-211 000
 * candidates by their refine codes for a LIMIT 30 at 10 M rows; this rule
 * scores 1100 for query 9 (client_min_messages = debug1; docs/benchmarks.md,
 * "A LIMIT past the first batch").
 */
#define IVFPQ_ERROR_WINDOW 256
#define IVFPQ_TAIL_MARGIN 2.0

/*
 * The first ivfpq.rerank / IVFPQ_UNCHECKED_FRACTION rows come from the first
 * batch without looking ahead, so a LIMIT up to that costs one batch.  At 4
 * a LIMIT 30 at 10 M rows found 0.610 of the true 30: rows 11-25 of the
 * first batch came back unchecked (4-bit codes rank the nearest poorly), and
 * the closer rows the look-ahead found after them were skipped.  At 10 it
 * finds 0.943, and a LIMIT 10 keeps its one batch and its recall
 * (test/bench/ivfpq_limit_bench.sh).  On the regression data, at 1 a full
 * scan of 2667 rows skipped 358 of them.
 */
#define IVFPQ_UNCHECKED_FRACTION 10

/*
 * Each reading of the deferred candidates keeps this many times as many as
 * the one before.  Keeping all of them, as before, built a heap of every
 * candidate of the probed lists (200 000 at 10 M rows, probes 8) for the
 * first row past a batch, several times the cost of the first batch, where
 * a LIMIT 30 or 100 there needs about 1100.
 */
#define IVFPQ_TIER_GROWTH 16

/*
 * double: float distances overflowed to infinity and tied (issue 13).  With
 * refine codes a candidate also names its refine record.
 */
typedef struct IvfpqCandidate
{
	ItemPointerData tid;
	uint16		refineSlot;		/* on the refine page */
	BlockNumber refineBlock;	/* invalid: none known */
	double		distance;
} IvfpqCandidate;

typedef struct IvfpqScanOpaqueData
{
	bool		started;
	MemoryContext scanCtx;		/* everything of one rescan */
	IvfpqState *state;			/* the scan's own copy, see ivfpq_copy_layout */

	/* the query as the index sees it, and as the operator does */
	bool		queryValid;
	float	   *query;
	Fingerprint *rawQuery;

	/* lists: each one's distance to the query, and which were probed */
	double	   *listDistances;
	bool	   *listProbed;
	int			listsProbed;
	int			maxProbes;		/* ivfpq.max_probes, at least ivfpq.probes */
	bool		relaxed;		/* ivfpq.iterative_scan = relaxed_order */
	float	   *table;			/* ADC table, and scratch for filling it */
	float	   *residual;
	bool		tableShared;	/* inner product: one table serves all lists */
	/* nbits = 4: the table quantised to bytes (sid_pq4), whose sums rank entries */
	sid_pq4_table *fastTable;
	bool		fastUsable;		/* the current table quantised (all finite) */

	/* the best `rerank` approximate candidates, a max-heap on distance */
	IvfpqCandidate *best;
	int64		bestSize;
	int64		bestCapacity;	/* 0: no bounded selection, all overflow */

	/*
	 * The first round's candidates that missed the best: only counted, with
	 * the nearest one's distance; read again from the lists (first probed,
	 * firstProbes of them) only if the scan outlives the best (a LIMIT past
	 * what their re-scoring fills).  Each reading keeps the nearest
	 * tierCapacity of those not taken before (IVFPQ_TIER_GROWTH): all
	 * farther than keptFloor, or as far and not among keptTids.
	 */
	int64		deferred;
	double		deferredMin;
	int		   *firstLists;
	int			firstProbes;
	int64		tierCapacity;
	double		keptFloor;		/* the farthest candidate taken so far */
	ItemPointerData *keptTids;	/* those taken at keptFloor, sorted */
	int64		keptCount;
	bool		materializing;	/* reading deferred candidates again */

	/* all other unscored candidates; a min-heap on distance once heapified */
	IvfpqCandidate *heap;
	int64		heapSize;
	int64		heapCapacity;
	bool		heapified;

	/*
	 * With refine codes: candidates scored by their refine record, a min-heap
	 * on the lower bound of their exact distance that the record gives; the
	 * query as the refine kernels take it (refineQuery, refineStep: dim
	 * each), and what bounds the kernels' own rounding (refineMargin).
	 */
	bool		refined;		/* the index has refine codes, and rescore */
	IvfpqCandidate *bounded;
	int64		boundedSize;
	int64		boundedCapacity;
	float	   *refineQuery;
	float	   *refineStep;
	double		refineBase;
	double		queryNorm;
	double		refineUnit;		/* what a record's error byte counts */
	double		refineMargin;
	int64		refinedCount;	/* candidates scored from their refine record */

	/* exactly scored rows not yet returned, a min-heap on exact distance */
	IvfpqCandidate *ready;
	IvfpqCandidate *batch;		/* the candidates of one re-scoring, rerank of them */
	int64		readySize;
	int64		readyCapacity;
	bool		rescore;		/* trained, rerank > 0, a usable query */
	int			rerank;			/* ivfpq.rerank when the scan started */
	double		lastReturned;	/* exact distance of the last row returned */
	double		overestimate;	/* most an approximate distance exceeded an exact one */
	double		recentErrors[IVFPQ_ERROR_WINDOW];	/* a ring of the last errors */
	int64		recentCount;
	double		lookAhead;		/* the margin, see IVFPQ_ERROR_WINDOW */
	int64		returned;		/* rows returned */
	int64		rescored;		/* heap tuples fetched to re-score */
	int64		skipped;		/* rows scored too late to return in order */
	int64		memoryLimit;	/* work_mem, in bytes */

	/* re-scoring reads the heap */
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	AttrNumber	attno;
} IvfpqScanOpaqueData;

typedef IvfpqScanOpaqueData *IvfpqScanOpaque;

/* --- candidate heaps ------------------------------------------------------ */

/*
 * The candidate heaps are arrays of candidates sifted inline.  PostgreSQL's
 * binaryheap holds Datums and calls its comparator through a pointer, up to
 * three times a level; on these heaps, which a scan sifts thousands of times,
 * it made scans execute 5-27% more instructions when tried.  One sift-down
 * and one sift-up serve all three: the kept best, farthest first, and the
 * overflow and the scored rows, nearest first.
 */
static inline void
sift_down(IvfpqCandidate *h, int64 n, int64 i, bool farthestFirst)
{
	IvfpqCandidate item = h[i];

	for (;;)
	{
		int64		child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n &&
			(farthestFirst ? h[child + 1].distance > h[child].distance
			 : h[child + 1].distance < h[child].distance))
			child++;
		if (farthestFirst ? h[child].distance <= item.distance
			: h[child].distance >= item.distance)
			break;
		h[i] = h[child];
		i = child;
	}
	h[i] = item;
}

static inline void
sift_up(IvfpqCandidate *h, int64 i, bool farthestFirst)
{
	IvfpqCandidate item = h[i];

	while (i > 0)
	{
		int64		parent = (i - 1) / 2;

		if (farthestFirst ? h[parent].distance >= item.distance
			: h[parent].distance <= item.distance)
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = item;
}

static void
heapify(IvfpqCandidate *h, int64 n)
{
	int64		i;

	for (i = n / 2 - 1; i >= 0; i--)
		sift_down(h, n, i, false);
}

static IvfpqCandidate
pop_nearest(IvfpqCandidate *h, int64 *n)
{
	IvfpqCandidate top = h[0];

	h[0] = h[--*n];
	if (*n > 0)
		sift_down(h, *n, 0, false);
	return top;
}

/* Candidate arrays of all kinds together stay within work_mem. */
static void
check_candidate_memory(IvfpqScanOpaque so, int64 more)
{
	int64		total = (so->bestCapacity + so->heapCapacity + so->readyCapacity +
						 so->boundedCapacity + (so->batch ? so->rerank : 0) + more) *
		(int64) sizeof(IvfpqCandidate);

	if (total > so->memoryLimit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ivfpq scan needs more than work_mem (%d kB) for its candidates",
						work_mem),
				 errhint("Lower ivfpq.probes or ivfpq.rerank, raise work_mem, or REINDEX a flat index once its table is populated.")));
}

/* Room for one more candidate in *array, which doubles when full. */
static void
reserve_candidate(IvfpqScanOpaque so, IvfpqCandidate **array, int64 size, int64 *capacity)
{
	int64		grown = Max(*capacity * 2, 1024);

	if (size < *capacity)
		return;
	check_candidate_memory(so, grown - *capacity);
	*array = *array == NULL
		? palloc_extended(sizeof(IvfpqCandidate) * grown, MCXT_ALLOC_HUGE)
		: repalloc_huge(*array, sizeof(IvfpqCandidate) * grown);
	*capacity = grown;
}

static void
add_overflow(IvfpqScanOpaque so, IvfpqCandidate c)
{
	reserve_candidate(so, &so->heap, so->heapSize, &so->heapCapacity);
	so->heap[so->heapSize++] = c;
	if (so->heapified)
		sift_up(so->heap, so->heapSize - 1, false);
}

/* A first-round candidate that is not among the best: see deferred. */
static inline void
defer_candidate(IvfpqScanOpaque so, double distance)
{
	if (so->deferred == 0 || distance < so->deferredMin)
		so->deferredMin = distance;
	so->deferred++;
}

/*
 * Every overflow candidate is no closer than every kept one: a candidate
 * overflows either because it is no closer than the farthest kept, or
 * because a closer one evicted it (and the farthest kept only decreases).
 */
static void
add_candidate(IvfpqScanOpaque so, IvfpqCandidate c)
{
	double		distance = c.distance;

	if (so->bestCapacity == 0)
		add_overflow(so, c);
	else if (so->bestSize < so->bestCapacity)
	{
		so->best[so->bestSize] = c;
		sift_up(so->best, so->bestSize++, true);
	}
	else if (distance < so->best[0].distance)
	{
		defer_candidate(so, so->best[0].distance);
		so->best[0] = c;
		sift_down(so->best, so->bestSize, 0, true);
	}
	else
		defer_candidate(so, distance);
}

static void
add_ready(IvfpqScanOpaque so, IvfpqCandidate c)
{
	reserve_candidate(so, &so->ready, so->readySize, &so->readyCapacity);
	so->ready[so->readySize++] = c;
	sift_up(so->ready, so->readySize - 1, false);
}

static void
add_bounded(IvfpqScanOpaque so, IvfpqCandidate c)
{
	reserve_candidate(so, &so->bounded, so->boundedSize, &so->boundedCapacity);
	so->bounded[so->boundedSize++] = c;
	sift_up(so->bounded, so->boundedSize - 1, false);
}

static bool
has_unscored(IvfpqScanOpaque so)
{
	return so->bestSize > 0 || so->heapSize > 0 || so->deferred > 0;
}

/* The nearest unscored candidate, by approximate distance (none deferred). */
static IvfpqCandidate
pop_unscored(IvfpqScanOpaque so)
{
	if (so->bestSize > 0)
	{
		/* the kept best are a max-heap: take its last leaf, order is restored later */
		return so->best[--so->bestSize];
	}
	if (!so->heapified)
	{
		heapify(so->heap, so->heapSize);
		so->heapified = true;
	}
	return pop_nearest(so->heap, &so->heapSize);
}

/* Approximate distance of the nearest unscored candidate; -inf for the kept best. */
static double
nearest_unscored(IvfpqScanOpaque so)
{
	if (so->bestSize > 0)
		return -get_float8_infinity();
	/* a reading of the deferred keeps the nearest of them */
	if (so->heapSize == 0)
		return so->deferredMin;
	if (!so->heapified)
	{
		heapify(so->heap, so->heapSize);
		so->heapified = true;
	}
	return so->heap[0].distance;
}

/* --- ranking lists and scoring entries --------------------------------- */

/* the list heap: list numbers, the farthest of the closest so far on top */
static int
compare_list_distance(Datum a, Datum b, void *arg)
{
	const double *distances = (const double *) arg;
	double		da = distances[DatumGetInt32(a)];
	double		db = distances[DatumGetInt32(b)];

	return (da > db) - (da < db);
}

/*
 * The `probes` lists closest to the query, nearest first, the order they
 * are scanned in: a max-heap on distance of the closest so far, O(lists log
 * probes), instead of sorting all lists.  Nearest first, the kept best fill
 * with near entries early and later lists add few (in the heap's order, at
 * 10 M rows adding candidates was 13 % of a scan).  With every list probed,
 * all of them in list order.
 */
static int *
closest_lists(double *distances, int lists, int probes)
{
	int		   *probed = palloc(sizeof(int) * probes);
	binaryheap *heap;
	double		bound;
	int			i;

	if (probes == lists)
	{
		for (i = 0; i < lists; i++)
			probed[i] = i;
		return probed;
	}
	heap = binaryheap_allocate(probes, compare_list_distance, distances);
	for (i = 0; i < probes; i++)
		binaryheap_add_unordered(heap, Int32GetDatum(i));
	binaryheap_build(heap);
	bound = distances[DatumGetInt32(binaryheap_first(heap))];
	for (i = probes; i < lists; i++)
	{
		if (distances[i] < bound)
		{
			binaryheap_replace_first(heap, Int32GetDatum(i));
			bound = distances[DatumGetInt32(binaryheap_first(heap))];
		}
	}
	/* farthest first off the heap: probed is nearest first */
	for (i = probes - 1; i >= 0; i--)
		probed[i] = DatumGetInt32(binaryheap_remove_first(heap));
	binaryheap_free(heap);
	return probed;
}

/*
 * ADC table for one list: entry [j * ksub + k] is what codeword k of
 * sub-quantiser j adds to the distance.  Inner product: -<q_j, cw> (the list
 * adds -<q, c>, see base); Euclidean: ||(q - c)_j - cw||^2.
 */
/*
 * What one sub-vector against one codeword adds: -<q, cw> (inner product) or
 * ||q - cw||^2, four lanes at a time; m * 2^nbits of them make a table, the
 * whole of a probes = 1 scan's ADC cost but for the list itself.
 */
static inline float
sub_distance(bool innerProduct, const float *q, const float *cw, int dsub)
{
	ivfpq_v4sf	acc = {0};
	ivfpq_v4sf	zero = {0};
	float		sum = 0.0f;
	int			i = 0;

	if (innerProduct)
	{
		for (; i + 4 <= dsub; i += 4)
			acc += ivfpq_load4(q + i) * ivfpq_load4(cw + i);
		for (; i < dsub; i++)
			sum += q[i] * cw[i];
		return -(sum + ivfpq_hsum4(acc, zero, zero, zero));
	}
	for (; i + 4 <= dsub; i += 4)
	{
		ivfpq_v4sf	t = ivfpq_load4(q + i) - ivfpq_load4(cw + i);

		acc += t * t;
	}
	for (; i < dsub; i++)
		sum += (q[i] - cw[i]) * (q[i] - cw[i]);
	return sum + ivfpq_hsum4(acc, zero, zero, zero);
}

static void
fill_table(const IvfpqState *state, const float *query, const float *centroid,
		   float *residual, float *table, double *base)
{
	bool		innerProduct = state->metric == IVFPQ_METRIC_INNER_PRODUCT;
	const float *q = query;
	int			j;
	int			k;
	int			i;

	if (innerProduct)
		*base = -fp_inner_product(query, centroid, state->dim);
	else
	{
		*base = 0.0;
		for (i = 0; i < state->dim; i++)
			residual[i] = query[i] - centroid[i];
		q = residual;
	}
	for (j = 0; j < state->m; j++)
	{
		const float *qj = q + j * state->dsub;
		const float *cb = state->codebook + (Size) j * state->ksub * state->dsub;

		for (k = 0; k < state->ksub; k++)
			table[j * state->ksub + k] = sub_distance(innerProduct, qj,
													  cb + k * state->dsub, state->dsub);
	}
}

/*
 * Entries scored per step: the codes of a page lie packed side by side
 * (ivfpq.h), so four entries' lookups are interleaved, each entry with two
 * partial sums (even and odd sub-quantisers): eight independent chains of
 * additions, all in registers (an array of sums was kept in memory by the
 * compiler, each addition a load and a store, at 10 M rows twice FAISS's
 * time per entry).
 */
#define IVFPQ_ADC_STEP	4
/* how many entries ahead adc_sums8 asks for the codes: about four steps */
#define IVFPQ_ADC_PREFETCH	16

/* Byte b (0-7) of the eight code bytes a little- or big-endian load put in w. */
#ifdef WORDS_BIGENDIAN
#define CODE_BYTE(w, b)	((int) (((w) >> (56 - 8 * (b))) & 0xFF))
#else
#define CODE_BYTE(w, b)	((int) (((w) >> (8 * (b))) & 0xFF))
#endif

/*
 * GCC's straight-line vectoriser packs the four entries' sums into one SSE
 * register, each addition then waiting on three shuffles of the loaded
 * table values: at 10 M rows the loop ran at a quarter of its loads' speed.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define IVFPQ_NO_SLP __attribute__((optimize("no-tree-slp-vectorize")))
#else
#define IVFPQ_NO_SLP
#endif

/*
 * The ADC sums (distances less the list's base) of a page's `count` codes of
 * nbits = 8, `stride` bytes apart: four entries at a time, each code read
 * eight bytes per load, two sums an entry (even and odd sub-quantisers),
 * eight chains of additions in registers.
 */
static IVFPQ_NO_SLP void
adc_sums8(const float *table, int m, int stride, const uint8 *codes, int count, float *out)
{
	int			i = 0;
	int			j;

	for (; i + IVFPQ_ADC_STEP <= count; i += IVFPQ_ADC_STEP)
	{
		const uint8 *c0 = codes + (Size) i * stride;
		const uint8 *c1 = c0 + stride;
		const uint8 *c2 = c1 + stride;
		const uint8 *c3 = c2 + stride;
		float		a0 = 0.0f,
					a1 = 0.0f,
					a2 = 0.0f,
					a3 = 0.0f,
					b0 = 0.0f,
					b1 = 0.0f,
					b2 = 0.0f,
					b3 = 0.0f;

		/* the codes a few steps on, from memory meanwhile (beyond count: harmless) */
		__builtin_prefetch(c0 + IVFPQ_ADC_PREFETCH * stride);
		for (j = 0; j + 8 <= m; j += 8)
		{
			const float *t = table + j * 256;
			uint64		w0,
						w1,
						w2,
						w3;

			memcpy(&w0, c0 + j, 8);
			memcpy(&w1, c1 + j, 8);
			memcpy(&w2, c2 + j, 8);
			memcpy(&w3, c3 + j, 8);
			/* constant shifts: a loop over the bytes shifted by %cl, three uops each */
#define ADC_BYTE_PAIR(b) \
			do { \
				const float *te = t + (b) * 256; \
				const float *to = te + 256; \
				a0 += te[CODE_BYTE(w0, b)]; \
				b0 += to[CODE_BYTE(w0, (b) + 1)]; \
				a1 += te[CODE_BYTE(w1, b)]; \
				b1 += to[CODE_BYTE(w1, (b) + 1)]; \
				a2 += te[CODE_BYTE(w2, b)]; \
				b2 += to[CODE_BYTE(w2, (b) + 1)]; \
				a3 += te[CODE_BYTE(w3, b)]; \
				b3 += to[CODE_BYTE(w3, (b) + 1)]; \
			} while (0)
			ADC_BYTE_PAIR(0);
			ADC_BYTE_PAIR(2);
			ADC_BYTE_PAIR(4);
			ADC_BYTE_PAIR(6);
#undef ADC_BYTE_PAIR
		}
		for (; j < m; j++)
		{
			const float *t = table + j * 256;

			a0 += t[c0[j]];
			a1 += t[c1[j]];
			a2 += t[c2[j]];
			a3 += t[c3[j]];
		}
		out[i] = a0 + b0;
		out[i + 1] = a1 + b1;
		out[i + 2] = a2 + b2;
		out[i + 3] = a3 + b3;
	}
	for (; i < count; i++)
	{
		const uint8 *c = codes + (Size) i * stride;
		float		a = 0.0f;

		for (j = 0; j < m; j++)
			a += table[j * 256 + c[j]];
		out[i] = a;
	}
}

/* The ADC distance of one code of any nbits (the packed bit form, ivfpqutils.c). */
static inline double
adc_distance(const IvfpqState *state, const float *table, double base, const uint8 *code)
{
	float		d = 0.0f;
	int			j;

	for (j = 0; j < state->m; j++)
		d += table[j * state->ksub + ivfpq_code_at(code, j, state->nbits)];
	return base + d;
}

/*
 * A flat layout's pages are freed only once no snapshot from before VACUUM
 * trained the index remains (ivfpqautotrain.c); a query on a standby is not
 * such a snapshot without hot_standby_feedback, so it may find them reused.
 * Like a recovery conflict, that cancels the query.
 */
static void
retrained_under_scan(IndexScanDesc scan)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("ivfpq index \"%s\" was trained while this scan read it",
					RelationGetRelationName(scan->indexRelation)),
			 errhint("Run the query again.")));
}

static int
compare_tid(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/* Entry i of a data page, at the given distance, into the candidate heaps. */
static void
add_entry(IvfpqScanOpaque so, const IvfpqState *state, Page page, int i, double distance)
{
	ItemPointer tid = IvfpqPageTid(page, i);
	IvfpqCandidate c;

	if (so->materializing &&
		(distance < so->keptFloor ||
		 (distance == so->keptFloor &&
		  bsearch(tid, so->keptTids, so->keptCount, sizeof(ItemPointerData), compare_tid))))
		return;
	c.tid = *tid;
	c.distance = distance;
	c.refineBlock = InvalidBlockNumber;
	c.refineSlot = 0;
	if (state->refine != IVFPQ_REFINE_NONE)
	{
		int			slot = ivfpq_payload_slot(state, IvfpqPagePayload(page, state->codeSize, i));
		BlockNumber *refineBlock = ivfpq_refine_page_of_slot(state, page, slot);

		if (refineBlock != NULL)
		{
			c.refineBlock = *refineBlock;
			c.refineSlot = (uint16) (slot % state->refinePerPage);
		}
	}
	add_candidate(so, c);
}

/* What a first-round candidate must beat to be kept: the farthest kept, once full. */
static inline double
keep_limit(IvfpqScanOpaque so)
{
	return so->bestCapacity > 0 && so->bestSize == so->bestCapacity
		? so->best[0].distance : get_float8_infinity();
}

/*
 * One data page's entries into the candidate heaps.  The common cases,
 * codes of nbits = 8 and 4, are two passes: the page's ADC sums in one tight
 * loop over the packed codes (nbits = 4: from the table quantised to bytes,
 * sid_pq4, 32 codes a step), then the few entries closer than the farthest
 * kept candidate are added, the others only counted (defer_candidate's
 * work, for the page at once).
 */
static void
score_page(IvfpqScanOpaque so, const IvfpqState *state, Page page, int count,
		   const float *table, double base)
{
	const char *payloads = IvfpqPagePayloads(page);
	int			i;

	if (so->queryValid && state->trained && (state->nbits == 8 || so->fastUsable))
	{
		float		sums[IVFPQ_MAX_PAGE_ENTRIES];
		double		limit = keep_limit(so);
		int			added = 0;
		float		n0 = get_float4_infinity(),
					n1 = n0,
					n2 = n0,
					n3 = n0;

		if (state->nbits == 8)
			adc_sums8(table, state->m, state->codeSize, (const uint8 *) payloads, count, sums);
		else
			sid_pq4_distances(so->fastTable, (const uint8 *) payloads, state->codeSize, count, sums);
		/*
		 * One pass: each entry is kept or, deferred, joins the nearest of
		 * its lane; four lanes, so the minimum is not one chain of dependent
		 * comparisons (with 4-bit codes a second pass for it was a tenth of
		 * a 10 M-row scan).
		 */
#define SCORE_ENTRY(k, nearest) \
		do { \
			double		distance_ = base + sums[k]; \
			if (distance_ < limit) \
			{ \
				add_entry(so, state, page, (k), distance_); \
				limit = keep_limit(so); \
				added++; \
			} \
			else \
				nearest = Min(nearest, sums[k]); \
		} while (0)
		for (i = 0; i + 4 <= count; i += 4)
		{
			SCORE_ENTRY(i, n0);
			SCORE_ENTRY(i + 1, n1);
			SCORE_ENTRY(i + 2, n2);
			SCORE_ENTRY(i + 3, n3);
		}
		for (; i < count; i++)
			SCORE_ENTRY(i, n0);
#undef SCORE_ENTRY
		/* the others are deferred: counted, with the nearest one's distance */
		if (added < count)
		{
			float		nearest = Min(Min(n0, n1), Min(n2, n3));

			if (so->deferred == 0 || base + nearest < so->deferredMin)
				so->deferredMin = base + nearest;
			so->deferred += count - added;
		}
		return;
	}
	for (i = 0; i < count; i++)
	{
		const char *payload = payloads + (Size) i * state->codeSize;
		double		distance = 0.0;

		if (!so->queryValid)
			distance = 0.0;
		else if (!state->trained)
			distance = ivfpq_exact_distance(state->metric, so->rawQuery->x,
											(const float *) payload, state->dim);
		else
			distance = adc_distance(state, table, base, (const uint8 *) payload);
		add_entry(so, state, page, i, distance);
	}
}

/*
 * A list or refine page, pinned, through the buffer it was in when this
 * backend last read it: ReadRecentBuffer pins that buffer if it still holds
 * the block, without the buffer-mapping lookup, which at 10 M rows (16 lists
 * of 30 pages a query, shared_buffers = 8GB) was 14 % of a scan.  Those
 * reads are not counted in pg_statio_*_indexes.idx_blks_hit
 * (ReadRecentBuffer counts only the executor's buffer usage).
 */
static Buffer
read_recent_page(Relation index, IvfpqState *cache, BlockNumber blkno)
{
	Buffer		buf;

	if (cache == NULL || blkno >= cache->recentBlocks)
		return ReadBuffer(index, blkno);
	buf = cache->recentBuffers[blkno];
	if (BufferIsValid(buf) && ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blkno, buf))
		return buf;
	buf = ReadBuffer(index, blkno);
	cache->recentBuffers[blkno] = buf;
	return buf;
}

/*
 * Reads one list's chain of pages into the candidate heap.  No ring
 * strategy: a scan reads a small part of the index, and a ring would keep
 * the lists that every query probes out of shared buffers.
 */
static void
scan_list(IndexScanDesc scan, int list, const float *table, double base)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqState *state = so->state;
	BlockNumber blkno = state->startPages[list];

	/* the relcache's layout, for its recent buffers (read within this call only) */
	IvfpqState *cache = state->trained ? ivfpq_get_state(scan->indexRelation) : NULL;
	Buffer		next = BlockNumberIsValid(blkno)
		? read_recent_page(scan->indexRelation, cache, blkno) : InvalidBuffer;

	while (BufferIsValid(next))
	{
		Buffer		buf = next;
		Page		page;
		int			count;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!ivfpq_page_is_valid(page) || ivfpq_page_is_free(page))
			retrained_under_scan(scan);
		count = ivfpq_page_entries(page, state->codeSize);
		if (count < 0 && !state->trained)
			retrained_under_scan(scan);
		if (count < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("ivfpq index \"%s\" has a malformed data page at block %u",
							RelationGetRelationName(scan->indexRelation), blkno),
					 errhint("REINDEX the index.")));

		/*
		 * Pin the next page before scoring this one, and have the CPU fetch
		 * all of it meanwhile: at 10 M rows the first touch of each page was a
		 * tenth of a scan, and with 4-bit codes, whose kernel is faster than
		 * memory, the codes' loads waited a third of it (the hardware
		 * prefetcher does not cross 4 kB).  Only read once locked.
		 */
		blkno = IvfpqPageGetOpaque(page)->nextblkno;
		next = InvalidBuffer;
		if (BlockNumberIsValid(blkno))
		{
			const char *p;
			int			line;

			next = read_recent_page(scan->indexRelation, cache, blkno);
			p = (const char *) BufferGetPage(next);
			for (line = 0; line < BLCKSZ; line += 64)
				__builtin_prefetch(p + line);
		}
		score_page(so, state, page, count, table, base);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * The layout with its centroids and codebook, for use within one call (see
 * ivfpq_copy_layout): the cache's, or the scan's own copy of a flat layout,
 * which stays the scan's even if VACUUM trains the index meanwhile.
 */
static const IvfpqState *
scan_layout(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	return so->state->trained ? ivfpq_get_state(scan->indexRelation) : so->state;
}

/* Fills so->table for one list, when its metric needs one per list; returns its base. */
static double
prepare_list_table(IndexScanDesc scan, int list)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqState *state = scan_layout(scan);
	const float *centroid = state->centroids + (Size) list * state->dim;
	double		base = 0.0;

	if (state->trained && so->queryValid)
	{
		if (!so->tableShared)
		{
			fill_table(state, so->query, centroid, so->residual, so->table, &base);
			so->tableShared = state->metric == IVFPQ_METRIC_INNER_PRODUCT;
			so->fastUsable = so->fastTable != NULL &&
				sid_pq4_quantize(so->table, state->m, so->fastTable);
		}
		else
			base = -fp_inner_product(so->query, centroid, state->dim);
	}
	return base;
}

/* Scores one list's entries against the query into the candidate heaps. */
static void
probe_list(IndexScanDesc scan, int list)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	double		base = prepare_list_table(scan, list);

	so->listProbed[list] = true;
	so->listsProbed++;
	scan_list(scan, list, so->table, base);
}

/*
 * A reading of the first round's lists is done: what the next may not take
 * again, if any are left over.  The distances are recomputed the same way
 * on every reading, so one at the floor is told apart by its TID.
 */
static void
keep_round(IvfpqScanOpaque so)
{
	double		floor;
	int64		ties = 0;
	int64		i;

	if (so->deferred == 0 || so->bestSize == 0)
		return;
	floor = so->best[0].distance;	/* the kept best's farthest */
	if (floor > so->keptFloor)
		so->keptCount = 0;
	for (i = 0; i < so->bestSize; i++)
		ties += so->best[i].distance == floor;
	/* as many TIDs as candidates were kept, which work_mem bounded */
	so->keptTids = so->keptTids == NULL
		? palloc_extended(sizeof(ItemPointerData) * (so->keptCount + ties), MCXT_ALLOC_HUGE)
		: repalloc_huge(so->keptTids, sizeof(ItemPointerData) * (so->keptCount + ties));
	for (i = 0; i < so->bestSize; i++)
		if (so->best[i].distance == floor)
			so->keptTids[so->keptCount++] = so->best[i].tid;
	qsort(so->keptTids, so->keptCount, sizeof(ItemPointerData), compare_tid);
	so->keptFloor = floor;
}

/*
 * The scan needs the first round's candidates beyond those taken: reads its
 * lists again, keeping the nearest tierCapacity not taken before, and hands
 * them to the overflow heap.  The lists may have changed since; an entry
 * added meanwhile is of a row the snapshot cannot see, and one VACUUM
 * removed is of a row no snapshot sees.
 */
static void
materialize_deferred(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int64		room;
	int64		capacity;
	IvfpqCandidate *swap;
	int64		swapCapacity;
	int			i;

	Assert(so->bestSize == 0 && so->heapSize == 0);
	/* half of what work_mem leaves, so the scored rows can still grow */
	room = (so->memoryLimit / (int64) sizeof(IvfpqCandidate) -
			(so->heapCapacity + so->readyCapacity + so->boundedCapacity + so->rerank)) / 2;
	capacity = Max(Min(so->tierCapacity * IVFPQ_TIER_GROWTH, room), so->rerank);
	if (capacity > so->bestCapacity)
	{
		check_candidate_memory(so, capacity - so->bestCapacity);
		so->best = so->best == NULL
			? palloc_extended(sizeof(IvfpqCandidate) * capacity, MCXT_ALLOC_HUGE)
			: repalloc_huge(so->best, sizeof(IvfpqCandidate) * capacity);
	}
	so->bestCapacity = capacity;
	so->tierCapacity = capacity;
	so->deferred = 0;
	so->materializing = true;
	for (i = 0; i < so->firstProbes; i++)
		scan_list(scan, so->firstLists[i], so->table,
				  prepare_list_table(scan, so->firstLists[i]));
	so->materializing = false;
	keep_round(so);

	/* the kept ones become the overflow heap, taken nearest first */
	swap = so->heap;
	swapCapacity = so->heapCapacity;
	so->heap = so->best;
	so->heapSize = so->bestSize;
	so->heapCapacity = so->bestCapacity;
	so->heapified = false;
	so->best = swap;
	so->bestSize = 0;
	so->bestCapacity = swapCapacity;
}

/* The query as the refine kernels take it, from the layout's sq8 ranges. */
static void
prepare_refine_query(IvfpqScanOpaque so, const IvfpqState *state)
{
	bool		l2 = state->metric == IVFPQ_METRIC_L2;
	double		base = 0.0;
	double		magnitude = 0.0;
	double		norm2 = 0.0;
	int			i;

	so->refineQuery = palloc(sizeof(float) * state->dim);
	so->refineStep = palloc(sizeof(float) * state->dim);
	for (i = 0; i < state->dim; i++)
	{
		double		q = so->query[i];
		double		lo = state->sq8Min[i];
		double		step = state->sq8Step[i];
		double		largest = Max(fabs(lo), fabs(lo + 255.0 * step));

		norm2 += q * q;
		so->refineStep[i] = state->sq8Step[i];
		if (l2)
		{
			so->refineQuery[i] = (float) (q - lo);
			magnitude += largest * largest;
		}
		else
		{
			so->refineQuery[i] = (float) (q * step);
			base += q * lo;
			magnitude += fabs(q) * largest;
		}
	}
	so->refineBase = base;
	so->queryNorm = sqrt(norm2);
	so->refineUnit = ivfpq_refine_error_unit(state) * (1.0 + 1e-9);

	/*
	 * The kernels sum dim float terms: each rounding is within 2^-24 of what
	 * it rounds, so the sum is off by less than dim * 2^-24 of the terms'
	 * magnitudes; 1e-5 of them covers up to 160 dimensions' worth of
	 * accumulated error, and beyond that a bound slightly too high only
	 * makes a row be scored a little late (and skipped, never misordered).
	 */
	so->refineMargin = l2 ? 1e-5 * (so->queryNorm + sqrt(magnitude)) : 1e-5 * magnitude;
}

/* First call after (re)scan: probe the ivfpq.probes nearest lists. */
static void
collect_candidates(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqState *state = scan_layout(scan);
	int		   *probed;
	int			probes;
	int			i;

	so->listDistances = palloc(sizeof(double) * state->lists);
	so->listProbed = palloc0(sizeof(bool) * state->lists);
	for (i = 0; i < state->lists; i++)
		so->listDistances[i] = so->queryValid
			? ivfpq_coarse_distance(state->metric, so->query,
									state->centroids + (Size) i * state->dim, state->dim)
			: 0.0;
	/* without a usable query every row is returned, in no order, a list at a time */
	probes = so->queryValid ? Min(ivfpq_probes, state->lists) : 1;
	if (!so->queryValid)
		so->maxProbes = state->lists;
	else if (ivfpq_iterative_scan == IVFPQ_ITERATIVE_SCAN_OFF)
		so->maxProbes = probes;
	else
		so->maxProbes = Min(Max(ivfpq_max_probes, probes), state->lists);
	so->relaxed = ivfpq_iterative_scan == IVFPQ_ITERATIVE_SCAN_RELAXED;
	probed = closest_lists(so->listDistances, state->lists, probes);

	if (state->trained)
	{
		so->table = palloc(sizeof(float) * state->m * state->ksub);
		so->residual = palloc(sizeof(float) * state->dim);
		if (state->nbits == 4)
			so->fastTable = palloc(sizeof(sid_pq4_table));
	}
	if (so->refined)
		prepare_refine_query(so, state);
	for (i = 0; i < probes; i++)
		probe_list(scan, probed[i]);
	so->firstLists = probed;
	so->firstProbes = probes;
	so->tierCapacity = so->bestCapacity;
	keep_round(so);
}

/*
 * The probed lists are used up: probe the nearest list not yet probed, and
 * start a round of its own.  False once ivfpq.max_probes lists are probed.
 */
static bool
probe_next_list(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			next = -1;
	int			i;

	if (so->listsProbed >= so->maxProbes)
		return false;
	for (i = 0; i < so->state->lists; i++)
		if (!so->listProbed[i] &&
			(next < 0 || so->listDistances[i] < so->listDistances[next]))
			next = i;
	if (next < 0)
		return false;
	so->bestCapacity = 0;
	if (so->relaxed)
		so->lastReturned = -get_float8_infinity();
	probe_list(scan, next);
	return true;
}

static int
compare_candidate_tid(const void *a, const void *b)
{
	return ItemPointerCompare(&((IvfpqCandidate *) a)->tid, &((IvfpqCandidate *) b)->tid);
}

/* The next ivfpq.rerank unscored candidates (fewer at the end) into so->batch. */
static int
take_batch(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			n = 0;

	while (n < so->rerank)
	{
		if (so->bestSize == 0 && so->heapSize == 0 && so->deferred > 0)
			materialize_deferred(scan);
		if (so->bestSize == 0 && so->heapSize == 0)
			break;
		so->batch[n++] = pop_unscored(so);
	}
	return n;
}

/*
 * An approximate distance less the exact (or refined) one, for the
 * look-ahead; one of an overflowed distance says nothing of the others.
 */
static void
note_error(IvfpqScanOpaque so, double error)
{
	if (!isfinite(error))
		return;
	if (error > so->overestimate)
		so->overestimate = error;
	so->recentErrors[so->recentCount++ % IVFPQ_ERROR_WINDOW] = error;
}

/*
 * After a batch: the look-ahead margin from the errors so far (see
 * IVFPQ_ERROR_WINDOW).  The candidates of lists probed later are not yet
 * counted in n; the next batch counts them.
 */
static void
update_look_ahead(IvfpqScanOpaque so)
{
	int			n = (int) Min(so->recentCount, IVFPQ_ERROR_WINDOW);
	double		unscored = (double) (so->bestSize + so->heapSize + so->deferred);
	double		mean = 0.0;
	double		variance = 0.0;
	int			i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		mean += so->recentErrors[i];
	mean /= n;
	for (i = 0; i < n; i++)
		variance += (so->recentErrors[i] - mean) * (so->recentErrors[i] - mean);
	variance /= n;
	so->lookAhead = Max(so->overestimate,
						mean + sqrt(variance) *
						(sqrt(2.0 * log(Max(unscored, 2.0))) + IVFPQ_TAIL_MARGIN));
}

/*
 * Scores a candidate exactly from the fingerprint in its heap tuple, into
 * the scored rows; one the snapshot cannot see is dropped, as the executor
 * would skip it.
 */
static void
rescore_candidate(IndexScanDesc scan, IvfpqCandidate c)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqState *state = so->state;
	bool		call_again = false;
	bool		all_dead = false;
	bool		isnull;
	Datum		value;
	Fingerprint *fp;

	CHECK_FOR_INTERRUPTS();
	so->rescored++;
	if (!table_index_fetch_tuple(so->fetch, &c.tid, scan->xs_snapshot,
								 so->slot, &call_again, &all_dead))
		return;
	value = slot_getattr(so->slot, so->attno, &isnull);
	if (!isnull)
	{
		fp = DatumGetFingerprint(value);
		if (fp->dim == state->dim)
		{
			double		exact = ivfpq_exact_distance(state->metric, so->rawQuery->x,
													 fp->x, state->dim);

			/* a refined candidate carries a lower bound, not its PQ distance */
			if (!so->refined)
				note_error(so, c.distance - exact);
			c.distance = exact;
			add_ready(so, c);
		}
		if ((Pointer) fp != DatumGetPointer(value))
			pfree(fp);
	}
	ExecClearTuple(so->slot);
}

/*
 * Re-scores the next ivfpq.rerank unscored candidates exactly from the heap
 * into the scored rows (an index without refine codes).  They are fetched
 * in TID order, so candidates on one heap page cost one buffer lookup (the
 * fetch keeps its last page pinned) and the pages are read in ascending
 * order; their order of return is the scored rows' heap's.
 */
static void
score_batch(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			n = take_batch(scan);
	int			i;

	qsort(so->batch, n, sizeof(IvfpqCandidate), compare_candidate_tid);
	for (i = 0; i < n; i++)
		rescore_candidate(scan, so->batch[i]);
}

/*
 * A refine record's distance to the query (*approx) and the lower bound of
 * the exact distance it gives.  The record's code is x's within the error
 * norm e that its first byte bounds, so by Cauchy-Schwarz the exact inner
 * product is within ||q|| e of the coded one, and by the triangle inequality
 * the Euclidean distance within e (cosine indexes code the normalised
 * vector).  -inf when the record cannot bound anything.
 */
static double
refine_lower_bound(IvfpqScanOpaque so, IvfpqMetric metric, int dim, const char *record,
				   double *approx)
{
	const uint8 *code = (const uint8 *) record + 1;
	const float *q = so->refineQuery;
	uint8		units = (uint8) record[0];
	double		e;
	float		a0 = 0.0f,
				a1 = 0.0f,
				a2 = 0.0f,
				a3 = 0.0f;
	double		lower;
	int			i = 0;

	e = units * so->refineUnit;
	if (metric == IVFPQ_METRIC_L2)
	{
		const float *step = so->refineStep;

		for (; i + 4 <= dim; i += 4)
		{
			float		t0 = q[i] - step[i] * code[i];
			float		t1 = q[i + 1] - step[i + 1] * code[i + 1];
			float		t2 = q[i + 2] - step[i + 2] * code[i + 2];
			float		t3 = q[i + 3] - step[i + 3] * code[i + 3];

			a0 += t0 * t0;
			a1 += t1 * t1;
			a2 += t2 * t2;
			a3 += t3 * t3;
		}
		for (; i < dim; i++)
		{
			float		t = q[i] - step[i] * code[i];

			a0 += t * t;
		}
		*approx = sqrt((double) ((a0 + a1) + (a2 + a3)));
		lower = *approx - e - so->refineMargin;
	}
	else
	{
		double		ip;

		for (; i + 4 <= dim; i += 4)
		{
			a0 += q[i] * code[i];
			a1 += q[i + 1] * code[i + 1];
			a2 += q[i + 2] * code[i + 2];
			a3 += q[i + 3] * code[i + 3];
		}
		for (; i < dim; i++)
			a0 += q[i] * code[i];
		ip = so->refineBase + ((a0 + a1) + (a2 + a3));
		*approx = metric == IVFPQ_METRIC_INNER_PRODUCT ? -ip : 1.0 - ip;
		lower = *approx - so->queryNorm * e - so->refineMargin;
	}
	/* 255: coded outside its ranges, no bound */
	return isnan(lower) || units == 255 ? -get_float8_infinity() : lower;
}

static int
compare_candidate_refine(const void *a, const void *b)
{
	const IvfpqCandidate *ca = (const IvfpqCandidate *) a;
	const IvfpqCandidate *cb = (const IvfpqCandidate *) b;

	if (ca->refineBlock != cb->refineBlock)
		return ca->refineBlock < cb->refineBlock ? -1 : 1;
	return (int) ca->refineSlot - (int) cb->refineSlot;
}

/*
 * Scores the next ivfpq.rerank unscored candidates by their refine records
 * into the bounded candidates, reading the refine pages in block order, each
 * pinned once through the buffer it was last in (read_recent_page): at 10 M
 * rows a batch of 400 read about as many refine pages, and their buffer-
 * mapping lookups had been 6 % of a scan.  A record's slot is its entry's
 * for as long as the entry lives (ivfpq.h), so a live candidate's record is
 * its own; a candidate whose record cannot be read gets -inf and is scored
 * from the heap first.
 */
static void
refine_batch(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqState *state = so->state;
	int			n = take_batch(scan);
	Buffer		buf = InvalidBuffer;
	Page		page = NULL;
	BlockNumber current = InvalidBlockNumber;
	int			i;

	/* the recent buffers, as scan_list's (a refined index is trained) */
	IvfpqState *cache = ivfpq_get_state(scan->indexRelation);

	qsort(so->batch, n, sizeof(IvfpqCandidate), compare_candidate_refine);
	for (i = 0; i < n; i++)
	{
		IvfpqCandidate c = so->batch[i];
		double		lower = -get_float8_infinity();

		if (c.refineBlock != current)
		{
			if (BufferIsValid(buf))
				UnlockReleaseBuffer(buf);
			buf = InvalidBuffer;
			page = NULL;
			current = c.refineBlock;
			CHECK_FOR_INTERRUPTS();
			if (BlockNumberIsValid(current))
			{
				buf = read_recent_page(scan->indexRelation, cache, current);
				LockBuffer(buf, BUFFER_LOCK_SHARE);
				page = BufferGetPage(buf);
				if (!ivfpq_page_is_valid(page) ||
					(IvfpqPageGetOpaque(page)->flags & (IVFPQ_PAGE_REFINE | IVFPQ_PAGE_FREE)) !=
					IVFPQ_PAGE_REFINE)
					page = NULL;
			}
		}
		if (page != NULL && c.refineSlot < state->refinePerPage)
		{
			double		approx;

			lower = refine_lower_bound(so, state->metric, state->dim,
									   IvfpqRefineRecord(page, state->refineSize, c.refineSlot),
									   &approx);
			note_error(so, c.distance - approx);
			so->refinedCount++;
		}
		c.distance = lower;
		add_bounded(so, c);
	}
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
}

/*
 * The next row in exact order, re-scoring as needed: the nearest scored row
 * is returned once no unscored candidate looks closer (see
 * IVFPQ_ERROR_WINDOW).  False when the probed lists are used up.
 */
static bool
next_rescored(IndexScanDesc scan, ItemPointer tid)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	for (;;)
	{
		bool		unscored;

		/* a candidate whose bound is below the nearest scored row is scored first */
		if (so->boundedSize > 0 &&
			(so->readySize == 0 || so->bounded[0].distance < so->ready[0].distance))
		{
			rescore_candidate(scan, pop_nearest(so->bounded, &so->boundedSize));
			continue;
		}

		/* the first rows come from the first batch, as a short LIMIT wants */
		unscored = has_unscored(so);
		if (unscored && (so->readySize == 0 ||
						 (so->returned >= so->rerank / IVFPQ_UNCHECKED_FRACTION &&
						  so->ready[0].distance > nearest_unscored(so) - so->lookAhead)))
		{
			if (so->refined)
				refine_batch(scan);
			else
				score_batch(scan);
			update_look_ahead(so);
			continue;
		}
		if (so->readySize == 0)
			return false;
		{
			IvfpqCandidate c = pop_nearest(so->ready, &so->readySize);

			if (c.distance < so->lastReturned)
			{
				so->skipped++;
				continue;
			}
			so->lastReturned = c.distance;
			so->returned++;
			*tid = c.tid;
			return true;
		}
	}
}

/* The next row by the candidates' own distance (flat index, rerank 0, no query). */
static bool
next_unscored(IvfpqScanOpaque so, ItemPointer tid)
{
	if (so->heapSize == 0)
		return false;
	*tid = pop_unscored(so).tid;
	return true;
}

/* --- access method callbacks ------------------------------------------- */

IndexScanDesc
ivfpqbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfpqScanOpaque so = palloc0(sizeof(IvfpqScanOpaqueData));

	/* what the scan keeps across calls, its own: see ivfpq_copy_layout */
	so->state = ivfpq_copy_layout(index, CurrentMemoryContext);
	so->scanCtx = AllocSetContextCreate(CurrentMemoryContext, "ivfpq scan",
										ALLOCSET_DEFAULT_SIZES);
	so->attno = ivfpq_heap_attno(index);
	scan->opaque = so;
	return scan;
}

void
ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	MemoryContextReset(so->scanCtx);
	so->started = false;
	so->heap = NULL;
	so->heapSize = 0;
	so->heapCapacity = 0;
	so->heapified = false;
	so->best = NULL;
	so->bestSize = 0;
	so->bestCapacity = 0;
	so->ready = NULL;
	so->batch = NULL;
	so->readySize = 0;
	so->readyCapacity = 0;
	so->bounded = NULL;
	so->boundedSize = 0;
	so->boundedCapacity = 0;
	so->refinedCount = 0;
	so->listsProbed = 0;
	so->deferred = 0;
	so->keptTids = NULL;
	so->keptCount = 0;
	so->keptFloor = -get_float8_infinity();
	so->tierCapacity = 0;
	so->materializing = false;
	so->tableShared = false;
	so->fastTable = NULL;
	so->fastUsable = false;
	so->returned = 0;
	so->rescored = 0;
	so->skipped = 0;
}

static void
start_scan(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	MemoryContext oldCtx = MemoryContextSwitchTo(so->scanCtx);

	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("an ivfpq index can only be scanned in distance order")));
	if (scan->heapRelation == NULL)
		elog(ERROR, "ivfpq scan has no heap relation to re-score from");

	so->query = palloc(sizeof(float) * so->state->dim);
	so->queryValid = false;
	if (!(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		so->rawQuery = DatumGetFingerprint(scan->orderByData[0].sk_argument);
		so->queryValid = ivfpq_prepare_vector(so->state, so->rawQuery, so->query);
	}
	so->memoryLimit = (int64) work_mem * 1024;
	so->rerank = ivfpq_rerank;
	so->rescore = so->state->trained && so->rerank > 0 && so->queryValid;
	so->refined = so->rescore && so->state->refine != IVFPQ_REFINE_NONE;
	so->lastReturned = -get_float8_infinity();
	so->overestimate = 0.0;
	so->recentCount = 0;
	so->lookAhead = 0.0;
	if (so->rescore)
	{
		check_candidate_memory(so, 2 * (int64) so->rerank);
		so->best = palloc(sizeof(IvfpqCandidate) * so->rerank);
		so->bestCapacity = so->rerank;
		so->batch = palloc(sizeof(IvfpqCandidate) * so->rerank);
	}

	if (so->fetch == NULL)
	{
		MemoryContextSwitchTo(oldCtx);
		so->fetch = table_index_fetch_begin(scan->heapRelation);
		so->slot = table_slot_create(scan->heapRelation, NULL);
		MemoryContextSwitchTo(so->scanCtx);
	}

	/*
	 * One scan per (re)scan, counted at its first tuple as btree counts in
	 * _bt_first: a LIMIT query counts once, a lateral join once per outer row.
	 */
	pgstat_count_index_scan(scan->indexRelation);
	collect_candidates(scan);
	MemoryContextSwitchTo(oldCtx);
	so->started = true;
}

bool
ivfpqgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	MemoryContext oldCtx;
	bool		found;

	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "ivfpq only scans forward");
	if (!so->started)
		start_scan(scan);

	oldCtx = MemoryContextSwitchTo(so->scanCtx);
	do
	{
		found = so->rescore ? next_rescored(scan, &scan->xs_heaptid)
			: next_unscored(so, &scan->xs_heaptid);
	} while (!found && probe_next_list(scan));
	MemoryContextSwitchTo(oldCtx);

	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	return found;
}

void
ivfpqendscan(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (so->rescored > 0 || so->refinedCount > 0)
		elog(DEBUG1, "ivfpq scan scored %lld candidates by their refine code, re-scored %lld rows, skipped %lld re-scored after a farther row was returned",
			 (long long) so->refinedCount, (long long) so->rescored, (long long) so->skipped);
	if (so->slot)
		ExecDropSingleTupleTableSlot(so->slot);
	if (so->fetch)
		table_index_fetch_end(so->fetch);
	MemoryContextDelete(so->scanCtx);
	pfree(so->state);
	pfree(so);
	scan->opaque = NULL;
}
