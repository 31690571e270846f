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

/* A page on a chain, share-locked: inside the relation and an ivfpq page. */
static Buffer
read_checked(Relation index, BlockNumber blkno, BlockNumber nblocks)
{
	Buffer		buf;

	if (blkno >= nblocks)
		corrupt(index, "a chain points past the end of the relation, to block %u", blkno);
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	if (!ivfpq_page_is_valid(BufferGetPage(buf)))
		corrupt(index, "block %u is not an ivfpq page", blkno);
	return buf;
}

/* What a check counts, and which blocks a chain or the fixed pages reach. */
typedef struct IvfpqCheck
{
	Relation	index;
	IvfpqState *state;
	BlockNumber nblocks;
	bool	   *seen;			/* nblocks */
	int64		dataPages;
	int64		entries;
} IvfpqCheck;

/* The metapage's parameters (cached by ivfpq_get_state) must agree. */
static void
check_meta(IvfpqCheck *check)
{
	const IvfpqState *state = check->state;

	if (state->dim < 1 || state->lists < 1 ||
		(state->trained && (state->m < 1 || state->dim % state->m != 0 ||
							state->nbits < IVFPQ_MIN_NBITS || state->nbits > IVFPQ_MAX_NBITS ||
							state->codeSize != (state->m * state->nbits + 7) / 8 +
							(state->refine != IVFPQ_REFINE_NONE ? IVFPQ_REFINE_SLOT_SIZE : 0))) ||
		(!state->trained && (state->lists != 1 || state->codeSize != (int) sizeof(float) * state->dim)))
		corrupt(check->index, "the metapage (block %u) holds inconsistent parameters",
				IVFPQ_METAPAGE_BLKNO);
}

/*
 * A data page's payload and TID arrays agree, every heap TID is valid and,
 * with refine codes, every entry has a slot of its own on a refine page the
 * data page owns.
 */
static void
check_entries(IvfpqCheck *check, Page page, BlockNumber blkno)
{
	const IvfpqState *state = check->state;
	int			count = ivfpq_page_entries(page, state->codeSize);
	bool		used[IVFPQ_MAX_PAGE_ENTRIES];
	int			i;

	if (count < 0)
		corrupt(check->index, "block %u is not a data page of this index's entry size", blkno);
	memset(used, 0, sizeof(used));
	for (i = 0; i < count; i++)
	{
		if (!ItemPointerIsValid(IvfpqPageTid(page, i)))
			corrupt(check->index, "block %u holds an entry with an invalid heap TID", blkno);
		if (state->refine != IVFPQ_REFINE_NONE)
		{
			int			slot = ivfpq_payload_slot(state, IvfpqPagePayload(page, state->codeSize, i));
			BlockNumber *refineBlock = ivfpq_refine_page_of_slot(state, page, slot);

			if (refineBlock == NULL || used[slot] || !BlockNumberIsValid(*refineBlock))
				corrupt(check->index, "block %u holds an entry without a refine slot of its own", blkno);
			used[slot] = true;
		}
	}
	check->entries += count;
}

/* The refine pages a data page names are refine pages. */
static void
check_refine_pages(IvfpqCheck *check, Page page, BlockNumber blkno)
{
	int			i;

	for (i = 0; i < ivfpq_page_refine_count(page); i++)
	{
		BlockNumber refine = IvfpqPageRefinePages(page)[i];
		Buffer		buf;
		uint16		flags;

		if (!BlockNumberIsValid(refine))
			continue;
		buf = read_checked(check->index, refine, check->nblocks);
		flags = IvfpqPageGetOpaque(BufferGetPage(buf))->flags;
		UnlockReleaseBuffer(buf);
		if ((flags & (IVFPQ_PAGE_REFINE | IVFPQ_PAGE_FREE)) != IVFPQ_PAGE_REFINE)
			corrupt(check->index, "block %u is named as a refine page but is not one", refine);
	}
}

/*
 * One list's chain: from its first data page, inside the relation, no page
 * reached twice (by this chain or another), its insertion hint on it.
 */
static void
check_list(IvfpqCheck *check, int list)
{
	const IvfpqState *state = check->state;
	Buffer		buf = read_checked(check->index, state->listBlkno[list], check->nblocks);
	Page		page = BufferGetPage(buf);
	IvfpqList	item = (IvfpqList) PageGetItem(page, PageGetItemId(page, state->listOffno[list]));
	BlockNumber insertPage = item->insertPage;
	bool		hintOnChain = false;
	BlockNumber blkno;

	UnlockReleaseBuffer(buf);
	for (blkno = state->startPages[list]; BlockNumberIsValid(blkno);)
	{
		CHECK_FOR_INTERRUPTS();
		if (blkno < check->nblocks && check->seen[blkno])
			corrupt(check->index, "block %u is reached twice", blkno);
		buf = read_checked(check->index, blkno, check->nblocks);
		check->seen[blkno] = true;
		check->dataPages++;
		if (blkno == insertPage)
			hintOnChain = true;
		page = BufferGetPage(buf);
		check_entries(check, page, blkno);
		if (!ivfpq_mark_refine_pages(page, check->nblocks, check->seen))
			corrupt(check->index, "block %u names a refine page that is past the end or reached twice",
					blkno);
		check_refine_pages(check, page, blkno);
		blkno = IvfpqPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	if (!hintOnChain)
		corrupt(check->index, "a list's insertion hint, block %u, is not on its chain", insertPage);
}

PG_FUNCTION_INFO_V1(ivfpq_check);
Datum
ivfpq_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	IvfpqCheck	check;
	TupleDesc	tupdesc;
	int64		unreached = 0;
	BlockNumber blkno;
	int			list;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(&check, 0, sizeof(check));
	check.index = relation_open(indexoid, AccessShareLock);
	if (check.index->rd_rel->relkind != RELKIND_INDEX ||
		check.index->rd_indam == NULL || check.index->rd_indam->ambuild != ivfpqbuild)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an ivfpq index", RelationGetRelationName(check.index))));

	/* the metapage and the fixed pages are checked while they are cached */
	check.state = ivfpq_get_current_state(check.index);
	check_meta(&check);

	check.nblocks = RelationGetNumberOfBlocks(check.index);
	check.seen = palloc0(sizeof(bool) * check.nblocks);
	ivfpq_mark_fixed_pages(check.index, check.state, check.nblocks, check.seen);
	for (list = 0; list < check.state->lists; list++)
		check_list(&check, list);
	for (blkno = 0; blkno < check.nblocks; blkno++)
		if (!check.seen[blkno])
			unreached++;

	relation_close(check.index, AccessShareLock);

	values[0] = Int32GetDatum(check.state->lists);
	values[1] = Int64GetDatum(check.dataPages);
	values[2] = Int64GetDatum(check.entries);
	values[3] = Int64GetDatum(unreached);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
