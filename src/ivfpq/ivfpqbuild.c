/*
 * ivfpqbuild.c - building an ivfpq index.
 *
 * 1. sample: one pass over the table keeps a uniform reservoir of vectors;
 * 2. train: FAISS k-means gives the coarse centroids; each sample's residual
 *    to its nearest centroid trains the product quantiser's codebooks;
 * 3. load: a second pass assigns every row to a list and encodes its
 *    residual, in batches handed to FAISS, appending entries to one page
 *    image per list held in memory and written out as it fills;
 * 4. the whole relation is WAL-logged as full pages at the end.
 *
 * Memory (reservoir, one page image per list, batch buffers) is checked
 * against maintenance_work_mem before it is allocated.  A table with fewer
 * rows than lists or than 2^nbits gets a flat index (see ivfpq.h).
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq/ivfpq.h"
#include "search/sid_pqencode.h"

#define IVFPQ_BATCH_SIZE	4096

typedef struct IvfpqBuildState
{
	Relation	index;
	IvfpqState	state;			/* the layout being built, not the cache */
	int64		budget;			/* maintenance_work_mem in bytes */
	int64		fixedBytes;		/* memory other than the reservoir */

	/* sampling */
	float	   *samples;
	int64		sampleTarget;
	int64		sampleCapacity;
	int64		nsamples;
	int64		rowsSeen;
	pg_prng_state prng;
	bool		dimFromData;
	bool		listsFromRows;	/* no lists option: ivfpq_lists_for_rows */
	IvfpqRefine refine;			/* the option, for a trained layout */
	float	   *scratch;		/* one prepared vector */

	IvfpqLoader *loader;
	MemoryContext tupleCtx;
} IvfpqBuildState;

/*
 * Entries on their way to the lists: batches of vectors assigned to lists
 * through FAISS and encoded by sid_pq_encode, appended to one page image per
 * list that is written out (without WAL: the caller logs the pages) when
 * full.
 */
struct IvfpqLoader
{
	Relation	index;
	const IvfpqState *state;
	bool		reportProgress; /* pg_stat_progress_create_index */
	float	   *batch;
	ItemPointerData *batchTids;
	int			batchCount;
	int64	   *labels;
	int64	   *indices;		/* batch * m codeword indices */
	float	   *codebook;		/* prepared for sid_pq_encode */
	Page	   *images;			/* current page of each list */
	BlockNumber *imageBlkno;
	Page	   *refineImages;	/* and its current refine page, if refined */
	BlockNumber *refineBlkno;	/* invalid: none yet */
	char	   *records;		/* the batch's refine records */
	char	   *payload;		/* one entry's */
	int64		loaded;
};

/* DEBUG1 line with the time since *start, which it then resets */
static void
log_phase(const char *what, instr_time *start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, *start);
	elog(DEBUG1, "ivfpq build: %s took %.1f ms", what, INSTR_TIME_GET_MILLISEC(now));
	INSTR_TIME_SET_CURRENT(*start);
}

static void
check_budget(IvfpqBuildState *bs, int64 bytes, const char *what)
{
	if (bytes > bs->budget)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ivfpq index build needs %lld kB of memory for %s, maintenance_work_mem is %d kB",
						(long long) (bytes / 1024), what, maintenance_work_mem),
				 errhint("Raise maintenance_work_mem, or build with fewer lists.")));
}

