/*
 * ivfpqscan.c - ORDER BY fp <op> query LIMIT k through an ivfpq index.
 *
 * The first call ranks the lists by their centroid's distance to the query,
 * reads the best ivfpq.probes lists and scores each entry by asymmetric
 * distance computation (ADC): a table of distances from the query's
 * sub-vectors to every codeword, summed over the entry's code.  The best
 * ivfpq.rerank candidates by that approximate distance are kept in a bounded
 * max-heap (most entries cost one comparison); the others go to an overflow
 * array, made a min-heap only if the scan outlives the first batch.  The
 * probed lists are picked with PostgreSQL's binaryheap.
 *
 * Product-quantised distances are not lower bounds of the exact ones, so the
 * executor's reorder queue cannot fix their order.  Instead the scan pops the
 * best ivfpq.rerank candidates, re-scores each exactly from the fingerprint in
 * its heap tuple (which also drops tuples the snapshot cannot see), sorts
 * them and returns them in exact order; then the next batch, and so on.  A
 * flat index stores exact vectors and needs no re-scoring.
 */
#include "postgres.h"

#include "access/relscan.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "lib/binaryheap.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq/ivfpq.h"

typedef struct IvfpqCandidate
{
	ItemPointerData tid;
	float		distance;
} IvfpqCandidate;

