/*
 * bench_seqsearch.c - cost of the evaluation's exact sequence search at the
 * two reference hops the issue asks to compare (0.5 s and 0.25 s), on random
 * 128-d unit fingerprints of a 3-hour reference set, with the eval's query
 * mix (1, 2, 3 and 5 s queries, 1 s windows).  Prints queries per second for
 * each hop and their ratio, measured in the same run.
 *
 *   make bench && build/bench/bench_seqsearch [hours] [queries]
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_clock.h"
#include "core/sid_rng.h"
#include "search/sid_seqsearch.h"

#define DIM 128

static void
random_units(sid_rng *rng, float *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
	{
		double		s = 0;

		for (int d = 0; d < DIM; d++)
		{
			x[i * DIM + d] = sid_rng_normal(rng);
			s += (double) x[i * DIM + d] * x[i * DIM + d];
		}
		for (int d = 0; d < DIM; d++)
			x[i * DIM + d] = (float) (x[i * DIM + d] / sqrt(s));
	}
}

/* Seconds to search n_queries queries against `hours` of audio at hop. */
static double
run(double hours, double hop, int32_t n_queries, double *segments_out)
{
	const double lengths[] = {1, 2, 3, 5};
	sid_rng		rng;
	sid_error	err;
	sid_seqdb  *db = sid_seqdb_create(DIM, hop, &err);
	int32_t		track_segs = (int32_t) (180.0 / hop);	/* 3-minute tracks */
	int64_t		rows = (int64_t) (hours * 3600 / hop);
	float	   *fp = malloc((size_t) track_segs * DIM * sizeof(float));
	int32_t    *nseg = malloc(n_queries * sizeof(int32_t));
	sid_seq_match *best = malloc(n_queries * sizeof(sid_seq_match));
	int64_t		total = 0;
	float	   *q;
	sid_seqsearch_params p;
	double		t0,
				t;

	sid_rng_init(&rng, 1, (uint64_t) (hop * 1000));
	for (int64_t r = 0; r < rows; r += track_segs)
	{
		random_units(&rng, fp, track_segs);
		sid_seqdb_add_track(db, fp, track_segs, NULL, &err);
	}
	for (int32_t i = 0; i < n_queries; i++)
	{
		nseg[i] = (int32_t) ((lengths[i % 4] - 1) / hop) + 1;
		total += nseg[i];
	}
	q = malloc((size_t) total * DIM * sizeof(float));
	random_units(&rng, q, total);
	sid_seqsearch_params_default(&p);
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	sid_seqsearch(db, &p, q, n_queries, nseg, best, &err);
	t = sid_clock_seconds(CLOCK_MONOTONIC) - t0;
	*segments_out = (double) sid_seqdb_n_segments(db);
	sid_seqdb_free(db);
	free(fp);
	free(nseg);
	free(best);
	free(q);
	return t;
}

int
main(int argc, char **argv)
{
	double		hours = argc > 1 ? atof(argv[1]) : 3.0;
	int32_t		n_queries = argc > 2 ? atoi(argv[2]) : 4000;
	double		seg_half,
				seg_quarter;
	double		t_half = run(hours, 0.5, n_queries, &seg_half);
	double		t_quarter = run(hours, 0.25, n_queries, &seg_quarter);

	printf("reference %.1f h, %d queries (1/2/3/5 s mix), 128-d, k 20, exact\n", hours, n_queries);
	printf("hop 0.50 s: %8.0f segments, %6.2f s, %8.1f queries/s, %.2f MiB per hour\n",
		   seg_half, t_half, n_queries / t_half, sid_seqdb_bytes_per_hour(DIM, 0.5) / (1 << 20));
	printf("hop 0.25 s: %8.0f segments, %6.2f s, %8.1f queries/s, %.2f MiB per hour\n",
		   seg_quarter, t_quarter, n_queries / t_quarter, sid_seqdb_bytes_per_hour(DIM, 0.25) / (1 << 20));
	printf("ratio (0.25 s time / 0.5 s time): %.2f\n", t_quarter / t_half);
	return 0;
}