/* Writes a page image to an existing block of the fork. */
static void
write_image(Relation index, ForkNumber forkNum, BlockNumber blkno, Page image)
{
	Buffer		buf = ReadBufferExtended(index, forkNum, blkno, RBM_NORMAL, NULL);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	memcpy(BufferGetPage(buf), image, BLCKSZ);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/* Appends an initialised, empty page to the fork; returns its number. */
static BlockNumber
new_empty_page(Relation index, ForkNumber forkNum)
{
	Buffer		buf = ivfpq_new_buffer(index, forkNum);
	BlockNumber blkno = BufferGetBlockNumber(buf);

	ivfpq_init_page(BufferGetPage(buf));
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
	return blkno;
}

static void
add_to_image(Relation index, Page image, const void *item, Size size)
{
	if (PageAddItem(image, (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add item to ivfpq index \"%s\"", RelationGetRelationName(index));
}

/* Puts the metapage's data on a page, as a build and VACUUM's training write it. */
void
ivfpq_put_meta(Page page, const IvfpqMetaPageData *meta)
{
	*IvfpqPageGetMeta(page) = *meta;
	((PageHeader) page)->pd_lower =
		((char *) IvfpqPageGetMeta(page) + sizeof(IvfpqMetaPageData)) - (char *) page;
}

/*
 * Appends list pages, codebook pages and one empty data page per list at the
 * end of the fork, and fills state->startPages (and listBlkno and listOffno
 * when allocated) and *meta.  The extension lock is held throughout so the
 * pages are consecutive: while VACUUM trains an index (ivfpqautotrain.c),
 * inserts extend the relation too.
 */
void
ivfpq_write_layout(Relation index, ForkNumber forkNum, IvfpqState *state,
				   IvfpqMetaPageData *meta)
{
	Page		image = palloc(BLCKSZ);
	Size		listSize = IVFPQ_LIST_SIZE(state->dim);
	int			listsPerPage = (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
								MAXALIGN(sizeof(IvfpqPageOpaqueData))) /
		(MAXALIGN(listSize) + sizeof(ItemIdData));
	int			listPages = (state->lists + listsPerPage - 1) / listsPerPage;
	int			ncodebook = ivfpq_codebook_floats(state);
	int			codebookPages = (ncodebook + IVFPQ_CODEBOOK_CHUNK - 1) / IVFPQ_CODEBOOK_CHUNK;
	BlockNumber listStart;
	BlockNumber firstData;
	IvfpqList	item = palloc0(listSize);
	int			list;
	int			page;

	LockRelationForExtension(index, ExclusiveLock);
	listStart = RelationGetNumberOfBlocksInFork(index, forkNum);
	firstData = listStart + listPages + codebookPages;

	memset(meta, 0, sizeof(*meta));
	meta->magicNumber = IVFPQ_MAGIC_NUMBER;
	meta->version = IVFPQ_VERSION;
	meta->dim = state->dim;
	meta->metric = state->metric;
	meta->lists = state->lists;
	meta->m = state->m;
	meta->nbits = state->nbits;
	meta->codeSize = state->codeSize;
	meta->trained = state->trained;
	meta->refine = state->trained ? state->refine : IVFPQ_REFINE_NONE;
	meta->listStart = listStart;
	meta->codebookStart = listStart + listPages;
	meta->codebookPages = codebookPages;

	/* list pages, chained */
	list = 0;
	for (page = 0; page < listPages; page++)
	{
		BlockNumber blkno = new_empty_page(index, forkNum);
		int			i;

		ivfpq_init_page(image);
		for (i = 0; i < listsPerPage && list < state->lists; i++, list++)
		{
			item->startPage = firstData + list;
			item->insertPage = firstData + list;
			memcpy(item->centroid, state->centroids + (Size) list * state->dim,
				   sizeof(float) * state->dim);
			add_to_image(index, image, item, listSize);
			state->startPages[list] = firstData + list;
			if (state->listBlkno)
			{
				state->listBlkno[list] = blkno;
				state->listOffno[list] = i + FirstOffsetNumber;
			}
		}
		if (page + 1 < listPages)
			IvfpqPageGetOpaque(image)->nextblkno = blkno + 1;
		write_image(index, forkNum, blkno, image);
	}

	/* codebook pages, a chunk of floats each */
	for (page = 0; page < codebookPages; page++)
	{
		BlockNumber blkno = new_empty_page(index, forkNum);
		int			start = page * IVFPQ_CODEBOOK_CHUNK;
		int			n = Min(IVFPQ_CODEBOOK_CHUNK, ncodebook - start);

		ivfpq_init_page(image);
		add_to_image(index, image, state->codebook + start, sizeof(float) * n);
		write_image(index, forkNum, blkno, image);
	}

	/* the first data page of every list */
	for (list = 0; list < state->lists; list++)
		if (new_empty_page(index, forkNum) != firstData + list)
			elog(ERROR, "ivfpq index \"%s\" grew while its lists were written",
				 RelationGetRelationName(index));
	UnlockRelationForExtension(index, ExclusiveLock);

	pfree(item);
	pfree(image);
}

/* A build's empty fork: the metapage, then the layout after it. */
static void
write_fixed_pages(Relation index, ForkNumber forkNum, IvfpqState *state)
{
	Page		image = palloc(BLCKSZ);
	IvfpqMetaPageData meta;

	if (new_empty_page(index, forkNum) != IVFPQ_METAPAGE_BLKNO)
		elog(ERROR, "ivfpq index \"%s\" is not empty", RelationGetRelationName(index));
	ivfpq_write_layout(index, forkNum, state, &meta);
	ivfpq_init_page(image);
	ivfpq_put_meta(image, &meta);
	write_image(index, forkNum, IVFPQ_METAPAGE_BLKNO, image);
	pfree(image);
}

/* --- sampling ------------------------------------------------------------ */

/*
 * Memory of a build or a retraining besides the sample: the centroids (and a
 * copy, and the Euclidean search's copy with a component more and its slab
 * of rows, ivfpq_assign), the codebook (and the loader's prepared copy), the
 * loader's page images per list (two with refine codes) and batch buffers.
 */
static int64
fixed_bytes(const IvfpqState *state)
{
	int64		lists = state->lists;
	int64		dim = state->dim;

	return lists * dim * (int64) sizeof(float) * 2 +
		(lists + IVFPQ_AUGMENTED_ROWS) * (dim + 1) * (int64) sizeof(float) +
		lists * (int64) ((state->refine != IVFPQ_REFINE_NONE ? 2 : 1) * BLCKSZ + 64) +
		(int64) IVFPQ_BATCH_SIZE * dim * sizeof(float) * 2 +
		(state->refine != IVFPQ_REFINE_NONE ? (int64) IVFPQ_BATCH_SIZE * (dim + sizeof(float)) : 0) +
		(int64) IVFPQ_BATCH_SIZE * (IVFPQ_MAX_M + 2) * sizeof(int64) +
		(int64) (1 << state->nbits) * (dim * 2 + state->m) * sizeof(float);
}

/*
 * All memory training on nsamples vectors takes: fixed_bytes, the sample,
 * its sub-vectors, labels and permutation, and the chosen rows' numbers.
 */
int64
ivfpq_training_bytes(const IvfpqState *state, int64 nsamples)
{
	return fixed_bytes(state) + nsamples * (int64) sizeof(float) * state->dim +
		nsamples * (int64) (sizeof(float) * (state->dim / Max(state->m, 1)) + sizeof(int64) * 3);
}

/*
 * Once the dimension is known: memory besides the reservoir (centroids,
 * codebook, one page image per list, batch buffers) must fit the budget.
 */
static void
set_dimension(IvfpqBuildState *bs, int dim)
{
	if (dim > IVFPQ_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ivfpq indexes fingerprints of at most %d dimensions, not %d",
						IVFPQ_MAX_DIM, dim),
				 errdetail("A list's centroid must fit on one page.")));
	bs->state.dim = dim;
	bs->fixedBytes = fixed_bytes(&bs->state);
	check_budget(bs, bs->fixedBytes, "its centroids and page buffers");
}

/*
 * The index's column value as a vector the index works on, in out; false for
 * NULLs and vectors the metric cannot index.
 */
static bool
build_prepare(IvfpqBuildState *bs, Datum value, bool isnull, float *out)
{
	Fingerprint *fp;
	bool		ok;

	if (isnull)
		return false;
	fp = DatumGetFingerprint(value);
	if (bs->dimFromData && bs->state.dim == 0)
	{
		fingerprint_check_dim(fp->dim);
		set_dimension(bs, fp->dim);
	}
	ok = ivfpq_prepare_vector(&bs->state, fp, out);
	if ((Pointer) fp != DatumGetPointer(value))
		pfree(fp);
	return ok;
}

/*
 * Reservoir sampling: the slot of a sample of `target` that the vector seen
 * after `seen` others takes (the next free one while filling, later one
 * replaced with probability target / seen), or -1 for none.
 */
int64
ivfpq_reservoir_slot(pg_prng_state *prng, int64 target, int64 seen)
{
	uint64		k;

	if (seen < target)
		return seen;
	k = pg_prng_uint64_range(prng, 0, seen);
	return k < (uint64) target ? (int64) k : -1;
}

static void
sample_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *arg)
{
	IvfpqBuildState *bs = (IvfpqBuildState *) arg;
	MemoryContext oldCtx = MemoryContextSwitchTo(bs->tupleCtx);
	float	   *slot = NULL;
	float	   *x = bs->scratch;

	if (build_prepare(bs, values[0], isnull[0], x))
	{
		int			dim = bs->state.dim;

		int64		k = ivfpq_reservoir_slot(&bs->prng, bs->sampleTarget, bs->rowsSeen);

		if (k == bs->nsamples)
		{
			if (bs->nsamples == bs->sampleCapacity)
			{
				int64		capacity = Min(bs->sampleTarget, Max(1024, bs->sampleCapacity * 2));

				check_budget(bs, bs->fixedBytes + capacity * dim * (int64) sizeof(float),
							 "its training sample");
				MemoryContextSwitchTo(oldCtx);
				bs->samples = bs->samples == NULL
					? palloc_extended(sizeof(float) * dim * capacity, MCXT_ALLOC_HUGE)
					: repalloc_huge(bs->samples, sizeof(float) * dim * capacity);
				MemoryContextSwitchTo(bs->tupleCtx);
				bs->sampleCapacity = capacity;
			}
			bs->nsamples++;
		}
		if (k >= 0)
			slot = bs->samples + k * dim;
		if (slot)
			memcpy(slot, x, sizeof(float) * dim);
		bs->rowsSeen++;
	}
	MemoryContextSwitchTo(oldCtx);
	MemoryContextReset(bs->tupleCtx);
}

