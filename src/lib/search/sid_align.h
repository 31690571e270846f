/*
 * sid_align.h - from nearest-neighbour hits to matches: offset voting,
 * merging adjacent offsets of one recording into one alignment with its
 * time ranges, and clamping those to the reference's extent.
 *
 * Each hit (a vote) says "query segment j, starting query_t seconds into
 * the query, is near the reference segment starting ref_t seconds into
 * recording r".  Hits of one recording whose offsets (ref_t - query_t)
 * lie within a tolerance of each other are one alignment: a query that does
 * not start on the catalogue's hop grid splits its votes over two
 * neighbouring offsets, and a slightly faster or slower rendition drifts
 * across a few.  Alignments are taken greedily, best first: the most
 * distinct query segments agreeing, then the highest similarity; a hit
 * counts for one alignment only, and the hits of adjacent offsets (within
 * the tolerance either side) merge into the alignment taken; what is left
 * of the same recording within a window plus the tolerance of a better
 * alignment is dropped as part of it.  Nothing here assumes the hits come from
 * one table or one server: they may be merged from the shards' top-k lists.
 *
 * Tempo (sample mode): with rate_min < rate_max the votes of a recording are
 * fitted as ref_t = offset + rate x query_t with rate in that range, so a
 * query played at 0.8x or 1.25x keeps its segments in one alignment instead
 * of drifting across offsets.  It is a Hough transform over (rate, offset):
 * for each rate of a grid fine enough that neighbouring rates move the last
 * query segment by at most half the tolerance, the same windows of
 * tolerance width are scored over the offsets ref_t - rate x query_t, and
 * the best window of all rates is taken (ties go to the rate nearest 1);
 * its votes' rate is then refined by least squares.  Pairwise slopes would
 * cost the square of the hits and are thrown by the outliers that the
 * windows ignore.  With rate_min = rate_max = 1 (the default) the votes are
 * aligned exactly as without tempo.
 */
#ifndef SID_ALIGN_H
#define SID_ALIGN_H

#include <stdint.h>

#include "core/sid_error.h"

typedef struct sid_vote
{
	int64_t		recording;
	int32_t		query_seg;		/* 0 .. n_query_segs - 1 */
	float		query_t;		/* seconds into the query */
	float		ref_t;			/* seconds into the recording */
	float		similarity;		/* inner product */
} sid_vote;

typedef struct sid_align_params
{
	double		segment_seconds;	/* the model's window */
	double		tolerance_seconds;	/* offsets this close are one alignment (> 0) */
	int32_t		min_segments;	/* fewest agreeing query segments kept (>= 1) */
	double		rate_min,
				rate_max;		/* ref seconds per query second; 1, 1: no tempo */
} sid_align_params;

/* The tempo range of sample mode, and most rates its grid tries. */
#define SID_ALIGN_SAMPLE_RATE_MIN 0.7
#define SID_ALIGN_SAMPLE_RATE_MAX 1.5
#define SID_ALIGN_MAX_RATES 64

/* segment_seconds, a tolerance of one hop, no tempo (rates 1, 1). */
void		sid_align_params_default(sid_align_params *p, double segment_seconds,
									 double hop_seconds);

typedef struct sid_alignment
{
	int64_t		recording;
	double		offset;			/* ref time - query time, seconds */
	double		query_start,
				query_end,
				ref_start,
				ref_end;		/* seconds */
	int32_t		segments;		/* distinct query segments agreeing */
	double		similarity;		/* mean over them of each one's best hit */
	double		rate;			/* ref_t = offset + rate x query_t; 1 without tempo
								 * (0, as left by a caller's memset, reads as 1) */
} sid_alignment;

/*
 * Up to max_out alignments, best first, into out; *n_out says how many.
 * votes is reordered.  n_query_segs bounds query_seg (checked).  With a
 * tempo range (rate_min <= 1 <= rate_max, within 0.25 .. 4) each
 * alignment's rate is fitted; ref_start and ref_end follow it.
 */
sid_status	sid_align_votes(sid_vote *votes, int64_t n_votes, int32_t n_query_segs,
							const sid_align_params *p, sid_alignment *out, int32_t max_out,
							int32_t *n_out, sid_error *err);

/*
 * Whether b is the same use of a recording as a (sample mode): the same
 * recording, and both the query ranges and the reference ranges overlap.
 * Several transposed copies of a query, or one copy at neighbouring rates
 * and offsets, find one use several times; a sample looped in the query
 * overlaps in the reference only and stays several uses.
 */
int			sid_alignment_same_use(const sid_alignment *a, const sid_alignment *b);

/*
 * Clamps a's reference range to [ref_lo, ref_hi] (the recording's stored
 * extent, seconds) and moves the query range with it, so both keep the
 * alignment's offset and rate (the same length when the rate is 1); a query
 * range that would start before 0 is clamped too.  Returns 0 when nothing of
 * the alignment is left.
 */
int			sid_alignment_clamp(sid_alignment *a, double ref_lo, double ref_hi);

#endif
