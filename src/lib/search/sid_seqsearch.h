/*
 * sid_seqsearch.h - sequence search with offset compensation, the evaluation
 * search that does not depend on any model or index.
 *
 * The reference database holds every reference track's segment
 * fingerprints, in order (segment s of a track starts at s * hop seconds).
 * A query is a run of m segment fingerprints, segment j starting
 * j * query_hop after the query's start.  For each query segment the k
 * nearest reference segments by exact inner product are found (cblas_sgemm
 * over blocks of the database); each neighbour (track t, segment s) of query
 * segment j proposes the alignment "query starts at segment s - j * ratio of
 * t" (offset compensation; ratio = query_hop / hop); every proposed alignment
 * is scored by the mean similarity of the query's segments with the
 * reference segments it lines them up with (segments falling outside the
 * track count 0); the best-scoring alignment is the answer.
 */
#ifndef SID_SEQSEARCH_H
#define SID_SEQSEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/sid_error.h"

typedef struct sid_seqdb sid_seqdb;

/* An empty database of dim-dimensional fingerprints at the given hop. */
sid_seqdb  *sid_seqdb_create(int32_t dim, double hop_seconds, sid_error *err);
void		sid_seqdb_free(sid_seqdb *db);

/* Append a track's nseg fingerprints (copied); its id is returned in *track. */
sid_status	sid_seqdb_add_track(sid_seqdb *db, const float *fp, int32_t nseg,
								int32_t *track, sid_error *err);

int32_t		sid_seqdb_n_tracks(const sid_seqdb *db);
int64_t		sid_seqdb_n_segments(const sid_seqdb *db);
int32_t		sid_seqdb_dim(const sid_seqdb *db);
double		sid_seqdb_hop_seconds(const sid_seqdb *db);

/* Bytes of fingerprint storage per hour of audio at this hop and dimension
 * (float32, no index overhead). */
double		sid_seqdb_bytes_per_hour(int32_t dim, double hop_seconds);

typedef struct sid_seqsearch_params
{
	int32_t		k;				/* neighbours per query segment (>= 1) */
	int32_t		hop_ratio;		/* query segment spacing in reference hops (>= 1) */
	int32_t		block_rows;		/* reference rows per sgemm block (>= 1) */
	int32_t		block_queries;	/* query segments per sgemm block (>= 1) */
} sid_seqsearch_params;

void		sid_seqsearch_params_default(sid_seqsearch_params *p);

typedef struct sid_seq_match
{
	int32_t		track;			/* -1 when nothing was found */
	int32_t		offset;			/* reference segment aligned with query segment 0 */
	float		score;			/* mean inner product along the alignment */
	int32_t		votes;			/* neighbour hits that proposed this alignment */
} sid_seq_match;

/*
 * Search n_queries queries at once: query q has query_nseg[q] segments, all
 * queries' segments stacked in segs[total][dim].  best[q] receives the
 * answer.  Exact: every database row is compared with every query segment.
 */
sid_status	sid_seqsearch(const sid_seqdb *db, const sid_seqsearch_params *params,
						  const float *segs, int32_t n_queries, const int32_t *query_nseg,
						  sid_seq_match *best, sid_error *err);

/* How an answer compares with the truth (track, start in seconds). */
typedef enum sid_hit
{
	SID_HIT_MISS = 0,
	SID_HIT_NEAR = 1,			/* right track, within one segment of exact */
	SID_HIT_EXACT = 2			/* right track, start within half a hop */
} sid_hit;

/* exact: right track and |answer start - true start| <= hop / 2;
 * near: right track and within hop / 2 + hop (one segment index off). */
sid_hit		sid_seq_classify(const sid_seq_match *m, double hop_seconds,
							 int32_t true_track, double true_start_seconds);

/* Top-1 hit rates over query length (rows) x SNR (columns). */
typedef struct sid_hit_table
{
	int			n_rows,
				n_cols;
	const double *row_values;	/* query lengths, seconds */
	const double *col_values;	/* SNRs, dB */
	int64_t    *total;			/* [n_rows][n_cols] */
	int64_t    *exact;
	int64_t    *near;			/* near includes exact */
} sid_hit_table;

sid_status	sid_hit_table_init(sid_hit_table *t, int n_rows, const double *row_values,
							   int n_cols, const double *col_values, sid_error *err);
void		sid_hit_table_free(sid_hit_table *t);
void		sid_hit_table_add(sid_hit_table *t, int row, int col, sid_hit hit);

/* A Markdown table: one row per query length, "exact / near" percentages
 * per SNR column, the title above it. */
void		sid_hit_table_print(FILE *out, const sid_hit_table *t, const char *title);

#endif