/* --- training ------------------------------------------------------------ */

/*
 * Assigns the n vectors x to their nearest lists with FAISS (labels) and
 * replaces each by its residual to that list's centroid: what the product
 * quantiser learns from at training and encodes at loading.
 */
static void
subtract_nearest_centroids(const IvfpqState *state, int64 n, float *x, int64 *labels)
{
	int64		i;

	ivfpq_assign(state->dim, n, x, state->lists, state->centroids,
				 state->metric == IVFPQ_METRIC_INNER_PRODUCT, labels);
	for (i = 0; i < n; i++)
	{
		float	   *v = x + i * state->dim;
		const float *c = state->centroids + labels[i] * state->dim;
		int			d;

		for (d = 0; d < state->dim; d++)
			v[d] -= c[d];
	}
}

/* The coarse centroids, by k-means of the sample (cancellable: ivfpqtrain.c). */
void
ivfpq_train_coarse(IvfpqState *state, int64 nsamples, float *samples)
{
	ivfpq_kmeans(state->dim, nsamples, samples, state->lists,
				 IVFPQ_KMEANS_ITERATIONS, IVFPQ_TRAINING_SEED, state->centroids);
}

/*
 * The product quantiser's codebooks, learnt from the sample's residuals to
 * their nearest centroids (the sample is overwritten by them), and before
 * that the refine code's ranges, from the vectors themselves.
 */
