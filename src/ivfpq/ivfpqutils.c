/*
 * ivfpqutils.c - what build, insert, scan, vacuum and check of ivfpq share:
 * the per-backend cache of an index's fixed parts, page initialisation and
 * the page test, vector preparation, list assignment, product-quantiser
 * encoding, forming an entry, and appending it to a list or moving a list's
 * insertion hint with generic WAL.
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq/ivfpq.h"

/*
 * The metric of an index: its operator class's support function 1 returns it.
 */
IvfpqMetric
ivfpq_metric_of(Relation index)
{
	FmgrInfo   *procinfo = index_getprocinfo(index, 1, IVFPQ_METRIC_PROC);
	int32		metric = DatumGetInt32(FunctionCall1(procinfo, (Datum) 0));

	if (metric != IVFPQ_METRIC_INNER_PRODUCT && metric != IVFPQ_METRIC_COSINE &&
		metric != IVFPQ_METRIC_L2)
		elog(ERROR, "ivfpq support function 1 returned unknown metric %d", metric);
	return (IvfpqMetric) metric;
}

/* The heap column the index covers (0 for an expression: not supported). */
int
ivfpq_heap_attno(Relation index)
{
	return index->rd_index->indkey.values[0];
}

void
ivfpq_init_page(Page page)
{
	IvfpqPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfpqPageOpaqueData));
	opaque = IvfpqPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->page_id = IVFPQ_PAGE_ID;
}

/* A new block at the end of the fork, locked exclusively. */
Buffer
ivfpq_new_buffer(Relation index, ForkNumber forkNum)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, forkNum, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * A block for a new data page, locked exclusively: one VACUUM found all-zero
 * (a crash between extending the relation and logging the page leaves one,
 * see ivfpqvacuum.c) or freed (ivfpq_free_retired_pages), else a new block at
 * the end.  The free space map is
 * only a hint, so a page it offers is used only if still all-zero under the
 * lock; holding the extension lock while taking that lock keeps out a
 * backend that has just extended into the same block and not yet locked it.
 */
Buffer
ivfpq_free_or_new_buffer(Relation index)
{
	for (;;)
	{
		BlockNumber blkno = GetFreeIndexPage(index);
		Buffer		buf;

		if (!BlockNumberIsValid(blkno))
			return ivfpq_new_buffer(index, MAIN_FORKNUM);
		LockRelationForExtension(index, ExclusiveLock);
		if (blkno >= RelationGetNumberOfBlocks(index))
		{
			UnlockRelationForExtension(index, ExclusiveLock);
			continue;			/* a stale entry past a truncated end */
		}
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		UnlockRelationForExtension(index, ExclusiveLock);
		if (PageIsNew(BufferGetPage(buf)) || ivfpq_page_is_free(BufferGetPage(buf)))
			return buf;
		UnlockReleaseBuffer(buf);
	}
}

/* Whether a page carries the special space every ivfpq page has. */
bool
ivfpq_page_is_valid(Page page)
{
	return !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(sizeof(IvfpqPageOpaqueData)) &&
		IvfpqPageGetOpaque(page)->page_id == IVFPQ_PAGE_ID;
}

/* Whether a page is on no chain and free for reuse (IVFPQ_PAGE_FREE). */
bool
ivfpq_page_is_free(Page page)
{
	return ivfpq_page_is_valid(page) && (IvfpqPageGetOpaque(page)->flags & IVFPQ_PAGE_FREE) != 0;
}

/* A page of the index, share-locked, that must be an ivfpq page. */
static Buffer
read_page_shared(Relation index, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, blkno);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	if (!ivfpq_page_is_valid(BufferGetPage(buf)))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("ivfpq index \"%s\" has an invalid page at block %u",
						RelationGetRelationName(index), blkno)));
	return buf;
}

/* The metapage, once its magic number and version are known good. */
static IvfpqMetaPageData
read_meta(Relation index)
{
	Buffer		buf = read_page_shared(index, IVFPQ_METAPAGE_BLKNO);
	IvfpqMetaPageData meta = *IvfpqPageGetMeta(BufferGetPage(buf));

	UnlockReleaseBuffer(buf);
	if (meta.magicNumber != IVFPQ_MAGIC_NUMBER)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not an ivfpq index",
						RelationGetRelationName(index))));
	if (meta.version != IVFPQ_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("ivfpq index \"%s\" has version %u, this build reads version %d",
						RelationGetRelationName(index), meta.version, IVFPQ_VERSION),
				 errhint("REINDEX the index.")));
	return meta;
}

