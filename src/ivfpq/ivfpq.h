/*
 * ivfpq.h - the ivfpq index access method: inverted lists of
 * product-quantised fingerprints (IVF-PQ), trained with FAISS.
 *
 * Page layout (docs/ivfpq.md has the long version):
 *
 *   block 0                 metapage (IvfpqMetaPageData)
 *   blocks 1 ..             list pages: one IvfpqListData item per list
 *                           (centroid, first data page, insertion hint)
 *   following blocks        codebook pages: the product quantiser's
 *                           m * 2^nbits * (dim / m) floats, in chunks
 *   the rest                data pages, chained per list through
 *                           IvfpqPageOpaque.nextblkno, without line
 *                           pointers (format version 2):
 *
 *     header | payload 0 | payload 1 | ... -> pd_lower   hole   pd_upper <- ... | TID 1 | TID 0 | special
 *
 *                           the entries' payloads (the residual's PQ code,
 *                           or the whole vector in a flat index) packed from
 *                           the page contents up to pd_lower, their heap
 *                           TIDs in a parallel array from the special space
 *                           down to pd_upper.  Scans stream the codes; the
 *                           hole between stays out of generic WAL.
 *
 *                           With refine = sq8 each entry also has a refine
 *                           record (its 8-bit scalar-quantised vector and a
 *                           bound on that code's error) on one of up to
 *                           IVFPQ_MAX_REFINE_PAGES refine pages its data page
 *                           owns: their block numbers follow the opaque data
 *                           in the data page's special space, and the entry's
 *                           payload ends with its slot among them.  Slots stay
 *                           with their entries when VACUUM compacts a page, so
 *                           only the data page changes; a freed slot is taken
 *                           by a later insert.  Scans order candidates by the
 *                           refine code and read the heap only for rows that
 *                           can be returned (ivfpqscan.c).
 *
 * A "flat" index is what a build with too few rows to train on produces
 * (an empty table, or fewer rows than lists or than 2^nbits), and what an
 * unlogged index resets to after a crash: one list, no codebook, entries
 * holding the exact vector.  VACUUM trains it once it holds enough rows
 * (ivfpqautotrain.c): the trained layout is written in new blocks and the
 * metapage switched to it, so its list and codebook pages need not follow
 * block 1 (IvfpqMetaPageData.listStart).
 */
#ifndef SAMPLEID_IVFPQ_H
#define SAMPLEID_IVFPQ_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "access/transam.h"
#include "common/pg_prng.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"

#include "pg/fingerprint.h"

#define IVFPQ_MAGIC_NUMBER		0x49565051	/* "IVPQ" */
/* 2: packed data pages; 1 (release 0.1) had one IndexTuple per entry */
#define IVFPQ_VERSION			2
#define IVFPQ_PAGE_ID			0xFF91	/* for pg_filedump and friends */

#define IVFPQ_METAPAGE_BLKNO	0
#define IVFPQ_HEAD_BLKNO		1	/* first list page */

/* Index options; lists = 0 (the default) takes ivfpq_lists_for_rows */
#define IVFPQ_DEFAULT_LISTS		0
#define IVFPQ_MIN_LISTS			1
#define IVFPQ_MAX_LISTS			32768
#define IVFPQ_DEFAULT_M			16
#define IVFPQ_MIN_M				1
#define IVFPQ_MAX_M				256
#define IVFPQ_DEFAULT_NBITS		8
#define IVFPQ_MIN_NBITS			4
#define IVFPQ_MAX_NBITS			8

/* refine option: a finer code kept beside each entry's PQ code */
typedef enum IvfpqRefine
{
	IVFPQ_REFINE_NONE = 0,
	IVFPQ_REFINE_SQ8 = 1		/* 8 bits a dimension, per-dimension ranges */
} IvfpqRefine;

#define IVFPQ_DEFAULT_REFINE	IVFPQ_REFINE_NONE
#define IVFPQ_MAX_REFINE_PAGES	8
/* bytes of an entry's refine slot number, at the end of its payload */
#define IVFPQ_REFINE_SLOT_SIZE	((int) sizeof(uint16))