void
ivfpq_train_codebook(IvfpqState *state, int64 nsamples, float *samples)
{
	int64	   *labels = palloc_extended(sizeof(int64) * nsamples, MCXT_ALLOC_HUGE);

	if (state->refine == IVFPQ_REFINE_SQ8)
		ivfpq_train_sq8(state->dim, nsamples, samples, state->sq8Min, state->sq8Step);
	subtract_nearest_centroids(state, nsamples, samples, labels);
	pfree(labels);
	CHECK_FOR_INTERRUPTS();
	ivfpq_train_pq(state->dim, state->m, state->nbits, nsamples, samples,
				   IVFPQ_KMEANS_ITERATIONS, IVFPQ_TRAINING_SEED, state->codebook);
}

static void
train(IvfpqBuildState *bs)
{
	IvfpqState *state = &bs->state;
	instr_time	start;

	check_budget(bs, ivfpq_training_bytes(state, bs->nsamples), "training");
	INSTR_TIME_SET_CURRENT(start);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFPQ_PHASE_COARSE);
	ivfpq_train_coarse(state, bs->nsamples, bs->samples);
	log_phase("coarse k-means", &start);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFPQ_PHASE_PQ);
	ivfpq_train_codebook(state, bs->nsamples, bs->samples);
	log_phase("product quantiser training", &start);
}

