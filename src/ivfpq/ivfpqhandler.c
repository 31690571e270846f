/*
 * ivfpqhandler.c - the ivfpq access method's handler: its capabilities, index
 * options (lists, m, nbits, autotrain, refine), settings (ivfpq.probes, ivfpq.rerank,
 * ivfpq.build_threads, ivfpq.debug_autotrain_pause), cost estimate, build phase names, and the support
 * functions that tell an operator class's metric.
 */
#include "postgres.h"

#include <float.h>

#include "access/amapi.h"
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "ivfpq/ivfpq.h"

int			ivfpq_probes = IVFPQ_DEFAULT_PROBES;
int			ivfpq_rerank = IVFPQ_DEFAULT_RERANK;
int			ivfpq_max_probes = IVFPQ_MAX_LISTS;
int			ivfpq_iterative_scan = IVFPQ_ITERATIVE_SCAN_RELAXED;

static const struct config_enum_entry ivfpq_iterative_scan_options[] = {
	{"off", IVFPQ_ITERATIVE_SCAN_OFF, false},
	{"strict_order", IVFPQ_ITERATIVE_SCAN_STRICT, false},
	{"relaxed_order", IVFPQ_ITERATIVE_SCAN_RELAXED, false},
	{NULL, 0, false}
};
int			ivfpq_build_threads = 1;
int			ivfpq_debug_autotrain_pause = 0;

static relopt_kind ivfpq_relopt_kind;

static relopt_enum_elt_def ivfpq_refine_options[] = {
	{"none", IVFPQ_REFINE_NONE},
	{"sq8", IVFPQ_REFINE_SQ8},
	{(const char *) NULL}
};

void
ivfpq_init(void)
{
	ivfpq_relopt_kind = add_reloption_kind();
	/* the default, 0, is outside the range a user may give: lists from the rows */
	add_int_reloption(ivfpq_relopt_kind, "lists", "Number of inverted lists (coarse centroids); by default from the row count",
					  IVFPQ_DEFAULT_LISTS, IVFPQ_MIN_LISTS, IVFPQ_MAX_LISTS,
					  AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "m", "Number of product-quantiser sub-quantisers (must divide the dimension)",
					  IVFPQ_DEFAULT_M, IVFPQ_MIN_M, IVFPQ_MAX_M,
					  AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "nbits", "Bits per sub-quantiser code",
					  IVFPQ_DEFAULT_NBITS, IVFPQ_MIN_NBITS, IVFPQ_MAX_NBITS,
					  AccessExclusiveLock);
	/* read only by VACUUM, which holds ShareUpdateExclusiveLock on the table */
	add_bool_reloption(ivfpq_relopt_kind, "autotrain",
					   "Whether VACUUM trains a flat index once it holds enough rows",
					   true, ShareUpdateExclusiveLock);
	add_enum_reloption(ivfpq_relopt_kind, "refine",
					   "Finer code kept in the index for re-ranking: none, or sq8 (8 bits a dimension)",
					   ivfpq_refine_options, IVFPQ_DEFAULT_REFINE,
					   "Valid values are \"none\" and \"sq8\".", AccessExclusiveLock);

	DefineCustomIntVariable("ivfpq.probes", "Number of inverted lists an ivfpq scan visits.",
							"More probes: better recall, slower scans.",
							&ivfpq_probes, IVFPQ_DEFAULT_PROBES, 1, IVFPQ_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfpq.rerank", "Number of candidates an ivfpq scan re-scores exactly.",
							"The best candidates by product-quantised distance are re-scored "
							"from the table's fingerprints (with refine codes, from those first) "
							"and returned in exact order, this many at a time; 0 returns "
							"candidates in product-quantised order.",
							&ivfpq_rerank, IVFPQ_DEFAULT_RERANK, 0, IVFPQ_MAX_RERANK,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfpq.max_probes", "Most inverted lists an ivfpq scan visits to fill its LIMIT.",
							"Once the ivfpq.probes nearest lists are used up, a scan goes on to the "
							"next-nearest lists, one at a time, up to this many in all.",
							&ivfpq_max_probes, IVFPQ_MAX_LISTS, 1, IVFPQ_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfpq.iterative_scan", "What an ivfpq scan does once its probed lists are used up.",
							 "relaxed_order goes on to the next-nearest lists and returns each one's "
							 "rows, in distance order, after those of earlier lists; strict_order "
							 "skips the rows closer than one already returned, so all rows come in "
							 "distance order; off stops.",
							 &ivfpq_iterative_scan, IVFPQ_ITERATIVE_SCAN_RELAXED,
							 ivfpq_iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	/* threads take CPUs from other sessions: superuser, or GRANT SET ON PARAMETER */
	DefineCustomIntVariable("ivfpq.build_threads", "Threads FAISS may use while building an ivfpq index.",
							NULL,
							&ivfpq_build_threads, 1, 1, 64,
							PGC_SUSET, 0, NULL, NULL, NULL);
	/* a wait in VACUUM's training, for tests to crash or insert meanwhile */
	DefineCustomIntVariable("ivfpq.debug_autotrain_pause",
							"For tests: how long VACUUM waits after writing an ivfpq index's new lists, before the switch.",
							NULL,
							&ivfpq_debug_autotrain_pause, 0, 0, 3600 * 1000,
							PGC_SUSET, GUC_UNIT_MS | GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfpq");
}

static bytea *
ivfpqoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfpqOptions, lists)},
		{"m", RELOPT_TYPE_INT, offsetof(IvfpqOptions, m)},
		{"nbits", RELOPT_TYPE_INT, offsetof(IvfpqOptions, nbits)},
		{"autotrain", RELOPT_TYPE_BOOL, offsetof(IvfpqOptions, autotrain)},
		{"refine", RELOPT_TYPE_ENUM, offsetof(IvfpqOptions, refine)},
	};

	return (bytea *) build_reloptions(reloptions, validate, ivfpq_relopt_kind,
									  sizeof(IvfpqOptions), tab, lengthof(tab));
}

