/*
 * ivfpqautotrain.c - VACUUM trains a flat ivfpq index once it holds enough
 * rows (an index created on an empty table, then loaded), instead of leaving
 * it one exact list until REINDEX.
 *
 * The flat list's entries hold the whole vectors, so the training needs no
 * heap access.  In the cleanup pass of VACUUM (autovacuum's too), which
 * holds ShareUpdateExclusiveLock on the table, so no other VACUUM or REINDEX
 * runs meanwhile:
 *
 * 1. sample the flat list (a reservoir of the build's sample size) and train
 *    centroids and codebooks as a build does (ivfpqbuild.c);
 * 2. write the trained layout - list pages, codebook, lists - in new blocks
 *    at the end of the relation, loading every flat entry through the
 *    build's loader while noting how many entries each flat page held, and
 *    WAL-log those blocks as full pages;
 * 3. copy the entries inserted since (an entry added to a flat page lands
 *    after the ones noted: entries are only ever appended to a page, and
 *    only this VACUUM deletes entries), once freely,
 *    then under a heavyweight ExclusiveLock on the metapage's page lock that
 *    every flat insert takes in ShareLock around its append, so none is in
 *    progress and none starts;
 * 4. switch the metapage to the new layout in one generic WAL record, which
 *    also chains the old list page to the old data pages: the retired pages.
 *
 * Crash safety: until the record of step 4 the metapage describes the flat
 * index, whose pages were only read, and the new blocks are reached by no
 * chain; after it, every new block was WAL-logged before it.  A crash or a
 * cancel thus leaves the flat index (the new blocks unreached, until the
 * next VACUUM frees them: ivfpq_reclaim_training_pages) or the trained one,
 * never a mix.
 *
 * Concurrent sessions: an insert that finds a flat layout re-reads the
 * metapage under the page lock, so it either appends to the flat list before
 * step 3's final copy or goes to the new lists.  A scan that copied the flat
 * layout before the switch goes on reading the old pages, which hold every
 * row its snapshot can see; they are left untouched until a later VACUUM
 * finds retiredXid older than every snapshot (ivfpq_free_retired_pages).  A
 * backend whose cached layout is flat re-reads the metapage when it starts a
 * scan or an insert (ivfpq_get_current_state).
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/transam.h"
#include "access/xloginsert.h"
#include "commands/vacuum.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "postmaster/autovacuum.h"
#include "storage/bufmgr.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ivfpq/ivfpq.h"

/* the rounds of step 3 without the lock, while each copies more than this */
#define IVFPQ_CATCH_UP_UNLOCKED_ROUNDS	3
#define IVFPQ_CATCH_UP_SMALL			1000

/* A flat data page, and how many of its entries the new lists hold. */
typedef struct IvfpqCopiedPage
{
	BlockNumber blkno;
	OffsetNumber copied;
} IvfpqCopiedPage;

typedef struct IvfpqAutotrain
{
	Relation	index;
	int			dim;
	int			flatCodeSize;	/* the flat layout's: a vector */
	BlockNumber flatStart;		/* its data pages' first */
	BlockNumber flatListPage;	/* its list page */
	IvfpqState	state;			/* the trained layout being written */
	IvfpqCopiedPage *pages;		/* the flat chain, in chain order */
	char	   *record;			/* one entry's refine record, if refined */
	int64		npages;
	int64		pagesCapacity;
	int64		copied;			/* entries in the new lists */
} IvfpqAutotrain;

/*
 * The lists VACUUM trains a flat index of `entries` entries with, by the
 * build's rules (its lists option, or ivfpq_lists_for_rows, and enough of a
 * sample), or 0 to leave it flat: autotrain = off, too few entries, or one
 * list, where a flat list, being exact, is better.
 */
static int
autotrain_lists(Relation index, int64 entries)
{
	IvfpqOptions *opts = (IvfpqOptions *) index->rd_options;
	int			ksub = 1 << (opts ? opts->nbits : IVFPQ_DEFAULT_NBITS);
	int			lists;

	if (opts && !opts->autotrain)
		return 0;
	lists = opts && opts->lists > 0 ? opts->lists : ivfpq_lists_for_rows(entries);
	if (lists < 2 ||
		!ivfpq_can_train(Min(entries, ivfpq_sample_target(lists, ksub)), lists, ksub))
		return 0;
	return lists;
}