/*
 * Marks in reached[nblocks] the blocks every layout keeps outside its chains:
 * the metapage, the list pages and, if trained, the codebook pages.
 */
void
ivfpq_mark_fixed_pages(Relation index, const IvfpqState *state, BlockNumber nblocks, bool *reached)
{
	IvfpqMetaPageData meta = read_meta(index);
	BlockNumber blkno;
	int			list;

	reached[IVFPQ_METAPAGE_BLKNO] = true;
	for (list = 0; list < state->lists; list++)
		if (state->listBlkno[list] < nblocks)
			reached[state->listBlkno[list]] = true;
	if (!state->trained)
		return;
	for (blkno = meta.codebookStart;
		 blkno < meta.codebookStart + (BlockNumber) meta.codebookPages && blkno < nblocks; blkno++)
		reached[blkno] = true;
}

/*
 * A trained metapage's parameters must be in the ranges the options allow and
 * agree with each other, or allocate_state and the scans divide by zero or
 * read past their arrays.
 */
static void
validate_meta(Relation index, const IvfpqMetaPageData *meta)
{
	bool		ok = meta->dim >= 1 && meta->dim <= IVFPQ_MAX_DIM &&
		(meta->metric == IVFPQ_METRIC_INNER_PRODUCT || meta->metric == IVFPQ_METRIC_COSINE ||
		 meta->metric == IVFPQ_METRIC_L2) &&
		meta->lists >= IVFPQ_MIN_LISTS && meta->lists <= IVFPQ_MAX_LISTS;

	if (ok && meta->trained)
		ok = meta->m >= IVFPQ_MIN_M && meta->m <= IVFPQ_MAX_M && meta->dim % meta->m == 0 &&
			meta->nbits >= IVFPQ_MIN_NBITS && meta->nbits <= IVFPQ_MAX_NBITS &&
			meta->codeSize == (meta->m * meta->nbits + 7) / 8;
	else if (ok)
		ok = meta->lists == 1 && meta->codeSize == (int32) sizeof(float) * meta->dim;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("ivfpq index \"%s\" has an invalid metapage",
						RelationGetRelationName(index)),
				 errdetail("dim %d, metric %d, lists %d, m %d, nbits %d, code size %d, trained %d.",
						   meta->dim, meta->metric, meta->lists, meta->m, meta->nbits,
						   meta->codeSize, (int) meta->trained),
				 errhint("REINDEX the index.")));
}

/*
 * One zeroed chunk in the given context for the state and its arrays, sized
 * by the metapage, with the metapage's parameters filled in.
 */
static IvfpqState *
allocate_state(MemoryContext context, const IvfpqMetaPageData *meta)
{
	int			ncodebook = meta->trained ? meta->m * (1 << meta->nbits) * (meta->dim / meta->m) : 0;
	Size		size = MAXALIGN(sizeof(IvfpqState)) +
		MAXALIGN(sizeof(float) * meta->lists * meta->dim) +
		MAXALIGN(sizeof(BlockNumber) * meta->lists) * 2 +
		MAXALIGN(sizeof(OffsetNumber) * meta->lists) +
		MAXALIGN(sizeof(float) * ncodebook);
	char	   *p = MemoryContextAllocZero(context, size);
	IvfpqState *state = (IvfpqState *) p;

	state->size = size;
	p += MAXALIGN(sizeof(IvfpqState));
	state->centroids = (float *) p;
	p += MAXALIGN(sizeof(float) * meta->lists * meta->dim);
	state->startPages = (BlockNumber *) p;
	p += MAXALIGN(sizeof(BlockNumber) * meta->lists);
	state->listBlkno = (BlockNumber *) p;
	p += MAXALIGN(sizeof(BlockNumber) * meta->lists);
	state->listOffno = (OffsetNumber *) p;
	p += MAXALIGN(sizeof(OffsetNumber) * meta->lists);
	state->codebook = meta->trained ? (float *) p : NULL;

	state->dim = meta->dim;
	state->metric = (IvfpqMetric) meta->metric;
	state->lists = meta->lists;
	state->m = meta->m;
	state->nbits = meta->nbits;
	state->ksub = meta->trained ? 1 << meta->nbits : 0;
	state->dsub = meta->trained ? meta->dim / meta->m : 0;
	state->codeSize = meta->codeSize;
	state->trained = meta->trained;
	/* after VACUUM trained the index its fixed pages follow data pages */
	state->fixedPages = meta->listStart > IVFPQ_HEAD_BLKNO
		? IVFPQ_HEAD_BLKNO : meta->codebookStart + meta->codebookPages;
	return state;
}