/* --- loading ------------------------------------------------------------- */

/*
 * A loader for the lists of state, whose first data pages exist (see
 * ivfpq_write_layout); its memory is part of fixed_bytes.
 */
IvfpqLoader *
ivfpq_loader_begin(Relation index, const IvfpqState *state, bool reportProgress)
{
	IvfpqLoader *loader = palloc0(sizeof(IvfpqLoader));
	int			list;

	loader->index = index;
	loader->state = state;
	loader->reportProgress = reportProgress;
	loader->batch = palloc(sizeof(float) * state->dim * IVFPQ_BATCH_SIZE);
	loader->batchTids = palloc(sizeof(ItemPointerData) * IVFPQ_BATCH_SIZE);
	loader->labels = palloc(sizeof(int64) * IVFPQ_BATCH_SIZE);
	loader->payload = palloc0(state->codeSize);
	if (state->trained)
	{
		loader->indices = palloc(sizeof(int64) * state->m * IVFPQ_BATCH_SIZE);
		loader->codebook = palloc(sizeof(float) *
								  sid_pq_prepared_floats(state->m, state->ksub, state->dsub));
		sid_pq_prepare(state->codebook, state->m, state->ksub, state->dsub, loader->codebook);
	}
	loader->images = palloc(sizeof(Page) * state->lists);
	loader->imageBlkno = palloc(sizeof(BlockNumber) * state->lists);
	if (state->refine != IVFPQ_REFINE_NONE)
	{
		loader->refineImages = palloc(sizeof(Page) * state->lists);
		loader->refineBlkno = palloc(sizeof(BlockNumber) * state->lists);
		loader->records = palloc((Size) state->refineSize * IVFPQ_BATCH_SIZE);
	}
	for (list = 0; list < state->lists; list++)
	{
		loader->images[list] = palloc(BLCKSZ);
		ivfpq_init_data_page(state, loader->images[list]);
		loader->imageBlkno[list] = state->startPages[list];
		if (loader->refineImages)
		{
			loader->refineImages[list] = palloc(BLCKSZ);
			loader->refineBlkno[list] = InvalidBlockNumber;
		}
	}
	return loader;
}

/* Writes a list's current refine page out, if it has one. */
static void
flush_refine_image(IvfpqLoader *loader, int list)
{
	if (loader->refineImages && BlockNumberIsValid(loader->refineBlkno[list]))
		write_image(loader->index, MAIN_FORKNUM, loader->refineBlkno[list],
					loader->refineImages[list]);
	if (loader->refineImages)
		loader->refineBlkno[list] = InvalidBlockNumber;
}

/*
 * A loaded page's entries take the refine slots in order, so a list's refine
 * pages fill one after another: a new one starts at each multiple of
 * refinePerPage.
 */
static void
append_to_list(IvfpqLoader *loader, int list, char *payload, const char *record,
			   ItemPointer tid)
{
	const IvfpqState *state = loader->state;
	Page		image = loader->images[list];

	if (!ivfpq_page_has_room(state, image))
	{
		BlockNumber next = new_empty_page(loader->index, MAIN_FORKNUM);

		IvfpqPageGetOpaque(image)->nextblkno = next;
		write_image(loader->index, MAIN_FORKNUM, loader->imageBlkno[list], image);
		flush_refine_image(loader, list);
		ivfpq_init_data_page(state, image);
		loader->imageBlkno[list] = next;
	}
	if (state->refine != IVFPQ_REFINE_NONE)
	{
		int			slot = ivfpq_page_entries(image, state->codeSize);
		Page		refineImage = loader->refineImages[list];

		if (slot % state->refinePerPage == 0)
		{
			flush_refine_image(loader, list);
			loader->refineBlkno[list] = new_empty_page(loader->index, MAIN_FORKNUM);
			ivfpq_init_refine_page(refineImage);
			*ivfpq_refine_page_of_slot(state, image, slot) = loader->refineBlkno[list];
		}
		ivfpq_put_refine(state, refineImage, slot, record, payload);
	}
	ivfpq_page_add_entry(image, state->codeSize, payload, tid);
	loader->loaded++;
}