/*
 * The fewest entries with which VACUUM trains a flat index, or 0 if it never
 * does; autotrain_lists is monotonic in the count, so a search finds it
 * without restating its rules.
 */
int64
ivfpq_rows_to_autotrain(Relation index)
{
	int64		lo = 0;			/* too few */
	int64		hi = 1;

	while (autotrain_lists(index, hi) == 0)
	{
		if (hi >= ((int64) 1 << 40))
			return 0;
		lo = hi;
		hi *= 2;
	}
	while (hi - lo > 1)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (autotrain_lists(index, mid) > 0)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* ivfpq.debug_autotrain_pause: for tests, a cancellable wait before step 3 */
static void
debug_pause(Relation index)
{
	int			waited;

	if (ivfpq_debug_autotrain_pause <= 0)
		return;
	elog(LOG, "ivfpq index \"%s\": autotrain pausing for %d ms",
		 RelationGetRelationName(index), ivfpq_debug_autotrain_pause);
	for (waited = 0; waited < ivfpq_debug_autotrain_pause; waited += 10)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
}

/*
 * Calls fn for every entry of the flat page blkno from offset `from` on, with
 * the page's lock released (fn may call FAISS or append to other pages);
 * returns the number of entries the page held and sets *next.
 */
static OffsetNumber
read_flat_page(IvfpqAutotrain *at, BlockNumber blkno, OffsetNumber from,
			   void (*fn) (IvfpqAutotrain *at, ItemPointer tid, const float *x, void *arg),
			   void *arg, BlockNumber *next)
{
	int			dim = at->dim;
	Buffer		buf;
	Page		page;
	int			count;
	int			entry;
	int			n = 0;
	int			i;
	ItemPointerData tids[IVFPQ_MAX_PAGE_ENTRIES];
	float	   *vectors;

	vacuum_delay_point();
	buf = ReadBuffer(at->index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (!ivfpq_page_is_valid(page))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("ivfpq index \"%s\" has an invalid page at block %u",
						RelationGetRelationName(at->index), blkno)));
	count = ivfpq_page_entries(page, at->flatCodeSize);
	if (count < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("ivfpq index \"%s\" has a malformed data page at block %u",
						RelationGetRelationName(at->index), blkno)));
	vectors = palloc(sizeof(float) * dim * Max(1, count));
	/* entry numbers count from FirstOffsetNumber, as `from` and the result do */
	for (entry = from - FirstOffsetNumber; entry < count; entry++)
	{
		tids[n] = *IvfpqPageTid(page, entry);
		memcpy(vectors + (Size) n * dim, IvfpqPagePayload(page, at->flatCodeSize, entry),
			   sizeof(float) * dim);
		n++;
	}
	*next = IvfpqPageGetOpaque(page)->nextblkno;
	UnlockReleaseBuffer(buf);

	for (i = 0; i < n; i++)
		fn(at, &tids[i], vectors + (Size) i * dim, arg);
	pfree(vectors);
	CHECK_FOR_INTERRUPTS();
	return (OffsetNumber) count;
}

/* step 1: the reservoir */
typedef struct IvfpqSample
{
	float	   *x;
	int64		target;
	int64		n;
	int64		seen;
	pg_prng_state prng;
} IvfpqSample;

static void
sample_entry(IvfpqAutotrain *at, ItemPointer tid, const float *x, void *arg)
{
	IvfpqSample *sample = (IvfpqSample *) arg;
	int64		slot = ivfpq_reservoir_slot(&sample->prng, sample->target, sample->seen);

	if (slot >= 0)
	{
		memcpy(sample->x + slot * at->dim, x, sizeof(float) * at->dim);
		sample->n = Max(sample->n, slot + 1);
	}
	sample->seen++;
}

/* step 2: the build's loader */
static void
load_entry(IvfpqAutotrain *at, ItemPointer tid, const float *x, void *arg)
{
	ivfpq_loader_add((IvfpqLoader *) arg, tid, x);
	at->copied++;
}