/* Settings */
#define IVFPQ_DEFAULT_PROBES	1
#define IVFPQ_DEFAULT_RERANK	100
#define IVFPQ_MAX_RERANK		100000

/* Training: k-means iterations and sample size per centroid */
#define IVFPQ_KMEANS_ITERATIONS		20
#define IVFPQ_SAMPLES_PER_LIST		64
#define IVFPQ_SAMPLES_PER_CODEWORD	128
#define IVFPQ_TRAINING_SEED			1234
/* rows a Euclidean nearest-centroid search copies at a time (ivfpq_assign) */
#define IVFPQ_AUGMENTED_ROWS		4096

/* Metric, chosen by the operator class's support function 1 */
typedef enum IvfpqMetric
{
	IVFPQ_METRIC_INNER_PRODUCT = 1,	/* <#>: negative inner product */
	IVFPQ_METRIC_COSINE = 2,		/* <=>: vectors normalised, Euclidean */
	IVFPQ_METRIC_L2 = 3				/* <->: Euclidean */
} IvfpqMetric;

#define IVFPQ_METRIC_PROC		1
#define IVFPQ_NPROCS			1

/* pg_stat_progress_create_index phases */
#define PROGRESS_IVFPQ_PHASE_SAMPLE		2
#define PROGRESS_IVFPQ_PHASE_COARSE		3
#define PROGRESS_IVFPQ_PHASE_PQ			4
#define PROGRESS_IVFPQ_PHASE_LOAD		5

typedef struct IvfpqOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int			lists;
	int			m;
	int			nbits;
	bool		autotrain;		/* VACUUM may train a flat index */
	int			refine;			/* IvfpqRefine */
} IvfpqOptions;

typedef struct IvfpqMetaPageData
{
	uint32		magicNumber;
	uint32		version;
	int32		dim;
	int32		metric;			/* IvfpqMetric */
	int32		lists;			/* 1 in a flat index */
	int32		m;				/* 0 in a flat index */
	int32		nbits;			/* 0 in a flat index */
	int32		codeSize;		/* payload bytes per entry */
	bool		trained;		/* false: flat index */
	BlockNumber codebookStart;	/* first codebook page, if trained */
	int32		codebookPages;

	/*
	 * Set when VACUUM trained a flat index (zero in a built one, whose list
	 * pages start at IVFPQ_HEAD_BLKNO): where the list pages start, and the
	 * old flat pages, chained from its list page, that a later VACUUM frees
	 * once no scan that began before the switch can still read them (no
	 * snapshot older than retiredXid).  0: none.
	 */
	BlockNumber listStart;
	BlockNumber retiredStart;
	FullTransactionId retiredXid;

	/*
	 * Set by a training before it writes its first new block, cleared by its
	 * switch: if a crash or a cancel came between, the next VACUUM frees the
	 * blocks it wrote, which no chain reaches (ivfpq_reclaim_training_pages).
	 * An index written before this field reads it as false.
	 */
	bool		trainingUnfinished;

	/* IvfpqRefine of a trained index (an index written before it: none) */
	int32		refine;
} IvfpqMetaPageData;

typedef IvfpqMetaPageData *IvfpqMetaPage;

typedef struct IvfpqPageOpaqueData
{
	BlockNumber nextblkno;		/* next page of this chain, or invalid */
	uint16		flags;			/* IVFPQ_PAGE_FREE */
	uint16		page_id;		/* IVFPQ_PAGE_ID */
} IvfpqPageOpaqueData;

/* on no chain, and free for ivfpq_free_or_new_buffer (as an all-zero block is) */
#define IVFPQ_PAGE_FREE		0x0001
/* a refine page: records of the entries of the data page that names it */
#define IVFPQ_PAGE_REFINE	0x0002

typedef IvfpqPageOpaqueData *IvfpqPageOpaque;

/* One item per list, on the list pages */
typedef struct IvfpqListData
{
	BlockNumber startPage;		/* first data page, fixed at build */
	BlockNumber insertPage;		/* where insertion starts looking */
	float		centroid[FLEXIBLE_ARRAY_MEMBER];
} IvfpqListData;

typedef IvfpqListData *IvfpqList;