/* Each list's centroid, first data page and item location, from the list pages. */
static void
read_lists(Relation index, IvfpqState *state, BlockNumber listStart)
{
	BlockNumber blkno = listStart > IVFPQ_HEAD_BLKNO ? listStart : IVFPQ_HEAD_BLKNO;
	int			list = 0;

	while (list < state->lists)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber offno;
		OffsetNumber maxoff;

		if (!BlockNumberIsValid(blkno))
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("ivfpq index \"%s\" has %d of its %d lists",
							RelationGetRelationName(index), list, state->lists)));
		buf = read_page_shared(index, blkno);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (offno = FirstOffsetNumber; offno <= maxoff && list < state->lists; offno++)
		{
			IvfpqList	item = (IvfpqList) PageGetItem(page, PageGetItemId(page, offno));

			memcpy(state->centroids + (Size) list * state->dim, item->centroid,
				   sizeof(float) * state->dim);
			state->startPages[list] = item->startPage;
			state->listBlkno[list] = blkno;
			state->listOffno[list] = offno;
			list++;
		}
		blkno = IvfpqPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
}

/* The codebook of a trained index, from its pages: one chunk of floats each. */
static void
read_codebook(Relation index, IvfpqState *state, BlockNumber codebookStart)
{
	int			ncodebook = state->m * state->ksub * state->dsub;
	int			done = 0;
	BlockNumber blkno;

	for (blkno = codebookStart; done < ncodebook; blkno++)
	{
		Buffer		buf = read_page_shared(index, blkno);
		Page		page = BufferGetPage(buf);
		ItemId		itemid = PageGetItemId(page, FirstOffsetNumber);
		int			n = ItemIdGetLength(itemid) / sizeof(float);

		if (n <= 0 || n > ncodebook - done)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("ivfpq index \"%s\" has a malformed codebook page %u",
							RelationGetRelationName(index), blkno)));
		memcpy(state->codebook + done, PageGetItem(page, itemid), sizeof(float) * n);
		done += n;
		UnlockReleaseBuffer(buf);
	}
}

/*
 * The fixed parts of the index (metapage, centroids, list locations,
 * codebook), read once per backend into one chunk hung on rd_amcache; the
 * relcache frees it whenever the index changes identity (REINDEX, TRUNCATE).
 */
IvfpqState *
ivfpq_get_state(Relation index)
{
	IvfpqMetaPageData meta;
	IvfpqState *state;

	if (index->rd_amcache != NULL)
		return (IvfpqState *) index->rd_amcache;

	meta = read_meta(index);
	validate_meta(index, &meta);
	state = allocate_state(index->rd_indexcxt, &meta);
	read_lists(index, state, meta.listStart);
	if (state->trained)
		read_codebook(index, state, meta.codebookStart);

	index->rd_amcache = state;
	return state;
}

/*
 * ivfpq_get_state, with a cached flat layout checked against the metapage:
 * VACUUM may have trained the index since (ivfpqautotrain.c), and a backend
 * that has held its lock on the index from before sees the relcache
 * invalidation only when it next takes a lock.  A trained layout does not
 * change.  For what starts a scan or an insert.
 */
IvfpqState *
ivfpq_get_current_state(Relation index)
{
	IvfpqState *state = ivfpq_get_state(index);

	if (!state->trained && read_meta(index).trained)
	{
		ivfpq_forget_state(index);
		state = ivfpq_get_state(index);
	}
	return state;
}

/* Drops this backend's cached layout, as a relcache invalidation does. */
void
ivfpq_forget_state(Relation index)
{
	if (index->rd_amcache)
		pfree(index->rd_amcache);
	index->rd_amcache = NULL;
}

