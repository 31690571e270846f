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

/*
 * A data page of the layout: with refine codes its special space also holds
 * the block numbers of its refine pages, none yet.
 */
void
ivfpq_init_data_page(const IvfpqState *state, Page page)
{
	IvfpqPageOpaque opaque;
	int			refinePages = state->refine != IVFPQ_REFINE_NONE ? state->refinePages : 0;
	int			i;

	PageInit(page, BLCKSZ, sizeof(IvfpqPageOpaqueData) + sizeof(BlockNumber) * refinePages);
	opaque = IvfpqPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->page_id = IVFPQ_PAGE_ID;
	for (i = 0; i < ivfpq_page_refine_count(page); i++)
		IvfpqPageRefinePages(page)[i] = InvalidBlockNumber;
}

void
ivfpq_init_refine_page(Page page)
{
	ivfpq_init_page(page);
	IvfpqPageGetOpaque(page)->flags |= IVFPQ_PAGE_REFINE;
}

/* How many refine block numbers a page's special space holds (0 but on refined data pages). */
int
ivfpq_page_refine_count(Page page)
{
	return (int) ((PageGetSpecialSize(page) - sizeof(IvfpqPageOpaqueData)) / sizeof(BlockNumber));
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
		PageGetSpecialSize(page) >= MAXALIGN(sizeof(IvfpqPageOpaqueData)) &&
		PageGetSpecialSize(page) <= MAXALIGN(sizeof(IvfpqPageOpaqueData) +
											 sizeof(BlockNumber) * IVFPQ_MAX_REFINE_PAGES) &&
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
 * Marks in reached[nblocks] the refine pages a data page owns; false if one
 * was marked already (owned twice) or lies past the end.
 */
bool
ivfpq_mark_refine_pages(Page page, BlockNumber nblocks, bool *reached)
{
	bool		ok = true;
	int			i;

	for (i = 0; i < ivfpq_page_refine_count(page); i++)
	{
		BlockNumber blkno = IvfpqPageRefinePages(page)[i];

		if (!BlockNumberIsValid(blkno))
			continue;
		if (blkno >= nblocks || reached[blkno])
			ok = false;
		else
			reached[blkno] = true;
	}
	return ok;
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
			(meta->refine == IVFPQ_REFINE_NONE || meta->refine == IVFPQ_REFINE_SQ8) &&
			meta->codeSize == (meta->m * meta->nbits + 7) / 8 +
			(meta->refine != IVFPQ_REFINE_NONE ? IVFPQ_REFINE_SLOT_SIZE : 0);
	else if (ok)
		ok = meta->lists == 1 && meta->codeSize == (int32) sizeof(float) * meta->dim &&
			meta->refine == IVFPQ_REFINE_NONE;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("ivfpq index \"%s\" has an invalid metapage",
						RelationGetRelationName(index)),
				 errdetail("dim %d, metric %d, lists %d, m %d, nbits %d, code size %d, trained %d, refine %d.",
						   meta->dim, meta->metric, meta->lists, meta->m, meta->nbits,
						   meta->codeSize, (int) meta->trained, meta->refine),
				 errhint("REINDEX the index.")));
}

/*
 * One zeroed chunk in the given context for the state and its arrays, sized
 * by the metapage, with the metapage's parameters filled in.
 */
