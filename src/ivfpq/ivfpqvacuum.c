/*
 * ivfpqvacuum.c - VACUUM of an ivfpq index: remove the entries of dead heap
 * tuples from every list, and point each list's insertion hint at the first
 * page that gained room, so later inserts reuse it.
 *
 * Pages are taken with a cleanup lock, as pgvector and nbtree do; scans copy
 * TIDs out of a page under a share lock and re-check visibility in the heap,
 * so a TID that VACUUM frees and the heap reuses is never returned for the
 * wrong row.
 *
 * A crash between extending the relation and WAL-logging the new page's
 * link leaves an all-zero block no chain reaches (ivfpq_check counts them).
 * The cleanup pass records such blocks in the free space map, and inserts
 * take them before extending (ivfpq_free_or_new_buffer).  It also trains a
 * flat index that has enough rows, and frees the pages an earlier training
 * retired and those a crash or cancel left of one cut short
 * (ivfpqautotrain.c).
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

#include "ivfpq/ivfpq.h"

IndexBulkDeleteResult *
ivfpqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	IvfpqState *state = ivfpq_get_current_state(index);
	int			list;

	if (stats == NULL)
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));

	for (list = 0; list < state->lists; list++)
	{
		BlockNumber blkno = state->startPages[list];
		BlockNumber firstFreed = InvalidBlockNumber;

		while (BlockNumberIsValid(blkno))
		{
			Buffer		buf;
			Page		page;
			GenericXLogState *xlog;
			OffsetNumber deletable[MaxOffsetNumber];
			int			ndeletable = 0;
			OffsetNumber offno;
			OffsetNumber maxoff;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			LockBufferForCleanup(buf);
			xlog = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(xlog, buf, 0);

			maxoff = PageGetMaxOffsetNumber(page);
			for (offno = FirstOffsetNumber; offno <= maxoff; offno++)
			{
				IndexTuple	itup = (IndexTuple) PageGetItem(page, PageGetItemId(page, offno));

				if (callback(&itup->t_tid, callback_state))
				{
					deletable[ndeletable++] = offno;
					stats->tuples_removed++;
				}
				else
					stats->num_index_tuples++;
			}

			if (ndeletable > 0)
			{
				PageIndexMultiDelete(page, deletable, ndeletable);
				GenericXLogFinish(xlog);
				if (!BlockNumberIsValid(firstFreed))
					firstFreed = blkno;
			}
			else
				GenericXLogAbort(xlog);

			blkno = IvfpqPageGetOpaque(BufferGetPage(buf))->nextblkno;
			UnlockReleaseBuffer(buf);
		}

		/* inserts walk forward from the hint, so an earlier hint is safe */
		if (BlockNumberIsValid(firstFreed))
			ivfpq_set_insert_page(index, state, list, firstFreed);
	}
	return stats;
}

/*
 * Records every all-zero or freed block past the fixed pages in the free
 * space map; returns how many.  An all-zero block is never on a chain: a page is
 * initialised, filled and linked in one WAL record, under the lock of the
 * chain's last page, and a backend that has just extended the relation holds
 * the new block locked until then, so the share lock here waits for it.  A
 * freed one (ivfpq_free_retired_pages) was unlinked first; the map may have
 * lost it in a crash.
 */
static BlockNumber
record_free_pages(IndexVacuumInfo *info, const IvfpqState *state)
{
	Relation	index = info->index;
	BlockNumber nblocks;
	BlockNumber blkno;
	BlockNumber freed = 0;

	LockRelationForExtension(index, ExclusiveLock);
	nblocks = RelationGetNumberOfBlocks(index);
	UnlockRelationForExtension(index, ExclusiveLock);

	for (blkno = state->fixedPages; blkno < nblocks; blkno++)
	{
		Buffer		buf;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (PageIsNew(BufferGetPage(buf)) || ivfpq_page_is_free(BufferGetPage(buf)))
		{
			RecordFreeIndexPage(index, blkno);
			freed++;
		}
		UnlockReleaseBuffer(buf);
	}
	if (freed > 0)
		IndexFreeSpaceMapVacuum(index);
	return freed;
}

IndexBulkDeleteResult *
ivfpqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;

	/* without a bulk delete pass, count the entries for pg_class */
	if (stats == NULL)
	{
		Relation	index = info->index;
		IvfpqState *state = ivfpq_get_current_state(index);
		int			list;

		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));
		for (list = 0; list < state->lists; list++)
		{
			BlockNumber blkno = state->startPages[list];

			while (BlockNumberIsValid(blkno))
			{
				Buffer		buf;
				Page		page;

				vacuum_delay_point();
				buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
				LockBuffer(buf, BUFFER_LOCK_SHARE);
				page = BufferGetPage(buf);
				stats->num_index_tuples += PageGetMaxOffsetNumber(page);
				blkno = IvfpqPageGetOpaque(page)->nextblkno;
				UnlockReleaseBuffer(buf);
			}
		}
	}
	ivfpq_reclaim_training_pages(info);
	stats->num_index_tuples = ivfpq_autotrain(info, stats->num_index_tuples);
	ivfpq_free_retired_pages(info);
	stats->pages_free = record_free_pages(info, ivfpq_get_current_state(info->index));
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}