typedef struct IvfpqScanOpaqueData
{
	bool		started;
	MemoryContext scanCtx;		/* everything of one rescan */
	IvfpqState *state;

	/* the query as the index sees it, and as the operator does */
	bool		queryValid;
	float	   *query;
	Fingerprint *rawQuery;

	/* the best `rerank` approximate candidates, a max-heap on distance */
	IvfpqCandidate *best;
	int			bestSize;
	int			bestCapacity;	/* 0: no bounded selection, all overflow */

	/* all other candidates; a min-heap on distance once heapified */
	IvfpqCandidate *heap;
	int64		heapSize;
	int64		heapCapacity;
	bool		heapified;

	/* the current batch, exactly ordered */
	IvfpqCandidate *batch;
	int			batchSize;
	int			batchPos;
	int			rerank;			/* ivfpq.rerank when the scan started */

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
 * serves both: the kept best, farthest first, and the overflow, nearest first.
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

static void
heapify(IvfpqCandidate *h, int64 n)
{
	int64		i;

	for (i = n / 2 - 1; i >= 0; i--)
		sift_down(h, n, i, false);
}

static IvfpqCandidate
heap_pop(IvfpqScanOpaque so)
{
	IvfpqCandidate top = so->heap[0];

	so->heap[0] = so->heap[--so->heapSize];
	if (so->heapSize > 0)
		sift_down(so->heap, so->heapSize, 0, false);
	return top;
}

static void
add_overflow(IvfpqScanOpaque so, IvfpqCandidate c)
{
	if (so->heapSize == so->heapCapacity)
	{
		so->heapCapacity *= 2;
		so->heap = repalloc_huge(so->heap, sizeof(IvfpqCandidate) * so->heapCapacity);
	}
	so->heap[so->heapSize++] = c;
}

/* Adds the last of the kept best to their heap, farthest first. */
static void
best_sift_up(IvfpqCandidate *h, int i)
{
	IvfpqCandidate item = h[i];

	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (h[parent].distance >= item.distance)
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = item;
}

/*
 * Every overflow candidate is no closer than every kept one: a candidate
 * overflows either because it is no closer than the farthest kept, or
 * because a closer one evicted it (and the farthest kept only decreases).
 */
static void
add_candidate(IvfpqScanOpaque so, ItemPointer tid, float distance)
{
	IvfpqCandidate c;

	c.tid = *tid;
	c.distance = distance;
	if (so->bestCapacity == 0)
		add_overflow(so, c);
	else if (so->bestSize < so->bestCapacity)
	{
		so->best[so->bestSize] = c;
		best_sift_up(so->best, so->bestSize++);
	}
	else if (distance < so->best[0].distance)
	{
		add_overflow(so, so->best[0]);
		so->best[0] = c;
		sift_down(so->best, so->bestSize, 0, true);
	}
	else
		add_overflow(so, c);
}

static int
compare_candidates(const void *a, const void *b)
{
	float		da = ((const IvfpqCandidate *) a)->distance;
	float		db = ((const IvfpqCandidate *) b)->distance;

	return (da > db) - (da < db);
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
 * The `probes` lists closest to the query, in the order they are scanned:
 * a max-heap on distance of the closest so far, O(lists log probes), instead
 * of sorting all lists.  With every list probed, all of them in list order.
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
	/* the heap's array order, which orders ties among the candidates */
	for (i = 0; i < probes; i++)
		probed[i] = DatumGetInt32(heap->bh_nodes[i]);
	binaryheap_free(heap);
	return probed;
}

/*
 * ADC table for one list: entry [j * ksub + k] is what codeword k of
 * sub-quantiser j adds to the distance.  Inner product: -<q_j, cw> (the list
 * adds -<q, c>, see base); Euclidean: ||(q - c)_j - cw||^2.
 */
static void
fill_table(const IvfpqState *state, const float *query, const float *centroid,
		   float *residual, float *table, double *base)
{
	int			j;
	int			k;
	int			i;

	if (state->metric == IVFPQ_METRIC_INNER_PRODUCT)
	{
		*base = -fp_inner_product(query, centroid, state->dim);
		for (j = 0; j < state->m; j++)
		{
			const float *q = query + j * state->dsub;
			const float *cb = state->codebook + (Size) j * state->ksub * state->dsub;

			for (k = 0; k < state->ksub; k++)
			{
				float		dot = 0.0f;

				for (i = 0; i < state->dsub; i++)
					dot += q[i] * cb[k * state->dsub + i];
				table[j * state->ksub + k] = -dot;
			}
		}
		return;
	}

	*base = 0.0;
	for (i = 0; i < state->dim; i++)
		residual[i] = query[i] - centroid[i];
	for (j = 0; j < state->m; j++)
	{
		const float *r = residual + j * state->dsub;
		const float *cb = state->codebook + (Size) j * state->ksub * state->dsub;

		for (k = 0; k < state->ksub; k++)
		{
			float		d = 0.0f;

			for (i = 0; i < state->dsub; i++)
			{
				float		t = r[i] - cb[k * state->dsub + i];

				d += t * t;
			}
			table[j * state->ksub + k] = d;
		}
	}
}

/*
 * Sum of the entry's table lookups.  Four partial sums break the chain of
 * dependent additions (the loop was latency-bound on it).
 */
static inline float
adc_distance(const IvfpqState *state, const float *table, double base, const uint8 *code)
{
	float		d0 = 0.0f,
				d1 = 0.0f,
				d2 = 0.0f,
				d3 = 0.0f;
	int			m = state->m;
	int			j = 0;

	if (state->nbits == 8)
	{
		for (; j + 4 <= m; j += 4)
		{
			d0 += table[(j + 0) * 256 + code[j + 0]];
			d1 += table[(j + 1) * 256 + code[j + 1]];
			d2 += table[(j + 2) * 256 + code[j + 2]];
			d3 += table[(j + 3) * 256 + code[j + 3]];
		}
		for (; j < m; j++)
			d0 += table[j * 256 + code[j]];
	}
	else
	{
		int			ksub = state->ksub;

		for (; j < m; j++)
			d0 += table[j * ksub + ivfpq_code_at(code, j, state->nbits)];
	}
	return (float) base + ((d0 + d1) + (d2 + d3));
}

/* Reads one list's chain of pages into the candidate heap. */
static void
scan_list(IndexScanDesc scan, int list, const float *table, double base)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqState *state = so->state;
	BlockNumber blkno = state->startPages[list];

	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;
		OffsetNumber offno;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(scan->indexRelation, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (offno = FirstOffsetNumber; offno <= maxoff; offno++)
		{
			ItemId		itemid = PageGetItemId(page, offno);
			IndexTuple	itup;
			const char *payload;
			float		distance;

			if (!ItemIdIsUsed(itemid) || ItemIdIsDead(itemid))
				continue;
			itup = (IndexTuple) PageGetItem(page, itemid);
			payload = IvfpqEntryPayload(itup);
			if (!so->queryValid)
				distance = 0.0f;
			else if (state->trained)
				distance = adc_distance(state, table, base, (const uint8 *) payload);
			else
				distance = (float) ivfpq_exact_distance(state->metric, so->rawQuery->x,
														(const float *) payload, state->dim);
			add_candidate(so, &itup->t_tid, distance);
		}
		blkno = IvfpqPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
}

/* First call after (re)scan: probe the lists, collect the candidates. */
static void
collect_candidates(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	IvfpqState *state = so->state;
	double	   *distances;
	int		   *probed;
	float	   *table = NULL;
	float	   *residual = NULL;
	int			probes;
	int			i;

	distances = palloc(sizeof(double) * state->lists);
	for (i = 0; i < state->lists; i++)
		distances[i] = so->queryValid
			? ivfpq_coarse_distance(state->metric, so->query,
									state->centroids + (Size) i * state->dim, state->dim)
			: 0.0;
	/* without a usable query every row is a candidate, in no order */
	probes = so->queryValid ? Min(ivfpq_probes, state->lists) : state->lists;
	probed = closest_lists(distances, state->lists, probes);

	if (state->trained)
	{
		table = palloc(sizeof(float) * state->m * state->ksub);
		residual = palloc(sizeof(float) * state->dim);
	}
	for (i = 0; i < probes; i++)
	{
		int			list = probed[i];
		double		base = 0.0;

		if (state->trained && so->queryValid &&
			(i == 0 || state->metric != IVFPQ_METRIC_INNER_PRODUCT))
			fill_table(state, so->query, state->centroids + (Size) list * state->dim,
					   residual, table, &base);
		else if (state->trained && so->queryValid)
			base = -fp_inner_product(so->query, state->centroids + (Size) list * state->dim,
									 state->dim);
		scan_list(scan, list, table, base);
	}
}

/* Pops the next batch, re-scored exactly from the heap when trained. */
static void
next_batch(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqState *state = so->state;
	bool		rescore = state->trained && so->rerank > 0 && so->queryValid;
	int			width = rescore ? so->rerank : 1;
	int			n = 0;

	so->batchSize = 0;
	so->batchPos = 0;
	if (so->bestSize > 0)
	{
		/* the first batch: the kept best */
		memcpy(so->batch, so->best, sizeof(IvfpqCandidate) * so->bestSize);
		n = so->bestSize;
		so->bestSize = 0;
	}
	else
	{
		if (!so->heapified)
		{
			heapify(so->heap, so->heapSize);
			so->heapified = true;
		}
		while (n < width && so->heapSize > 0)
			so->batch[n++] = heap_pop(so);
	}
	if (!rescore)
	{
		so->batchSize = n;
		return;
	}

	for (int i = 0; i < n; i++)
	{
		bool		call_again = false;
		bool		all_dead = false;
		bool		isnull;
		Datum		value;
		Fingerprint *fp;

		CHECK_FOR_INTERRUPTS();
		if (!table_index_fetch_tuple(so->fetch, &so->batch[i].tid, scan->xs_snapshot,
									 so->slot, &call_again, &all_dead))
			continue;			/* not visible: the executor would skip it too */
		value = slot_getattr(so->slot, so->attno, &isnull);
		if (!isnull)
		{
			fp = DatumGetFingerprint(value);
			if (fp->dim == state->dim)
			{
				so->batch[so->batchSize] = so->batch[i];
				so->batch[so->batchSize].distance =
					(float) ivfpq_exact_distance(state->metric, so->rawQuery->x, fp->x, state->dim);
				so->batchSize++;
			}
			if ((Pointer) fp != DatumGetPointer(value))
				pfree(fp);
		}
		ExecClearTuple(so->slot);
	}
	qsort(so->batch, so->batchSize, sizeof(IvfpqCandidate), compare_candidates);
}

/* --- access method callbacks ------------------------------------------- */

IndexScanDesc
ivfpqbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfpqScanOpaque so = palloc0(sizeof(IvfpqScanOpaqueData));

	so->state = ivfpq_get_state(index);
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
	so->heapified = false;
	so->best = NULL;
	so->bestSize = 0;
	so->bestCapacity = 0;
	so->batch = NULL;
	so->batchSize = 0;
	so->batchPos = 0;
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

	so->state = ivfpq_get_state(scan->indexRelation);
	so->query = palloc(sizeof(float) * so->state->dim);
	so->queryValid = false;
	if (!(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		so->rawQuery = DatumGetFingerprint(scan->orderByData[0].sk_argument);
		so->queryValid = ivfpq_prepare_vector(so->state, so->rawQuery, so->query);
	}
	so->heapCapacity = 1024;
	so->heap = palloc(sizeof(IvfpqCandidate) * so->heapCapacity);
	so->heapSize = 0;
	so->rerank = ivfpq_rerank;
	so->batch = palloc(sizeof(IvfpqCandidate) * Max(so->rerank, 1));
	so->heapified = false;
	so->bestSize = 0;
	so->bestCapacity = (so->state->trained && so->queryValid) ? so->rerank : 0;
	so->best = so->bestCapacity > 0 ? palloc(sizeof(IvfpqCandidate) * so->bestCapacity) : NULL;

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

	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "ivfpq only scans forward");
	if (!so->started)
		start_scan(scan);

	for (;;)
	{
		if (so->batchPos < so->batchSize)
		{
			scan->xs_heaptid = so->batch[so->batchPos++].tid;
			scan->xs_recheck = false;
			scan->xs_recheckorderby = false;
			return true;
		}
		if (so->heapSize == 0 && so->bestSize == 0)
			return false;
		{
			MemoryContext oldCtx = MemoryContextSwitchTo(so->scanCtx);

			next_batch(scan);
			MemoryContextSwitchTo(oldCtx);
		}
	}
}

void
ivfpqendscan(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (so->slot)
		ExecDropSingleTupleTableSlot(so->slot);
	if (so->fetch)
		table_index_fetch_end(so->fetch);
	MemoryContextDelete(so->scanCtx);
	pfree(so);
	scan->opaque = NULL;
}