#define IVFPQ_LIST_SIZE(dim)	(offsetof(IvfpqListData, centroid) + sizeof(float) * (dim))

#define IvfpqPageGetOpaque(page)	((IvfpqPageOpaque) PageGetSpecialPointer(page))
#define IvfpqPageGetMeta(page)		((IvfpqMetaPage) PageGetContents(page))

/* A data page's payloads, payload i, and TID i (see the layout above) */
#define IvfpqPagePayloads(page)		((char *) PageGetContents(page))
#define IvfpqPagePayload(page, codeSize, i) \
	(IvfpqPagePayloads(page) + (Size) (i) * (codeSize))
#define IvfpqPageTid(page, i) \
	((ItemPointer) ((char *) (page) + ((PageHeader) (page))->pd_special) - (i) - 1)
/* A data page's refine pages (ivfpq_page_refine_count of them), after its opaque data */
#define IvfpqPageRefinePages(page) \
	((BlockNumber *) ((char *) IvfpqPageGetOpaque(page) + sizeof(IvfpqPageOpaqueData)))
/* Refine record `slot` of a refine page: a byte bounding its error, then the code */
#define IvfpqRefineRecord(page, refineSize, slot) \
	((char *) PageGetContents(page) + (Size) (slot) * (refineSize))
/* bytes one entry takes on a data page, and the most a page holds (1-byte codes) */
#define IVFPQ_ENTRY_SIZE(codeSize)	((Size) (codeSize) + sizeof(ItemPointerData))
#define IVFPQ_DATA_SPACE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfpqPageOpaqueData)))
#define IVFPQ_MAX_PAGE_ENTRIES	((int) (IVFPQ_DATA_SPACE / IVFPQ_ENTRY_SIZE(1)))

/* Largest item a page holds; a list item (or flat entry) needs 8 + 4 * dim */
#define IVFPQ_MAX_ITEM_SIZE \
	MAXALIGN_DOWN(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - \
				  MAXALIGN(sizeof(IvfpqPageOpaqueData)) - sizeof(ItemIdData))
#define IVFPQ_MAX_DIM	((int) ((IVFPQ_MAX_ITEM_SIZE - 8) / sizeof(float)))

/* Floats per codebook page */
#define IVFPQ_CODEBOOK_CHUNK \
	((int) ((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfpqPageOpaqueData)) \
			 - sizeof(ItemIdData) - 64) / sizeof(float)))

/*
 * What a backend keeps of an index between calls (in rd_amcache): all that
 * never changes after the build.  Insertion hints are read from the pages.
 * One chunk of `size` bytes holds the struct and its arrays.  An
 * invalidation frees rd_amcache: whatever outlives one (a scan) keeps its own
 * copy of what it needs, see ivfpq_copy_layout.
 */
typedef struct IvfpqState
{
	Size		size;			/* of the whole chunk */
	int			dim;
	IvfpqMetric metric;
	int			lists;
	int			m;
	int			nbits;
	int			ksub;			/* 2^nbits */
	int			dsub;			/* dim / m */
	int			codeSize;		/* payload bytes: the PQ code, and a refine slot */
	int			pqSize;			/* the PQ code's bytes */
	bool		trained;
	IvfpqRefine refine;			/* trained only */
	int			refineSize;		/* bytes of a refine record: 1 + dim */
	int			refinePerPage;	/* records on a refine page */
	int			refinePages;	/* refine pages a data page may own */
	int			refineSlots;	/* entries a data page may hold, a slot each */
	float	   *centroids;		/* lists * dim */
	BlockNumber *startPages;	/* lists */
	BlockNumber *listBlkno;		/* where each list's item lives */
	OffsetNumber *listOffno;
	float	   *codebook;		/* m * ksub * dsub, if trained; then the refine ranges */
	float	   *sq8Min;			/* dim: each dimension's lowest code value */
	float	   *sq8Step;		/* dim: and the step between codes */
	BlockNumber fixedPages;		/* metapage, list and codebook pages: blocks 0 .. */

	/*
	 * Of a trained layout in the relcache (not in a scan's copy): the buffer
	 * each block was in when this backend last read it as a list or refine
	 * page, for ReadRecentBuffer, blocks 0 .. recentBlocks - 1 (the index's
	 * size when the layout was read, at most IVFPQ_MAX_RECENT_BLOCKS).
	 */
	Buffer	   *recentBuffers;
	BlockNumber recentBlocks;
} IvfpqState;

