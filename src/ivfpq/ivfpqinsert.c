/*
 * ivfpqinsert.c - adding one row to an ivfpq index after its build: the
 * row goes to its nearest list, encoded with the codebooks trained at build
 * time (or as the exact vector in a flat index).  Centroids and codebooks
 * never change until REINDEX; a flat index VACUUM may train meanwhile
 * (ivfpqautotrain.c), so an insert into one holds the metapage's page lock.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "ivfpq/ivfpq.h"

bool
ivfpqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
			Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
			IndexInfo *indexInfo)
{
	MemoryContext insertCtx;
	MemoryContext oldCtx;
	IvfpqState *state;
	Fingerprint *fp;
	float	   *x;
	int			list = 0;
	int64		indices[IVFPQ_MAX_M];
	char	   *payload;
	char	   *record = NULL;

	/* NULLs are not indexed: no distance orders them */
	if (isnull[0])
		return false;

	state = ivfpq_get_current_state(index);
	insertCtx = AllocSetContextCreate(CurrentMemoryContext, "ivfpq insert",
									  ALLOCSET_SMALL_SIZES);
	oldCtx = MemoryContextSwitchTo(insertCtx);

	fp = DatumGetFingerprint(values[0]);
	x = palloc(sizeof(float) * state->dim);
	if (ivfpq_prepare_vector(state, fp, x))
	{
		bool		locked;

		/* dimension and metric stay when VACUUM trains a flat index, not the rest */
		state = ivfpq_lock_for_insert(index, &locked);
		if (state->trained)
		{
			list = ivfpq_nearest_list(state, x);
			ivfpq_encode(state, x, list, indices);
		}
		payload = palloc(state->codeSize);
		ivfpq_form_payload(state, indices, x, payload);
		if (state->refine != IVFPQ_REFINE_NONE)
		{
			record = palloc(state->refineSize);
			ivfpq_refine_encode(state, ivfpq_refine_error_unit(state), x, record);
		}
		ivfpq_append_entry(index, state, list, payload, record, heap_tid);
		if (locked)
			ivfpq_unlock_for_insert(index);
	}

	MemoryContextSwitchTo(oldCtx);
	MemoryContextDelete(insertCtx);
	return false;
}