/* step 3: one entry at a time, as an insert adds it, with generic WAL */
static void
append_entry(IvfpqAutotrain *at, ItemPointer tid, const float *x, void *arg)
{
	int			list = ivfpq_nearest_list(&at->state, x);
	int64		indices[IVFPQ_MAX_M];
	char		payload[IVFPQ_MAX_M + IVFPQ_REFINE_SLOT_SIZE];	/* a trained code: at most m bytes */

	ivfpq_encode(&at->state, x, list, indices);
	ivfpq_form_payload(&at->state, indices, x, payload);
	if (at->state.refine != IVFPQ_REFINE_NONE)
		ivfpq_refine_encode(&at->state, ivfpq_refine_error_unit(&at->state), x, at->record);
	ivfpq_append_entry(at->index, &at->state, list, payload, at->record, tid);
	at->copied++;
}

/* The sample of step 1: every flat entry through the reservoir. */
static void
sample_flat_chain(IvfpqAutotrain *at, IvfpqSample *sample)
{
	BlockNumber blkno = at->flatStart;

	while (BlockNumberIsValid(blkno))
		read_flat_page(at, blkno, FirstOffsetNumber, sample_entry, sample, &blkno);
}

/*
 * Hands fn the flat entries the new lists do not hold yet, and notes what
 * they hold now; returns how many it handed.  Pages are only ever chained at
 * the end, so the pages noted are a prefix of the chain.
 */
static int64
copy_new_entries(IvfpqAutotrain *at,
				 void (*fn) (IvfpqAutotrain *at, ItemPointer tid, const float *x, void *arg),
				 void *arg)
{
	int64		before = at->copied;
	BlockNumber blkno = at->flatStart;
	int64		i;

	for (i = 0; BlockNumberIsValid(blkno); i++)
	{
		OffsetNumber from = FirstOffsetNumber;

		if (i < at->npages)
		{
			if (at->pages[i].blkno != blkno)
				elog(ERROR, "ivfpq index \"%s\": its flat list changed during training",
					 RelationGetRelationName(at->index));
			from = at->pages[i].copied + 1;
		}
		else
		{
			if (at->npages == at->pagesCapacity)
			{
				at->pagesCapacity = Max(64, at->pagesCapacity * 2);
				at->pages = at->pages == NULL
					? palloc(sizeof(IvfpqCopiedPage) * at->pagesCapacity)
					: repalloc_huge(at->pages, sizeof(IvfpqCopiedPage) * at->pagesCapacity);
			}
			at->pages[at->npages].blkno = blkno;
			at->npages++;
		}
		at->pages[i].copied = read_flat_page(at, blkno, from, fn, arg, &blkno);
	}
	return at->copied - before;
}

/*
 * Sets or clears the metapage's trainingUnfinished, in a WAL record of its
 * own: set before the first new block is written, so that a crash after it
 * leaves the flag for the next VACUUM whatever reached the disk.
 */
static void
set_training_unfinished(Relation index, bool unfinished)
{
	Buffer		metabuf = ReadBuffer(index, IVFPQ_METAPAGE_BLKNO);
	GenericXLogState *xlog;
	Page		metapage;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	xlog = GenericXLogStart(index);
	metapage = GenericXLogRegisterBuffer(xlog, metabuf, 0);
	IvfpqPageGetMeta(metapage)->trainingUnfinished = unfinished;
	GenericXLogFinish(xlog);
	UnlockReleaseBuffer(metabuf);
}

/*
 * Step 4, under the page lock: the metapage describes the new layout, and
 * the old list page leads the chain of retired pages.
 */
static void
switch_metapage(IvfpqAutotrain *at, IvfpqMetaPageData *meta)
{
	BlockNumber oldListPage = at->flatListPage;
	Buffer		metabuf = ReadBuffer(at->index, IVFPQ_METAPAGE_BLKNO);
	Buffer		listbuf = ReadBuffer(at->index, oldListPage);
	GenericXLogState *xlog;
	Page		metapage;
	Page		listpage;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	LockBuffer(listbuf, BUFFER_LOCK_EXCLUSIVE);
	xlog = GenericXLogStart(at->index);
	metapage = GenericXLogRegisterBuffer(xlog, metabuf, 0);
	listpage = GenericXLogRegisterBuffer(xlog, listbuf, 0);
	if (IvfpqPageGetMeta(metapage)->trained)
		elog(ERROR, "ivfpq index \"%s\" was trained concurrently",
			 RelationGetRelationName(at->index));
	meta->retiredStart = oldListPage;
	meta->retiredXid = ReadNextFullTransactionId();
	meta->trainingUnfinished = false;
	ivfpq_put_meta(metapage, meta);
	IvfpqPageGetOpaque(listpage)->nextblkno = at->flatStart;
	GenericXLogFinish(xlog);
	UnlockReleaseBuffer(listbuf);
	UnlockReleaseBuffer(metabuf);
}