/* Assigns and encodes the batch with FAISS, then appends its entries. */
static void
flush_batch(IvfpqLoader *loader)
{
	const IvfpqState *state = loader->state;
	int			n = loader->batchCount;
	int			i;

	if (n == 0)
		return;

	/* the refine code is of the vector, the PQ code of its residual */
	if (state->refine != IVFPQ_REFINE_NONE)
	{
		double		unit = ivfpq_refine_error_unit(state);

		for (i = 0; i < n; i++)
			ivfpq_refine_encode(state, unit, loader->batch + (Size) i * state->dim,
								loader->records + (Size) i * state->refineSize);
	}
	if (state->trained)
	{
		subtract_nearest_centroids(state, n, loader->batch, loader->labels);
		sid_pq_encode(loader->codebook, state->m, state->ksub, state->dsub,
					  loader->batch, state->dim, n, loader->indices);
	}

	for (i = 0; i < n; i++)
	{
		int			list = state->trained ? (int) loader->labels[i] : 0;

		ivfpq_form_payload(state, state->trained ? loader->indices + (Size) i * state->m : NULL,
						   loader->batch + (Size) i * state->dim, loader->payload);
		append_to_list(loader, list, loader->payload,
					   loader->records ? loader->records + (Size) i * state->refineSize : NULL,
					   &loader->batchTids[i]);
	}
	loader->batchCount = 0;
	if (loader->reportProgress)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, loader->loaded);
	CHECK_FOR_INTERRUPTS();
}

/* Adds one prepared vector (see ivfpq_prepare_vector) and its heap TID. */
void
ivfpq_loader_add(IvfpqLoader *loader, ItemPointer tid, const float *x)
{
	memcpy(loader->batch + (Size) loader->batchCount * loader->state->dim, x,
		   sizeof(float) * loader->state->dim);
	loader->batchTids[loader->batchCount] = *tid;
	loader->batchCount++;
	if (loader->batchCount == IVFPQ_BATCH_SIZE)
		flush_batch(loader);
}

/* Loads what is left and writes every list's last page; returns the entries loaded. */
int64
ivfpq_loader_end(IvfpqLoader *loader)
{
	int			list;

	flush_batch(loader);
	for (list = 0; list < loader->state->lists; list++)
	{
		write_image(loader->index, MAIN_FORKNUM, loader->imageBlkno[list], loader->images[list]);
		flush_refine_image(loader, list);
	}
	return loader->loaded;
}

static void
load_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *arg)
{
	IvfpqBuildState *bs = (IvfpqBuildState *) arg;
	MemoryContext oldCtx = MemoryContextSwitchTo(bs->tupleCtx);

	if (build_prepare(bs, values[0], isnull[0], bs->scratch))
	{
		MemoryContextSwitchTo(oldCtx);
		ivfpq_loader_add(bs->loader, tid, bs->scratch);
	}
	MemoryContextSwitchTo(oldCtx);
	MemoryContextReset(bs->tupleCtx);
}

/* --- entry points ---------------------------------------------------------- */

/*
 * The lists an index of `rows` rows gets without a lists option: one per
 * 1000 rows up to a million rows, then the square root (pgvector's advice
 * for IVFFlat; FAISS suggests 4-16 times the square root for far larger
 * sets), within the option's range.
 */
int
ivfpq_lists_for_rows(int64 rows)
{
	double		lists = rows <= 1000000 ? rows / 1000.0 : sqrt((double) rows);

	return (int) Max(IVFPQ_MIN_LISTS, Min(IVFPQ_MAX_LISTS, lists));
}

/* Vectors a build samples to train `lists` lists and codebooks of ksub codewords. */
int64
ivfpq_sample_target(int lists, int ksub)
{
	return Max((int64) lists * IVFPQ_SAMPLES_PER_LIST, (int64) ksub * IVFPQ_SAMPLES_PER_CODEWORD);
}

/* Whether nsamples vectors are enough to train; with fewer the index is flat. */
bool
ivfpq_can_train(int64 nsamples, int lists, int ksub)
{
	return nsamples > 0 && nsamples >= lists && nsamples >= ksub;
}