/*
 * What a scan keeps of the state across calls, in context: the parameters
 * and each list's first data page, not the centroids and codebook (which
 * would cost a copy of lists * dim floats per scan).  A relcache
 * invalidation frees rd_amcache, and a scan outlives many (a cursor, and
 * detoasting a fingerprint takes locks that process them), so a scan must
 * not keep rd_amcache's pointers between calls; it calls ivfpq_get_state
 * again when it needs the centroids or the codebook, and uses them only
 * while it cannot process invalidations: ranking and reading lists.  The
 * content is the same each time for as long as the scan holds its lock on
 * the index, since only REINDEX and TRUNCATE (AccessExclusiveLock) change
 * a trained layout.  A flat one VACUUM may train meanwhile, so of a flat
 * layout the copy holds everything, its one centroid included, and the scan
 * reads the flat pages, which stay as they were (ivfpqautotrain.c).
 */
IvfpqState *
ivfpq_copy_layout(Relation index, MemoryContext context)
{
	const IvfpqState *cached = ivfpq_get_current_state(index);
	Size		centroidsSize = cached->trained ? 0 : sizeof(float) * cached->dim;
	Size		size = MAXALIGN(sizeof(IvfpqState)) +
		MAXALIGN(sizeof(BlockNumber) * cached->lists) + centroidsSize;
	IvfpqState *state = MemoryContextAlloc(context, size);

	*state = *cached;
	state->size = size;
	state->startPages = (BlockNumber *) ((char *) state + MAXALIGN(sizeof(IvfpqState)));
	memcpy(state->startPages, cached->startPages, sizeof(BlockNumber) * cached->lists);
	state->centroids = NULL;
	if (!cached->trained)
	{
		state->centroids = (float *) ((char *) state->startPages +
									  MAXALIGN(sizeof(BlockNumber) * cached->lists));
		memcpy(state->centroids, cached->centroids, centroidsSize);
	}
	state->codebook = NULL;
	state->listBlkno = NULL;
	state->listOffno = NULL;
	return state;
}

/*
 * Copy a fingerprint into the form the index works on: cosine indexes
 * normalise.  False when the vector cannot be indexed (zero under cosine,
 * whose distance is undefined).
 */
bool
ivfpq_prepare_vector(const IvfpqState *state, const Fingerprint *fp, float *out)
{
	if (fp->dim != state->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("fingerprint has %d dimensions, ivfpq index expects %d",
						fp->dim, state->dim)));
	memcpy(out, fp->x, sizeof(float) * state->dim);
	if (state->metric == IVFPQ_METRIC_COSINE)
	{
		double		norm = sqrt(fp_inner_product(out, out, state->dim));
		int			i;

		if (norm == 0.0 || !isfinite(norm))
			return false;
		for (i = 0; i < state->dim; i++)
			out[i] = (float) (out[i] / norm);
	}
	return true;
}

/*
 * Float kernels for ranking lists, on GCC/Clang vector types (SSE on x86,
 * NEON on ARM, without -march flags): four 4-lane accumulators keep several
 * multiply-adds in flight.  The exact, double-precision fp_* functions
 * serialise on one sum, which made ranking 1000 lists the biggest cost of a
 * scan.  Ranking is approximate anyway; re-scoring uses the operators' own
 * functions.
 */
typedef float v4sf __attribute__((vector_size(16)));