static IvfpqState *
allocate_state(MemoryContext context, const IvfpqMetaPageData *meta, BlockNumber recentBlocks)
{
	IvfpqState	params;
	int			ncodebook;
	Size		size;
	char	   *p;
	IvfpqState *state;

	memset(&params, 0, sizeof(params));
	params.dim = meta->dim;
	params.trained = meta->trained;
	if (meta->trained)
		ivfpq_set_trained_layout(&params, meta->lists, meta->m, meta->nbits,
								 (IvfpqRefine) meta->refine);
	ncodebook = ivfpq_codebook_floats(&params);
	size = MAXALIGN(sizeof(IvfpqState)) +
		MAXALIGN(sizeof(float) * meta->lists * meta->dim) +
		MAXALIGN(sizeof(BlockNumber) * meta->lists) * 2 +
		MAXALIGN(sizeof(OffsetNumber) * meta->lists) +
		MAXALIGN(sizeof(float) * ncodebook) +
		MAXALIGN(sizeof(Buffer) * recentBlocks);
	p = MemoryContextAllocZero(context, size);
	state = (IvfpqState *) p;
	*state = params;

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
	/* zeroed: InvalidBuffer, nothing read yet */
	state->recentBuffers = recentBlocks > 0 ? (Buffer *) p : NULL;
	state->recentBlocks = recentBlocks;
	p += MAXALIGN(sizeof(Buffer) * recentBlocks);
	ivfpq_attach_codebook(state, meta->trained ? (float *) p : NULL);

	state->metric = (IvfpqMetric) meta->metric;
	state->lists = meta->lists;
	state->codeSize = meta->codeSize;
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
	int			ncodebook = ivfpq_codebook_floats(state);
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
	state = allocate_state(index->rd_indexcxt, &meta,
						   meta.trained ? Min(RelationGetNumberOfBlocks(index),
											  IVFPQ_MAX_RECENT_BLOCKS) : 0);
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
	state->sq8Min = NULL;
	state->sq8Step = NULL;
	state->listBlkno = NULL;
	state->listOffno = NULL;
	state->recentBuffers = NULL;
	state->recentBlocks = 0;
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
 * Float kernels for ranking lists, on the vector type of ivfpq.h: four 4-lane
 * accumulators keep several multiply-adds in flight.  The exact,
 * double-precision fp_* functions serialise on one sum, which made ranking
 * 1000 lists the biggest cost of a scan.  Ranking is approximate anyway;
 * re-scoring uses the operators' own functions.
 */
static float
dot_f32(const float *a, const float *b, int dim)
{
	ivfpq_v4sf		acc0 = {0}, acc1 = {0}, acc2 = {0}, acc3 = {0};
	float		sum = 0.0f;
	int			i = 0;

	for (; i + 16 <= dim; i += 16)
	{
		acc0 += ivfpq_load4(a + i) * ivfpq_load4(b + i);
		acc1 += ivfpq_load4(a + i + 4) * ivfpq_load4(b + i + 4);
		acc2 += ivfpq_load4(a + i + 8) * ivfpq_load4(b + i + 8);
		acc3 += ivfpq_load4(a + i + 12) * ivfpq_load4(b + i + 12);
	}
	for (; i < dim; i++)
		sum += a[i] * b[i];
	return sum + ivfpq_hsum4(acc0, acc1, acc2, acc3);
}

static float
l2sq_f32(const float *a, const float *b, int dim)
{
	ivfpq_v4sf		acc0 = {0}, acc1 = {0}, acc2 = {0}, acc3 = {0};
	float		sum = 0.0f;
	int			i = 0;

	for (; i + 16 <= dim; i += 16)
	{
		ivfpq_v4sf		t0 = ivfpq_load4(a + i) - ivfpq_load4(b + i);
		ivfpq_v4sf		t1 = ivfpq_load4(a + i + 4) - ivfpq_load4(b + i + 4);
		ivfpq_v4sf		t2 = ivfpq_load4(a + i + 8) - ivfpq_load4(b + i + 8);
		ivfpq_v4sf		t3 = ivfpq_load4(a + i + 12) - ivfpq_load4(b + i + 12);

		acc0 += t0 * t0;
		acc1 += t1 * t1;
		acc2 += t2 * t2;
		acc3 += t3 * t3;
	}
	for (; i < dim; i++)
		sum += (a[i] - b[i]) * (a[i] - b[i]);
	return sum + ivfpq_hsum4(acc0, acc1, acc2, acc3);
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
 * An entry's payload, as build and insert both write it: the packed PQ code
 * of the m sub-quantiser indices (trained index) or the vector x itself
 * (flat index; indices are not read).  codeSize bytes.
 */
void
ivfpq_form_payload(const IvfpqState *state, const int64 *indices, const float *x,
				   char *payload)
{
	if (state->trained)
		pack_code(indices, state->m, state->nbits, (uint8 *) payload);
	else
		memcpy(payload, x, sizeof(float) * state->dim);
}

/*
 * The entries on a data page (ivfpq.h): pd_lower and pd_upper must agree on
 * it, else -1 (a damaged page, or one reused under a scan).
 */
int
ivfpq_page_entries(Page page, int codeSize)
{
	PageHeader	header = (PageHeader) page;
	Size		start = IvfpqPagePayloads(page) - (char *) page;
	Size		n;

	if (header->pd_lower < start || header->pd_lower > header->pd_upper ||
		header->pd_upper > header->pd_special || header->pd_special > BLCKSZ ||
		(header->pd_lower - start) % codeSize != 0)
		return -1;
	n = (header->pd_lower - start) / codeSize;
	return (Size) (header->pd_special - header->pd_upper) == n * sizeof(ItemPointerData) ? (int) n : -1;
}

bool
ivfpq_page_has_room(const IvfpqState *state, Page page)
{
	PageHeader	header = (PageHeader) page;

	if (state->refine != IVFPQ_REFINE_NONE &&
		ivfpq_page_entries(page, state->codeSize) >= state->refineSlots)
		return false;
	return (Size) (header->pd_upper - header->pd_lower) >= IVFPQ_ENTRY_SIZE(state->codeSize);
}

/* --- refine codes --------------------------------------------------------- */

/* Floats on the codebook pages: the PQ codebook, then sq8's ranges. */
int
ivfpq_codebook_floats(const IvfpqState *state)
{
	if (!state->trained)
		return 0;
	return state->m * state->ksub * state->dsub +
		(state->refine == IVFPQ_REFINE_SQ8 ? 2 * state->dim : 0);
}

/* Hangs ivfpq_codebook_floats(state) floats on state, the refine ranges after the PQ's. */
void
ivfpq_attach_codebook(IvfpqState *state, float *codebook)
{
	state->codebook = codebook;
	state->sq8Min = NULL;
	state->sq8Step = NULL;
	if (codebook && state->refine == IVFPQ_REFINE_SQ8)
	{
		state->sq8Min = codebook + state->m * state->ksub * state->dsub;
		state->sq8Step = state->sq8Min + state->dim;
	}
}

/*
 * The refine parameters of a trained layout whose dim, m and nbits are set:
 * a record is a byte for its error bound and dim one-byte codes.  A data
 * page owns as many refine pages as its entries fill whole, at most
 * IVFPQ_MAX_REFINE_PAGES (a data page's last refine page half empty made
 * the index a tenth larger), and holds that many pages' worth of entries.
 */
void
ivfpq_set_refine_layout(IvfpqState *state, IvfpqRefine refine)
{
	state->refine = refine;
	state->pqSize = (state->m * state->nbits + 7) / 8;
	state->codeSize = state->pqSize;
	state->refineSize = 0;
	state->refinePerPage = 0;
	state->refinePages = 0;
	state->refineSlots = 0;
	if (refine == IVFPQ_REFINE_NONE)
		return;
	state->codeSize += IVFPQ_REFINE_SLOT_SIZE;
	state->refineSize = 1 + state->dim;
	state->refinePerPage = (int) (IVFPQ_DATA_SPACE / state->refineSize);
	{
		Size		space = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
			MAXALIGN(sizeof(IvfpqPageOpaqueData) + sizeof(BlockNumber) * IVFPQ_MAX_REFINE_PAGES);
		int			room = (int) (space / IVFPQ_ENTRY_SIZE(state->codeSize));
		int			pages = Min(room / state->refinePerPage, IVFPQ_MAX_REFINE_PAGES);

		state->refinePages = Max(pages, 1);
		state->refineSlots = pages >= 1 ? pages * state->refinePerPage : room;
	}
}

/*
 * What one step of a refine record's error byte stands for: a code within
 * its ranges is off by at most half a step in each dimension, so its error
 * norm is at most ||step|| / 2; the byte counts 254ths of that, rounded up,
 * and 255 says the vector lay outside the ranges (no bound).
 */
double
ivfpq_refine_error_unit(const IvfpqState *state)
{
	double		norm2 = 0.0;
	int			i;

	for (i = 0; i < state->dim; i++)
		norm2 += (double) state->sq8Step[i] * state->sq8Step[i];
	return sqrt(norm2) / 2.0 / 254.0;
}

/* The refine slot an entry's payload names. */
int
ivfpq_payload_slot(const IvfpqState *state, const char *payload)
{
	uint16		slot;

	memcpy(&slot, payload + state->pqSize, sizeof(slot));
	return slot;
}

/*
 * Where a data page keeps the block number of the refine page that refine
 * slot `slot` falls on (InvalidBlockNumber there: none yet); NULL when the
 * page has no room for it (a damaged page, or one of another layout).
 */
BlockNumber *
ivfpq_refine_page_of_slot(const IvfpqState *state, Page datapage, int slot)
{
	int			which = slot / state->refinePerPage;

	if (slot < 0 || slot >= state->refineSlots || which >= ivfpq_page_refine_count(datapage))
		return NULL;
	return &IvfpqPageRefinePages(datapage)[which];
}

/* The lowest refine slot no entry of a data page (with room) holds. */
int
ivfpq_page_free_slot(const IvfpqState *state, Page page)
{
	bool		used[IVFPQ_MAX_PAGE_ENTRIES];
	int			count = ivfpq_page_entries(page, state->codeSize);
	int			i;

	memset(used, 0, sizeof(bool) * state->refineSlots);
	for (i = 0; i < count; i++)
	{
		int			slot = ivfpq_payload_slot(state, IvfpqPagePayload(page, state->codeSize, i));

		if (slot < state->refineSlots)
			used[slot] = true;
	}
	for (i = 0; i < state->refineSlots; i++)
		if (!used[i])
			return i;
	elog(ERROR, "ivfpq data page has no free refine slot");
	return -1;					/* keep the compiler quiet */
}

/*
 * x's refine record: each dimension's 8-bit code in its trained range
 * (clamped: a vector outside the training sample's ranges is still coded),
 * after a byte bounding the Euclidean norm of the code's error in units of
 * ivfpq_refine_error_unit (the caller's, computed once for a batch), which
 * makes the refined distance a bound on the exact one (ivfpqscan.c).
 */
void
ivfpq_refine_encode(const IvfpqState *state, double unit, const float *x, char *record)
{
	uint8	   *code = (uint8 *) record + 1;
	double		err2 = 0.0;
	double		units;
	int			i;

	Assert(state->refine == IVFPQ_REFINE_SQ8);
	for (i = 0; i < state->dim; i++)
	{
		double		t = ((double) x[i] - state->sq8Min[i]) / state->sq8Step[i];
		int			c = isnan(t) ? 0 : t <= 0.0 ? 0 : t >= 255.0 ? 255 : (int) rint(t);
		double		r = (double) x[i] - ((double) state->sq8Min[i] + (double) c * state->sq8Step[i]);

		code[i] = (uint8) c;
		err2 += r * r;
	}
	units = ceil(sqrt(err2) / unit);
	record[0] = (char) (uint8) (units >= 0.0 && units <= 254.0 ? units : 255);
}

/*
 * Puts an entry's refine record in `slot` of the data page's refine pages,
 * refinepage being the one the slot falls on, and the slot in its payload.
 */
void
ivfpq_put_refine(const IvfpqState *state, Page refinepage, int slot, const char *record,
				 char *payload)
{
	PageHeader	header = (PageHeader) refinepage;
	int			inPage = slot % state->refinePerPage;
	char	   *dest = IvfpqRefineRecord(refinepage, state->refineSize, inPage);
	uint16		slot16 = (uint16) slot;

	memcpy(dest, record, state->refineSize);
	if ((Size) (dest + state->refineSize - (char *) refinepage) > header->pd_lower)
		header->pd_lower = dest + state->refineSize - (char *) refinepage;
	memcpy(payload + state->pqSize, &slot16, sizeof(slot16));
}

/* Adds an entry to a data page that has room (ivfpq_page_has_room). */
void
ivfpq_page_add_entry(Page page, int codeSize, const char *payload, ItemPointer heaptid)
{
	PageHeader	header = (PageHeader) page;

	Assert((Size) (header->pd_upper - header->pd_lower) >= IVFPQ_ENTRY_SIZE(codeSize));
	memcpy((char *) page + header->pd_lower, payload, codeSize);
	header->pd_lower += codeSize;
	header->pd_upper -= sizeof(ItemPointerData);
	memcpy((char *) page + header->pd_upper, heaptid, sizeof(ItemPointerData));
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
 * With refine codes: the entry's record into a free slot of the data page
 * (registered in xlog), on the refine page the slot falls on, a new one
 * when the data page owns none there yet.  The caller adds the entry, and
 * finishes the record and releases *refinebuf after.
 */
static void
put_entry_refine(Relation index, const IvfpqState *state, GenericXLogState *xlog, Page page,
				 char *payload, const char *record, Buffer *refinebuf)
{
	int			slot = ivfpq_page_free_slot(state, page);
	BlockNumber *refineBlock = ivfpq_refine_page_of_slot(state, page, slot);
	Page		refinepage;

	if (refineBlock == NULL)
		elog(ERROR, "ivfpq data page has no room for refine slot %d", slot);
	if (BlockNumberIsValid(*refineBlock))
	{
		*refinebuf = ReadBuffer(index, *refineBlock);
		LockBuffer(*refinebuf, BUFFER_LOCK_EXCLUSIVE);
		refinepage = GenericXLogRegisterBuffer(xlog, *refinebuf, 0);
		if (!ivfpq_page_is_valid(refinepage) ||
			!(IvfpqPageGetOpaque(refinepage)->flags & IVFPQ_PAGE_REFINE))
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("ivfpq index \"%s\" has a malformed refine page at block %u",
							RelationGetRelationName(index), *refineBlock),
					 errhint("REINDEX the index.")));
	}
	else
	{
		*refinebuf = ivfpq_free_or_new_buffer(index);
		refinepage = GenericXLogRegisterBuffer(xlog, *refinebuf, GENERIC_XLOG_FULL_IMAGE);
		ivfpq_init_refine_page(refinepage);
		*refineBlock = BufferGetBlockNumber(*refinebuf);
	}
	ivfpq_put_refine(state, refinepage, slot, record, payload);
}

/*
 * Append an entry to a list (its refine record too, if the layout has them;
 * payload gets its slot): start at the list's insertion hint, follow the
 * chain to the first page with room, extend the chain when there is none.
 * Extension happens while holding the chain's last page exclusively, so two
 * inserters never both extend.  The hint is updated afterwards on its own;
 * it is only a hint, a stale one costs a few page reads.
 */
void
ivfpq_append_entry(Relation index, const IvfpqState *state, int list,
				   char *payload, const char *record, ItemPointer heaptid)
{
	Buffer		refinebuf = InvalidBuffer;
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

		if (ivfpq_page_entries(page, state->codeSize) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("ivfpq index \"%s\" has a malformed data page at block %u",
							RelationGetRelationName(index), blkno)));
		if (ivfpq_page_has_room(state, page))
		{
			if (state->refine != IVFPQ_REFINE_NONE)
				put_entry_refine(index, state, xlog, page, payload, record, &refinebuf);
			ivfpq_page_add_entry(page, state->codeSize, payload, heaptid);
			GenericXLogFinish(xlog);
			if (BufferIsValid(refinebuf))
				UnlockReleaseBuffer(refinebuf);
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

			ivfpq_init_data_page(state, newpage);
			if (state->refine != IVFPQ_REFINE_NONE)
				put_entry_refine(index, state, xlog, newpage, payload, record, &refinebuf);
			ivfpq_page_add_entry(newpage, state->codeSize, payload, heaptid);
			newblkno = BufferGetBlockNumber(newbuf);
			IvfpqPageGetOpaque(page)->nextblkno = newblkno;
			GenericXLogFinish(xlog);
			if (BufferIsValid(refinebuf))
				UnlockReleaseBuffer(refinebuf);
			UnlockReleaseBuffer(newbuf);
			UnlockReleaseBuffer(buf);
		}
		break;
	}

	if (BlockNumberIsValid(newblkno))
		ivfpq_set_insert_page(index, state, list, newblkno);
}
