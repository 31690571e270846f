/*
 * ivfpqcheck.c - ivfpq_check(index): structural verification of an ivfpq
 * index, in the spirit of contrib/amcheck.  It reads every page under a share
 * lock and raises ERRCODE_INDEX_CORRUPTED at the first inconsistency:
 *
 *   - metapage magic, version and parameters;
 *   - every list page, codebook page and data page carries the ivfpq page id;
 *   - each list's data chain starts at its recorded first page, stays inside
 *     the relation, never visits a page twice or a page of another list;
 *   - each list's insertion hint lies on its own chain;
 *   - every entry has the entry size of the index and a valid heap TID.
 *
 * Returns the number of lists, data pages, entries, and pages no chain
 * reaches (possible, harmless, after a crash between extending the relation
 * and logging the new page).
 */
#include "postgres.h"

#include "access/relation.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "ivfpq/ivfpq.h"

static void
corrupt(Relation index, const char *fmt, BlockNumber blkno)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("ivfpq index \"%s\" is corrupted", RelationGetRelationName(index)),
			 errdetail_internal(fmt, blkno)));
}

static Buffer
read_checked(Relation index, BlockNumber blkno, BlockNumber nblocks)
{
	Buffer		buf;
	Page		page;

	if (blkno >= nblocks)
		corrupt(index, "a chain points past the end of the relation, to block %u", blkno);
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfpqPageOpaqueData)) ||
		IvfpqPageGetOpaque(page)->page_id != IVFPQ_PAGE_ID)
		corrupt(index, "block %u is not an ivfpq page", blkno);
	return buf;
}

PG_FUNCTION_INFO_V1(ivfpq_check);
Datum
ivfpq_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	index;
	TupleDesc	tupdesc;
	IvfpqState *state;
	BlockNumber nblocks;
	bool	   *seen;
	int64		dataPages = 0;
	int64		entries = 0;
	int64		unreached = 0;
	Size		entrySize;
	BlockNumber blkno;
	int			list;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	index = relation_open(indexoid, AccessShareLock);
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_indam == NULL || index->rd_indam->ambuild != ivfpqbuild)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an ivfpq index", RelationGetRelationName(index))));

	/* the metapage and the fixed pages are checked while they are cached */
	state = ivfpq_get_state(index);
	if (state->dim < 1 || state->lists < 1 ||
		(state->trained && (state->m < 1 || state->dim % state->m != 0 ||
							state->nbits < IVFPQ_MIN_NBITS || state->nbits > IVFPQ_MAX_NBITS ||
							state->codeSize != (state->m * state->nbits + 7) / 8)) ||
		(!state->trained && (state->lists != 1 || state->codeSize != (int) sizeof(float) * state->dim)))
		corrupt(index, "the metapage (block %u) holds inconsistent parameters", IVFPQ_METAPAGE_BLKNO);
	entrySize = IVFPQ_ENTRY_SIZE(state->codeSize);

	nblocks = RelationGetNumberOfBlocks(index);
	seen = palloc0(sizeof(bool) * nblocks);
	seen[IVFPQ_METAPAGE_BLKNO] = true;
	for (list = 0; list < state->lists; list++)
		if (state->listBlkno[list] < nblocks)
			seen[state->listBlkno[list]] = true;

	for (list = 0; list < state->lists; list++)
	{
		BlockNumber insertPage;
		bool		hintOnChain = false;
		Buffer		buf = read_checked(index, state->listBlkno[list], nblocks);
		Page		page = BufferGetPage(buf);

		insertPage = ((IvfpqList) PageGetItem(page, PageGetItemId(page, state->listOffno[list])))->insertPage;
		UnlockReleaseBuffer(buf);

		for (blkno = state->startPages[list]; BlockNumberIsValid(blkno);)
		{
			OffsetNumber offno;
			OffsetNumber maxoff;

			CHECK_FOR_INTERRUPTS();
			if (blkno < nblocks && seen[blkno])
				corrupt(index, "block %u is reached twice", blkno);
			buf = read_checked(index, blkno, nblocks);
			seen[blkno] = true;
			dataPages++;
			if (blkno == insertPage)
				hintOnChain = true;
			page = BufferGetPage(buf);
			maxoff = PageGetMaxOffsetNumber(page);
			for (offno = FirstOffsetNumber; offno <= maxoff; offno++)
			{
				ItemId		itemid = PageGetItemId(page, offno);
				IndexTuple	itup;

				if (!ItemIdIsUsed(itemid))
					continue;
				itup = (IndexTuple) PageGetItem(page, itemid);
				if (ItemIdGetLength(itemid) != entrySize || IndexTupleSize(itup) != entrySize)
					corrupt(index, "block %u holds an entry of the wrong size", blkno);
				if (!ItemPointerIsValid(&itup->t_tid))
					corrupt(index, "block %u holds an entry with an invalid heap TID", blkno);
				entries++;
			}
			blkno = IvfpqPageGetOpaque(page)->nextblkno;
			UnlockReleaseBuffer(buf);
		}
		if (!hintOnChain)
			corrupt(index, "a list's insertion hint, block %u, is not on its chain", insertPage);
	}

	/* codebook pages are read by ivfpq_get_state; count them as reached */
	if (state->trained)
	{
		int			ncodebook = state->m * state->ksub * state->dsub;
		int			pages = (ncodebook + IVFPQ_CODEBOOK_CHUNK - 1) / IVFPQ_CODEBOOK_CHUNK;
		Buffer		buf = read_checked(index, IVFPQ_METAPAGE_BLKNO, nblocks);
		BlockNumber start = IvfpqPageGetMeta(BufferGetPage(buf))->codebookStart;

		UnlockReleaseBuffer(buf);
		for (blkno = start; blkno < start + pages && blkno < nblocks; blkno++)
			seen[blkno] = true;
	}
	for (blkno = 0; blkno < nblocks; blkno++)
		if (!seen[blkno])
			unreached++;

	relation_close(index, AccessShareLock);

	values[0] = Int32GetDatum(state->lists);
	values[1] = Int64GetDatum(dataPages);
	values[2] = Int64GetDatum(entries);
	values[3] = Int64GetDatum(unreached);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