/*
 * Trains a flat index that holds enough entries (about `entries`, counted by
 * this VACUUM); returns the entries the index holds afterwards, or `entries`
 * when it stays flat.
 */
double
ivfpq_autotrain(IndexVacuumInfo *info, double entries)
{
	Relation	index = info->index;
	IvfpqOptions *opts = (IvfpqOptions *) index->rd_options;
	const IvfpqState *cached = ivfpq_get_current_state(index);
	MemoryContext trainCtx;
	MemoryContext oldCtx;
	IvfpqAutotrain at;
	IvfpqState *state = &at.state;
	IvfpqSample sample;
	IvfpqMetaPageData meta;
	IvfpqLoader *loader;
	int64		budget = (int64) maintenance_work_mem * 1024;
	int64		needed;
	int			m = opts ? opts->m : IVFPQ_DEFAULT_M;
	int			lists;
	int			round;

	if (cached->trained || (lists = autotrain_lists(index, (int64) entries)) == 0)
		return entries;

	trainCtx = AllocSetContextCreate(CurrentMemoryContext, "ivfpq autotrain",
									 ALLOCSET_DEFAULT_SIZES);
	oldCtx = MemoryContextSwitchTo(trainCtx);
	memset(&at, 0, sizeof(at));
	at.index = index;
	/* what the flat layout is, kept apart from the cache, which the switch replaces */
	at.dim = cached->dim;
	at.flatCodeSize = cached->codeSize;
	at.flatStart = cached->startPages[0];
	at.flatListPage = cached->listBlkno[0];

	/* ALTER INDEX can set an m the build never checked against the dimension */
	if (cached->dim % m != 0)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ivfpq index \"%s\" stays flat: option m = %d does not divide the fingerprint's %d dimensions",
						RelationGetRelationName(index), m, cached->dim)));
		MemoryContextSwitchTo(oldCtx);
		MemoryContextDelete(trainCtx);
		return entries;
	}
	memset(state, 0, sizeof(*state));
	state->dim = cached->dim;
	state->metric = cached->metric;
	ivfpq_set_trained_layout(state, lists, m, opts ? opts->nbits : IVFPQ_DEFAULT_NBITS,
							 opts ? (IvfpqRefine) opts->refine : IVFPQ_DEFAULT_REFINE);
	sample.target = Min((int64) entries, ivfpq_sample_target(lists, state->ksub));
	needed = ivfpq_training_bytes(state, sample.target);
	if (needed > budget)
	{
		ereport(WARNING,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ivfpq index \"%s\" stays flat: training %d lists needs %lld kB of memory, maintenance_work_mem is %d kB",
						RelationGetRelationName(index), lists, (long long) (needed / 1024),
						maintenance_work_mem),
				 errhint("Raise maintenance_work_mem for VACUUM, or REINDEX.")));
		MemoryContextSwitchTo(oldCtx);
		MemoryContextDelete(trainCtx);
		return entries;
	}

	/* step 1 */
	sample.x = palloc_extended(sizeof(float) * state->dim * sample.target, MCXT_ALLOC_HUGE);
	sample.n = 0;
	sample.seen = 0;
	pg_prng_seed(&sample.prng, IVFPQ_TRAINING_SEED);
	sample_flat_chain(&at, &sample);
	if (!ivfpq_can_train(sample.n, lists, state->ksub))
	{
		MemoryContextSwitchTo(oldCtx);
		MemoryContextDelete(trainCtx);
		return entries;
	}
	state->centroids = palloc_extended(sizeof(float) * lists * state->dim,
									   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	ivfpq_attach_codebook(state, palloc0(sizeof(float) * ivfpq_codebook_floats(state)));
	if (state->refine != IVFPQ_REFINE_NONE)
		at.record = palloc(state->refineSize);
	state->startPages = palloc0(sizeof(BlockNumber) * lists);
	state->listBlkno = palloc0(sizeof(BlockNumber) * lists);
	state->listOffno = palloc0(sizeof(OffsetNumber) * lists);
	ivfpq_train_coarse(state, sample.n, sample.x);
	ivfpq_train_codebook(state, sample.n, sample.x);
	pfree(sample.x);

	/* step 2 */
	set_training_unfinished(index, true);
	ivfpq_write_layout(index, MAIN_FORKNUM, state, &meta);
	loader = ivfpq_loader_begin(index, state, false);
	copy_new_entries(&at, load_entry, loader);
	ivfpq_loader_end(loader);
	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, meta.listStart,
						  RelationGetNumberOfBlocks(index), true);
	debug_pause(index);

	/* step 3 */
	for (round = 0; round < IVFPQ_CATCH_UP_UNLOCKED_ROUNDS; round++)
		if (copy_new_entries(&at, append_entry, NULL) <= IVFPQ_CATCH_UP_SMALL)
			break;
	LockPage(index, IVFPQ_METAPAGE_BLKNO, ExclusiveLock);
	copy_new_entries(&at, append_entry, NULL);

	/* step 4 */
	switch_metapage(&at, &meta);
	UnlockPage(index, IVFPQ_METAPAGE_BLKNO, ExclusiveLock);
	CacheInvalidateRelcache(index);
	ivfpq_forget_state(index);

	ereport(IsAutoVacuumWorkerProcess() ? LOG : NOTICE,
			(errmsg("ivfpq index \"%s\" trained: %d lists from %lld rows",
					RelationGetRelationName(index), lists, (long long) at.copied)));
	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(trainCtx);
	return (double) at.copied;
}