/* The parameters of a trained layout (arrays are the caller's). */
void
ivfpq_set_trained_layout(IvfpqState *state, int lists, int m, int nbits, IvfpqRefine refine)
{
	state->lists = lists;
	state->m = m;
	state->nbits = nbits;
	state->ksub = 1 << nbits;
	state->dsub = state->dim / m;
	state->trained = true;
	ivfpq_set_refine_layout(state, refine);
}

/*
 * Rows the table holds, for sizing the sample before it is read: pg_class's
 * count if the table was ever analysed or vacuumed, else from its size at
 * about 16 fingerprint(128) rows a page.  The sampling pass then counts them.
 */
static int64
estimate_rows(Relation heap)
{
	if (heap->rd_rel->reltuples >= 0)
		return (int64) heap->rd_rel->reltuples;
	return (int64) RelationGetNumberOfBlocks(heap) * 16;
}

static void
init_build_state(IvfpqBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo)
{
	IvfpqOptions *opts = (IvfpqOptions *) index->rd_options;
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	memset(bs, 0, sizeof(*bs));
	bs->index = index;
	bs->budget = (int64) maintenance_work_mem * 1024;
	if (indexInfo->ii_IndexAttrNumbers[0] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ivfpq cannot index an expression"),
				 errdetail("Re-ranking reads the fingerprint from the table column.")));
	bs->state.metric = ivfpq_metric_of(index);
	bs->state.lists = opts ? opts->lists : IVFPQ_DEFAULT_LISTS;
	bs->listsFromRows = bs->state.lists == 0;
	if (bs->listsFromRows)
		bs->state.lists = ivfpq_lists_for_rows(estimate_rows(heap));
	bs->state.m = opts ? opts->m : IVFPQ_DEFAULT_M;
	bs->state.nbits = opts ? opts->nbits : IVFPQ_DEFAULT_NBITS;
	bs->refine = opts ? (IvfpqRefine) opts->refine : IVFPQ_DEFAULT_REFINE;
	bs->state.refine = bs->refine;	/* for the memory estimates; a flat layout has none */
	bs->state.ksub = 1 << bs->state.nbits;
	bs->scratch = palloc(sizeof(float) * FINGERPRINT_HARD_MAX_DIM);
	if (typmod > 0)
		set_dimension(bs, typmod);
	else
		bs->dimFromData = true;
	bs->sampleTarget = ivfpq_sample_target(bs->state.lists, bs->state.ksub);
	pg_prng_seed(&bs->prng, IVFPQ_TRAINING_SEED);
	bs->tupleCtx = AllocSetContextCreate(CurrentMemoryContext, "ivfpq build tuple",
										 ALLOCSET_DEFAULT_SIZES);
}