static inline v4sf
load4(const float *p)
{
	v4sf		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline float
hsum4(v4sf a, v4sf b, v4sf c, v4sf d)
{
	v4sf		s = (a + b) + (c + d);

	return (s[0] + s[1]) + (s[2] + s[3]);
}

static float
dot_f32(const float *a, const float *b, int dim)
{
	v4sf		acc0 = {0}, acc1 = {0}, acc2 = {0}, acc3 = {0};
	float		sum = 0.0f;
	int			i = 0;

	for (; i + 16 <= dim; i += 16)
	{
		acc0 += load4(a + i) * load4(b + i);
		acc1 += load4(a + i + 4) * load4(b + i + 4);
		acc2 += load4(a + i + 8) * load4(b + i + 8);
		acc3 += load4(a + i + 12) * load4(b + i + 12);
	}
	for (; i < dim; i++)
		sum += a[i] * b[i];
	return sum + hsum4(acc0, acc1, acc2, acc3);
}

static float
l2sq_f32(const float *a, const float *b, int dim)
{
	v4sf		acc0 = {0}, acc1 = {0}, acc2 = {0}, acc3 = {0};
	float		sum = 0.0f;
	int			i = 0;

	for (; i + 16 <= dim; i += 16)
	{
		v4sf		t0 = load4(a + i) - load4(b + i);
		v4sf		t1 = load4(a + i + 4) - load4(b + i + 4);
		v4sf		t2 = load4(a + i + 8) - load4(b + i + 8);
		v4sf		t3 = load4(a + i + 12) - load4(b + i + 12);

		acc0 += t0 * t0;
		acc1 += t1 * t1;
		acc2 += t2 * t2;
		acc3 += t3 * t3;
	}
	for (; i < dim; i++)
		sum += (a[i] - b[i]) * (a[i] - b[i]);
	return sum + hsum4(acc0, acc1, acc2, acc3);
}

/* Smaller is closer, for lists: -<q,c> for inner product, else squared L2. */
double
ivfpq_coarse_distance(IvfpqMetric metric, const float *q, const float *c, int dim)
{
	if (metric == IVFPQ_METRIC_INNER_PRODUCT)
		return -dot_f32(q, c, dim);
	return l2sq_f32(q, c, dim);
}

/* The operator's own value, used for re-scoring. */
double
ivfpq_exact_distance(IvfpqMetric metric, const float *a, const float *b, int dim)
{
	switch (metric)
	{
		case IVFPQ_METRIC_INNER_PRODUCT:
			return -fp_inner_product(a, b, dim);
		case IVFPQ_METRIC_COSINE:
			return fp_cosine_distance(a, b, dim);
		case IVFPQ_METRIC_L2:
			return sqrt(fp_squared_l2(a, b, dim));
	}
	return 0.0;					/* keep the compiler quiet */
}

int
ivfpq_nearest_list(const IvfpqState *state, const float *x)
{
	int			best = 0;
	double		bestDistance = get_float8_infinity();
	int			i;

	for (i = 0; i < state->lists; i++)
	{
		double		d = ivfpq_coarse_distance(state->metric, x,
											  state->centroids + (Size) i * state->dim,
											  state->dim);

		if (d < bestDistance)
		{
			bestDistance = d;
			best = i;
		}
	}
	return best;
}

/*
 * Codes are packed least significant bit first, sub-quantiser 0 first:
 * with nbits = 8 that is one byte per sub-quantiser.
 */
static void
pack_code(const int64 *indices, int m, int nbits, uint8 *code)
{
	int			j;

	memset(code, 0, (m * nbits + 7) / 8);
	for (j = 0; j < m; j++)
	{
		int			bit = j * nbits;
		int			byte = bit >> 3;
		int			shift = bit & 7;
		uint32		v = (uint32) indices[j];

		code[byte] |= (uint8) (v << shift);
		if (shift + nbits > 8)
			code[byte + 1] |= (uint8) (v >> (8 - shift));
	}
}

int
ivfpq_code_at(const uint8 *code, int j, int nbits)
{
	int			bit = j * nbits;
	int			byte = bit >> 3;
	int			shift = bit & 7;
	uint32		v = code[byte];

	if (shift + nbits > 8)
		v |= (uint32) code[byte + 1] << 8;
	return (int) ((v >> shift) & ((1u << nbits) - 1));
}

/*
 * The m sub-quantiser indices of x's residual to its list's centroid: the
 * nearest codeword of each.  The build finds the same with FAISS, in batches.
 */
void
ivfpq_encode(const IvfpqState *state, const float *x, int list, int64 *indices)
{
	const float *centroid = state->centroids + (Size) list * state->dim;
	int			j;

	for (j = 0; j < state->m; j++)
	{
		const float *cb = state->codebook + (Size) j * state->ksub * state->dsub;
		double		best = get_float8_infinity();
		int			k;

		indices[j] = 0;
		for (k = 0; k < state->ksub; k++)
		{
			double		d = 0.0;
			int			i;

			for (i = 0; i < state->dsub; i++)
			{
				int			a = j * state->dsub + i;
				float		r = x[a] - centroid[a] - cb[k * state->dsub + i];

				d += r * r;
			}
			if (d < best)
			{
				best = d;
				indices[j] = k;
			}
		}
	}
}

/*
 * An index entry for one heap tuple, as build and insert both write it: the
 * TID, then the packed PQ code of the m sub-quantiser indices (trained
 * index) or the vector x itself (flat index; indices are not read).
 */
IndexTuple
ivfpq_form_entry(const IvfpqState *state, ItemPointer heaptid, const int64 *indices,
				 const float *x, Size *itemsz)
{
	IndexTuple	itup;

	*itemsz = IVFPQ_ENTRY_SIZE(state->codeSize);
	itup = (IndexTuple) palloc0(*itemsz);
	itup->t_tid = *heaptid;
	itup->t_info = (unsigned short) *itemsz;
	if (state->trained)
		pack_code(indices, state->m, state->nbits, (uint8 *) IvfpqEntryPayload(itup));
	else
		memcpy(IvfpqEntryPayload(itup), x, sizeof(float) * state->dim);
	return itup;
}

static void
ivfpq_add_item(Relation index, Page page, IndexTuple itup, Size itemsz)
{
	if (PageAddItem(page, (Item) itup, itemsz, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add entry to ivfpq index \"%s\"", RelationGetRelationName(index));
}

/*
 * Points a list's insertion hint at blkno, with generic WAL; no record when it
 * already points there.
 */
void
ivfpq_set_insert_page(Relation index, const IvfpqState *state, int list, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, state->listBlkno[list]);
	GenericXLogState *xlog;
	Page		page;
	IvfpqList	item;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	xlog = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xlog, buf, 0);
	item = (IvfpqList) PageGetItem(page, PageGetItemId(page, state->listOffno[list]));
	if (item->insertPage != blkno)
	{
		item->insertPage = blkno;
		GenericXLogFinish(xlog);
	}
	else
		GenericXLogAbort(xlog);
	UnlockReleaseBuffer(buf);
}