/*
 * Most of the work happens before the first row comes back: reading the
 * probed lists' pages, scoring their entries, and fetching the re-ranked
 * candidates from the heap.  So the startup cost is nearly the whole cost,
 * which makes the index win for ORDER BY ... LIMIT and lose to a sequential
 * scan and sort when every row is wanted.  Without an ORDER BY the index
 * cannot be used at all.
 */
static void
ivfpqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	GenericCosts costs;
	Relation	index;
	int			lists;
	double		ratio;
	double		visited;
	double		reranked;
	double		heapPages;
	double		spc_random_page_cost;

	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	index = index_open(path->indexinfo->indexoid, NoLock);
	lists = ivfpq_get_current_state(index)->lists;
	index_close(index, NoLock);

	ratio = Min(1.0, (double) ivfpq_probes / lists);
	visited = path->indexinfo->tuples * ratio;

	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = visited;
	genericcostestimate(root, path, loop_count, &costs);

	/* re-scoring reads the fingerprint of up to `rerank` heap tuples */
	reranked = Min((double) ivfpq_rerank, visited);
	heapPages = index_pages_fetched(reranked, path->indexinfo->rel->pages,
									(double) path->indexinfo->pages, root);
	get_tablespace_page_costs(path->indexinfo->rel->reltablespace,
							  &spc_random_page_cost, NULL);

	*indexStartupCost = costs.indexTotalCost +
		heapPages * spc_random_page_cost + reranked * cpu_tuple_cost +
		visited * cpu_operator_cost;
	*indexTotalCost = *indexStartupCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}

static bool
ivfpqvalidate(Oid opclassoid)
{
	return true;
}

static char *
ivfpqbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case PROGRESS_IVFPQ_PHASE_SAMPLE:
			return "sampling table";
		case PROGRESS_IVFPQ_PHASE_COARSE:
			return "training coarse centroids";
		case PROGRESS_IVFPQ_PHASE_PQ:
			return "training product quantiser";
		case PROGRESS_IVFPQ_PHASE_LOAD:
			return "encoding and loading tuples";
		default:
			return NULL;
	}
}

PG_FUNCTION_INFO_V1(ivfpqhandler);
Datum
ivfpqhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = IVFPQ_NPROCS;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = false;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = false;
	amroutine->amsearchnulls = false;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = false;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = ivfpqbuild;
	amroutine->ambuildempty = ivfpqbuildempty;
	amroutine->aminsert = ivfpqinsert;
	amroutine->ambulkdelete = ivfpqbulkdelete;
	amroutine->amvacuumcleanup = ivfpqvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = ivfpqcostestimate;
	amroutine->amoptions = ivfpqoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = ivfpqbuildphasename;
	amroutine->amvalidate = ivfpqvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = ivfpqbeginscan;
	amroutine->amrescan = ivfpqrescan;
	amroutine->amgettuple = ivfpqgettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = ivfpqendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}

/*
 * Support function 1 of each operator class: which metric the index uses.
 * Declared (internal) RETURNS internal so SQL cannot call them.
 */
PG_FUNCTION_INFO_V1(ivfpq_metric_inner_product);
Datum
ivfpq_metric_inner_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(IVFPQ_METRIC_INNER_PRODUCT);
}

PG_FUNCTION_INFO_V1(ivfpq_metric_cosine);
Datum
ivfpq_metric_cosine(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(IVFPQ_METRIC_COSINE);
}

PG_FUNCTION_INFO_V1(ivfpq_metric_l2);
Datum
ivfpq_metric_l2(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(IVFPQ_METRIC_L2);
}