/*
 * The layout an insert appends to.  A flat one comes with the metapage's
 * page lock held in ShareLock (ivfpq_unlock_for_insert releases it), so that
 * the switch of step 3 waits for the append; the layout is re-read under the
 * lock, as VACUUM may have switched while this insert waited.
 */
IvfpqState *
ivfpq_lock_for_insert(Relation index, bool *locked)
{
	/* the insert has just checked the cache against the metapage */
	IvfpqState *state = ivfpq_get_state(index);

	*locked = false;
	if (state->trained)
		return state;
	LockPage(index, IVFPQ_METAPAGE_BLKNO, ShareLock);
	state = ivfpq_get_current_state(index);
	if (state->trained)
		UnlockPage(index, IVFPQ_METAPAGE_BLKNO, ShareLock);
	else
		*locked = true;
	return state;
}

void
ivfpq_unlock_for_insert(Relation index)
{
	UnlockPage(index, IVFPQ_METAPAGE_BLKNO, ShareLock);
}

/*
 * Frees the pages a training retired, once no snapshot is older than the
 * switch (no scan that copied the flat layout can still read them): each is
 * marked free, and the metapage's chain of retired pages moved on past it,
 * in one WAL record, then recorded in the free space map.  Returns how many.
 */
BlockNumber
ivfpq_free_retired_pages(IndexVacuumInfo *info)
{
	Relation	index = info->index;
	BlockNumber freed = 0;

	for (;;)
	{
		Buffer		metabuf = ReadBuffer(index, IVFPQ_METAPAGE_BLKNO);
		IvfpqMetaPage meta;
		BlockNumber blkno;
		Buffer		buf;
		GenericXLogState *xlog;
		Page		metapage;
		Page		page;
		BlockNumber next;

		vacuum_delay_point();
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		meta = IvfpqPageGetMeta(BufferGetPage(metabuf));
		blkno = meta->retiredStart;
		if (blkno == 0 || !GlobalVisCheckRemovableFullXid(NULL, meta->retiredXid))
		{
			UnlockReleaseBuffer(metabuf);
			break;
		}
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		xlog = GenericXLogStart(index);
		metapage = GenericXLogRegisterBuffer(xlog, metabuf, 0);
		page = GenericXLogRegisterBuffer(xlog, buf, GENERIC_XLOG_FULL_IMAGE);
		next = ivfpq_page_is_valid(page) ? IvfpqPageGetOpaque(page)->nextblkno : InvalidBlockNumber;
		ivfpq_init_page(page);
		IvfpqPageGetOpaque(page)->flags = IVFPQ_PAGE_FREE;
		IvfpqPageGetMeta(metapage)->retiredStart = BlockNumberIsValid(next) ? next : 0;
		GenericXLogFinish(xlog);
		UnlockReleaseBuffer(buf);
		UnlockReleaseBuffer(metabuf);
		RecordFreeIndexPage(index, blkno);
		freed++;
	}
	return freed;
}