/* 4 bytes a block: 4 MB of a backend's memory for an index of 8 GB and more */
#define IVFPQ_MAX_RECENT_BLOCKS	((BlockNumber) 1 << 20)

/*
 * Four floats in one GCC/Clang vector (SSE on x86, NEON on ARM, without
 * -march flags), for the approximate kernels: ranking lists, the ADC table.
 */
typedef float ivfpq_v4sf __attribute__((vector_size(16)));

static inline ivfpq_v4sf
ivfpq_load4(const float *p)
{
	ivfpq_v4sf	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline float
ivfpq_hsum4(ivfpq_v4sf a, ivfpq_v4sf b, ivfpq_v4sf c, ivfpq_v4sf d)
{
	ivfpq_v4sf	s = (a + b) + (c + d);

	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* ivfpq.iterative_scan: what a scan does once its probed lists are used up */
typedef enum IvfpqIterativeScan
{
	IVFPQ_ITERATIVE_SCAN_OFF,	/* stop */
	IVFPQ_ITERATIVE_SCAN_STRICT,	/* go on; skip rows closer than one returned */
	IVFPQ_ITERATIVE_SCAN_RELAXED	/* go on; each further list in order of its own
									 * (the default) */
} IvfpqIterativeScan;

/* Settings */
extern int	ivfpq_probes;
extern int	ivfpq_iterative_scan;
extern int	ivfpq_rerank;
extern int	ivfpq_max_probes;
extern int	ivfpq_build_threads;
extern int	ivfpq_debug_autotrain_pause;

/* ivfpqhandler.c */
extern void ivfpq_init(void);

/* ivfpqutils.c */
extern IvfpqState *ivfpq_get_state(Relation index);
extern IvfpqState *ivfpq_get_current_state(Relation index);
extern void ivfpq_forget_state(Relation index);
extern IvfpqState *ivfpq_copy_layout(Relation index, MemoryContext context);
extern IvfpqMetric ivfpq_metric_of(Relation index);
extern int	ivfpq_heap_attno(Relation index);
extern void ivfpq_init_page(Page page);
extern void ivfpq_init_data_page(const IvfpqState *state, Page page);
extern void ivfpq_init_refine_page(Page page);
extern int	ivfpq_page_refine_count(Page page);
extern bool ivfpq_page_is_valid(Page page);
extern bool ivfpq_page_is_free(Page page);
extern void ivfpq_mark_fixed_pages(Relation index, const IvfpqState *state, BlockNumber nblocks,
								   bool *reached);
extern bool ivfpq_mark_refine_pages(Page page, BlockNumber nblocks, bool *reached);
extern Buffer ivfpq_new_buffer(Relation index, ForkNumber forkNum);
extern Buffer ivfpq_free_or_new_buffer(Relation index);
extern bool ivfpq_prepare_vector(const IvfpqState *state, const Fingerprint *fp, float *out);
extern int	ivfpq_nearest_list(const IvfpqState *state, const float *x);
extern void ivfpq_encode(const IvfpqState *state, const float *x, int list, int64 *indices);
extern int	ivfpq_code_at(const uint8 *code, int j, int nbits);
extern double ivfpq_coarse_distance(IvfpqMetric metric, const float *q, const float *c, int dim);
extern double ivfpq_exact_distance(IvfpqMetric metric, const float *a, const float *b, int dim);
extern void ivfpq_set_insert_page(Relation index, const IvfpqState *state, int list,
								  BlockNumber blkno);
extern int	ivfpq_page_entries(Page page, int codeSize);
extern bool ivfpq_page_has_room(const IvfpqState *state, Page page);
extern void ivfpq_page_add_entry(Page page, int codeSize, const char *payload,
								 ItemPointer heaptid);
extern void ivfpq_form_payload(const IvfpqState *state, const int64 *indices, const float *x,
							   char *payload);
extern int	ivfpq_codebook_floats(const IvfpqState *state);
extern void ivfpq_attach_codebook(IvfpqState *state, float *codebook);
extern void ivfpq_set_refine_layout(IvfpqState *state, IvfpqRefine refine);
extern int	ivfpq_payload_slot(const IvfpqState *state, const char *payload);
extern BlockNumber *ivfpq_refine_page_of_slot(const IvfpqState *state, Page datapage, int slot);
extern int	ivfpq_page_free_slot(const IvfpqState *state, Page page);
extern double ivfpq_refine_error_unit(const IvfpqState *state);
extern void ivfpq_refine_encode(const IvfpqState *state, double unit, const float *x,
								char *record);
extern void ivfpq_put_refine(const IvfpqState *state, Page refinepage, int slot,
							 const char *record, char *payload);
extern void ivfpq_append_entry(Relation index, const IvfpqState *state, int list,
							   char *payload, const char *record, ItemPointer heaptid);

/* ivfpqbuild.c */
extern int	ivfpq_lists_for_rows(int64 rows);
extern int64 ivfpq_sample_target(int lists, int ksub);
extern bool ivfpq_can_train(int64 nsamples, int lists, int ksub);
extern void ivfpq_set_trained_layout(IvfpqState *state, int lists, int m, int nbits,
									 IvfpqRefine refine);
extern int64 ivfpq_training_bytes(const IvfpqState *state, int64 nsamples);
extern void ivfpq_train_coarse(IvfpqState *state, int64 nsamples, float *samples);
extern void ivfpq_train_codebook(IvfpqState *state, int64 nsamples, float *samples);
extern int64 ivfpq_reservoir_slot(pg_prng_state *prng, int64 target, int64 seen);
extern void ivfpq_put_meta(Page page, const IvfpqMetaPageData *meta);
extern void ivfpq_write_layout(Relation index, ForkNumber forkNum, IvfpqState *state,
							   IvfpqMetaPageData *meta);

/* Loading entries into lists built in memory a page per list (ivfpqbuild.c) */
typedef struct IvfpqLoader IvfpqLoader;
extern IvfpqLoader *ivfpq_loader_begin(Relation index, const IvfpqState *state, bool reportProgress);
extern void ivfpq_loader_add(IvfpqLoader *loader, ItemPointer tid, const float *x);
extern int64 ivfpq_loader_end(IvfpqLoader *loader);
extern int64 ivfpq_loader_bytes(const IvfpqState *state);

/* ivfpqautotrain.c */
extern double ivfpq_autotrain(IndexVacuumInfo *info, double entries);
extern int64 ivfpq_rows_to_autotrain(Relation index);
extern BlockNumber ivfpq_free_retired_pages(IndexVacuumInfo *info);
extern BlockNumber ivfpq_reclaim_training_pages(IndexVacuumInfo *info);
extern IvfpqState *ivfpq_lock_for_insert(Relation index, bool *locked);
extern void ivfpq_unlock_for_insert(Relation index);

/* ivfpqtrain.c */
extern void ivfpq_assign(int dim, int64 n, const float *x, int k, const float *centroids,
						 bool innerProduct, int64 *labels);
extern void ivfpq_kmeans(int dim, int64 n, const float *x, int k, int niter, uint64 seed,
						 float *centroids);
extern void ivfpq_train_pq(int dim, int m, int nbits, int64 n, const float *x, int niter,
						   uint64 seed, float *codebook);
extern void ivfpq_train_sq8(int dim, int64 n, const float *x, float *min, float *step);

/* Access method callbacks */
extern IndexBuildResult *ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void ivfpqbuildempty(Relation index);
extern bool ivfpqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
						Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
						IndexInfo *indexInfo);
extern IndexBulkDeleteResult *ivfpqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											  IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *ivfpqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);
extern IndexScanDesc ivfpqbeginscan(Relation index, int nkeys, int norderbys);
extern void ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool ivfpqgettuple(IndexScanDesc scan, ScanDirection dir);
extern void ivfpqendscan(IndexScanDesc scan);

#endif