/* Fixes the layout once the sample is in: trained, or flat when too small. */
static void
choose_layout(IvfpqBuildState *bs)
{
	IvfpqState *state = &bs->state;
	int			ncodebook;

	if (state->dim % state->m != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ivfpq option m = %d must divide the fingerprint's %d dimensions",
						state->m, state->dim)));

	if (bs->listsFromRows)
	{
		state->lists = ivfpq_lists_for_rows(bs->rowsSeen);
		set_dimension(bs, state->dim);	/* memory for the final lists */
	}
	else if (bs->rowsSeen >= 1000 &&
			 (state->lists > 4 * ivfpq_lists_for_rows(bs->rowsSeen) ||
			  4 * state->lists < ivfpq_lists_for_rows(bs->rowsSeen)))
		ereport(NOTICE,
				(errmsg("ivfpq index \"%s\" gets %d lists for %lld rows; about %d would suit them",
						RelationGetRelationName(bs->index), state->lists,
						(long long) bs->rowsSeen, ivfpq_lists_for_rows(bs->rowsSeen)),
				 errhint("Leave lists out to size it from the rows (docs/ivfpq.md).")));

	state->trained = ivfpq_can_train(bs->nsamples, state->lists, state->ksub);
	if (!state->trained)
	{
		IvfpqOptions *opts = (IvfpqOptions *) bs->index->rd_options;
		int64		rowsToTrain = ivfpq_rows_to_autotrain(bs->index);

		if (bs->nsamples > 0 && rowsToTrain > 0)
			ereport(NOTICE,
					(errmsg("ivfpq index \"%s\" is flat: %lld rows are too few to train it (lists %d, nbits %d)",
							RelationGetRelationName(bs->index), (long long) bs->rowsSeen,
							state->lists, state->nbits),
					 errdetail("A flat index scans all its entries exactly."),
					 errhint("VACUUM trains it once it holds %lld rows.", (long long) rowsToTrain)));
		else if (bs->nsamples > 0)
			ereport(NOTICE,
					(errmsg("ivfpq index \"%s\" is flat: %lld rows are too few to train it (lists %d, nbits %d)",
							RelationGetRelationName(bs->index), (long long) bs->rowsSeen,
							state->lists, state->nbits),
					 errdetail("A flat index scans all its entries exactly."),
					 errhint("REINDEX once the table holds at least %d rows%s.",
							 Max(state->lists, state->ksub),
							 opts && !opts->autotrain ? "; with autotrain = off, VACUUM leaves it flat" : "")));
		state->lists = 1;
		state->refine = IVFPQ_REFINE_NONE;
		state->m = 0;
		state->nbits = 0;
		state->ksub = 0;
		state->dsub = 0;
		state->codeSize = sizeof(float) * state->dim;
	}
	else
		ivfpq_set_trained_layout(state, state->lists, state->m, state->nbits, bs->refine);

	ncodebook = ivfpq_codebook_floats(state);
	state->centroids = palloc_extended(sizeof(float) * state->lists * state->dim, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	state->startPages = palloc0(sizeof(BlockNumber) * state->lists);
	ivfpq_attach_codebook(state, state->trained ? palloc0(sizeof(float) * ncodebook) : NULL);
}

IndexBuildResult *
ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	IvfpqBuildState bs;
	IvfpqState *state = &bs.state;
	double		reltuples;
	int64		indtuples;
	instr_time	start;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	init_build_state(&bs, heap, index, indexInfo);

	/* a TRUNCATE in the creating transaction rebuilds in place */
	ivfpq_forget_state(index);

	INSTR_TIME_SET_CURRENT(start);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFPQ_PHASE_SAMPLE);
	table_index_build_scan(heap, index, indexInfo, true, true, sample_callback, &bs, NULL);
	log_phase("sampling", &start);

	if (state->dim == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ivfpq needs to know the fingerprint's dimensions"),
				 errhint("Declare the column with a dimension, as fingerprint(128).")));
	choose_layout(&bs);

	if (state->trained)
		train(&bs);
	log_phase("training", &start);
	if (bs.samples)
		pfree(bs.samples);
	bs.samples = NULL;

	write_fixed_pages(index, MAIN_FORKNUM, state);

	/* load every row */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFPQ_PHASE_LOAD);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs.rowsSeen);
	bs.loader = ivfpq_loader_begin(index, state, true);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true, load_callback, &bs, NULL);
	indtuples = ivfpq_loader_end(bs.loader);
	log_phase("loading", &start);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
	log_phase("WAL-logging", &start);

	MemoryContextDelete(bs.tupleCtx);
	ivfpq_forget_state(index);

	result = (IndexBuildResult *) palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = (double) indtuples;
	return result;
}

/*
 * The init fork of an unlogged index: an empty flat index of the same
 * dimension and metric (ambuildempty runs after ambuild, so the main fork's
 * metapage tells them).  An unlogged index reset after a crash is thus flat
 * until VACUUM trains it again (ivfpqautotrain.c).
 */
void
ivfpqbuildempty(Relation index)
{
	IvfpqState *built = ivfpq_get_state(index);
	IvfpqState	state;

	memset(&state, 0, sizeof(state));
	state.dim = built->dim;
	state.metric = built->metric;
	state.lists = 1;
	state.codeSize = sizeof(float) * state.dim;
	state.trained = false;
	state.centroids = palloc0(sizeof(float) * state.dim);
	state.startPages = palloc0(sizeof(BlockNumber));
	write_fixed_pages(index, INIT_FORKNUM, &state);
	log_newpage_range(index, INIT_FORKNUM, 0,
					  RelationGetNumberOfBlocksInFork(index, INIT_FORKNUM), true);
}