/*
 * Append an entry to a list: start at the list's insertion hint, follow the
 * chain to the first page with room, extend the chain when there is none.
 * Extension happens while holding the chain's last page exclusively, so two
 * inserters never both extend.  The hint is updated afterwards on its own;
 * it is only a hint, a stale one costs a few page reads.
 */
void
ivfpq_append_entry(Relation index, const IvfpqState *state, int list,
				   IndexTuple itup, Size itemsz)
{
	Buffer		buf;
	Page		page;
	IvfpqList	item;
	BlockNumber blkno;
	BlockNumber newblkno = InvalidBlockNumber;
	GenericXLogState *xlog;

	buf = ReadBuffer(index, state->listBlkno[list]);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	item = (IvfpqList) PageGetItem(page, PageGetItemId(page, state->listOffno[list]));
	blkno = item->insertPage;
	UnlockReleaseBuffer(buf);

	for (;;)
	{
		BlockNumber next;

		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		xlog = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(xlog, buf, 0);

		if (PageGetFreeSpace(page) >= itemsz)
		{
			ivfpq_add_item(index, page, itup, itemsz);
			GenericXLogFinish(xlog);
			UnlockReleaseBuffer(buf);
			break;
		}

		next = IvfpqPageGetOpaque(page)->nextblkno;
		if (BlockNumberIsValid(next))
		{
			GenericXLogAbort(xlog);
			UnlockReleaseBuffer(buf);
			blkno = next;
			continue;
		}

		/* last page is full: chain a new one */
		{
			Buffer		newbuf = ivfpq_free_or_new_buffer(index);
			Page		newpage = GenericXLogRegisterBuffer(xlog, newbuf,
															GENERIC_XLOG_FULL_IMAGE);

			ivfpq_init_page(newpage);
			ivfpq_add_item(index, newpage, itup, itemsz);
			newblkno = BufferGetBlockNumber(newbuf);
			IvfpqPageGetOpaque(page)->nextblkno = newblkno;
			GenericXLogFinish(xlog);
			UnlockReleaseBuffer(newbuf);
			UnlockReleaseBuffer(buf);
		}
		break;
	}

	if (BlockNumberIsValid(newblkno))
		ivfpq_set_insert_page(index, state, list, newblkno);
}