/* Marks every block on a chain that starts at blkno (0 or invalid: none), and its refine pages. */
static void
mark_chain(IndexVacuumInfo *info, BlockNumber blkno, BlockNumber nblocks, bool *reached)
{
	while (blkno != 0 && BlockNumberIsValid(blkno) && blkno < nblocks && !reached[blkno])
	{
		Buffer		buf;
		Page		page;

		vacuum_delay_point();
		reached[blkno] = true;
		buf = ReadBufferExtended(info->index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		blkno = InvalidBlockNumber;
		if (ivfpq_page_is_valid(page))
		{
			(void) ivfpq_mark_refine_pages(page, nblocks, reached);
			blkno = IvfpqPageGetOpaque(page)->nextblkno;
		}
		UnlockReleaseBuffer(buf);
	}
}

/*
 * After a training that a crash or a cancel cut short (the metapage's
 * trainingUnfinished), frees the blocks it wrote: every initialised block
 * that is not free and that neither the layout nor the retired pages reach.
 * Without this each interrupted training - an autovacuum cancelled by a lock
 * request is one - would leave a layout's worth of pages for good.
 *
 * The blocks are read before the chains are walked: a block that an insert
 * links is initialised and linked in one WAL record, so one found
 * initialised here is on its chain by the time the walk reads that chain.
 * No other training runs: VACUUM holds ShareUpdateExclusiveLock.  The freed
 * blocks reach the free space map with the others, in record_free_pages.
 */
BlockNumber
ivfpq_reclaim_training_pages(IndexVacuumInfo *info)
{
	Relation	index = info->index;
	Buffer		metabuf = ReadBuffer(index, IVFPQ_METAPAGE_BLKNO);
	IvfpqMetaPageData meta;
	IvfpqState *state;
	BlockNumber nblocks;
	BlockNumber blkno;
	BlockNumber freed = 0;
	bool	   *candidate;
	bool	   *reached;
	int			list;

	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	meta = *IvfpqPageGetMeta(BufferGetPage(metabuf));
	UnlockReleaseBuffer(metabuf);
	if (!meta.trainingUnfinished)
		return 0;

	LockRelationForExtension(index, ExclusiveLock);
	nblocks = RelationGetNumberOfBlocks(index);
	UnlockRelationForExtension(index, ExclusiveLock);
	candidate = palloc0(sizeof(bool) * nblocks);
	reached = palloc0(sizeof(bool) * nblocks);

	for (blkno = IVFPQ_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		candidate[blkno] = !PageIsNew(page) && !ivfpq_page_is_free(page);
		UnlockReleaseBuffer(buf);
	}

	state = ivfpq_get_current_state(index);
	ivfpq_mark_fixed_pages(index, state, nblocks, reached);
	for (list = 0; list < state->lists; list++)
		mark_chain(info, state->startPages[list], nblocks, reached);
	mark_chain(info, meta.retiredStart, nblocks, reached);

	for (blkno = IVFPQ_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		GenericXLogState *xlog;
		Page		page;

		if (!candidate[blkno] || reached[blkno])
			continue;
		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		xlog = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(xlog, buf, GENERIC_XLOG_FULL_IMAGE);
		ivfpq_init_page(page);
		IvfpqPageGetOpaque(page)->flags = IVFPQ_PAGE_FREE;
		GenericXLogFinish(xlog);
		UnlockReleaseBuffer(buf);
		freed++;
	}
	pfree(candidate);
	pfree(reached);
	set_training_unfinished(index, false);
	if (freed > 0)
		ereport(IsAutoVacuumWorkerProcess() ? LOG : NOTICE,
				(errmsg("ivfpq index \"%s\": freed %u pages of an unfinished training",
						RelationGetRelationName(index), freed)));
	return freed;
}
