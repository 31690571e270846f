/*
 * test_align.c - offset voting (search/sid_align): the agreeing recording
 * wins over a stronger lone hit, votes split over two neighbouring offsets
 * merge into one alignment, a hit counts once, time ranges follow the
 * agreeing segments, clamping keeps ranges inside the reference, bad input
 * is refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/sid_align.h"
#include "tap.h"

static sid_vote
hit(int64_t rec, int32_t j, float qt, float rt, float sim)
{
	sid_vote	v = {rec, j, qt, rt, sim};

	return v;
}

static void
test_agreement_beats_strength(void)
{
	sid_vote	v[16];
	int			n = 0;
	sid_alignment a[4];
	int32_t		got;
	sid_align_params p;
	sid_error	err;

	sid_align_params_default(&p, 1.0, 0.5);
	/* recording 7: segments 0..3 of the query (hop 0.5) at ref 10.2 + j/2,
	 * off the grid so the hits fall on ref starts 10.0 / 10.5 ... */
	for (int j = 0; j < 4; j++)
		v[n++] = hit(7, j, 0.5f * j, 10.0f + 0.5f * j + (j % 2 ? 0.5f : 0.0f), 0.6f);
	/* recording 3: one strong lone hit, two weak ones elsewhere */
	v[n++] = hit(3, 1, 0.5f, 40.0f, 0.95f);
	v[n++] = hit(3, 2, 1.0f, 80.0f, 0.5f);
	v[n++] = hit(3, 3, 1.5f, 5.0f, 0.5f);
	/* recording 7 again, far away: segment 0 once more (a distinct alignment) */
	v[n++] = hit(7, 0, 0.0f, 90.0f, 0.55f);
	CHECK(sid_align_votes(v, n, 4, &p, a, 4, &got, &err) == SID_OK, "aligns");
	CHECK(got == 4, "five alignments, max_out 4 of them (%d)", got);
	CHECK(a[0].recording == 7 && a[0].segments == 4, "4 agreeing segments of 7 win (%lld, %d)",
		  (long long) a[0].recording, a[0].segments);
	CHECK(a[0].offset >= 10.0 && a[0].offset <= 10.5, "offset between the split votes (%.2f)",
		  a[0].offset);
	CHECK_NEAR(a[0].query_start, 0.0, 1e-9, "query range starts at the first agreeing segment");
	CHECK_NEAR(a[0].query_end, 2.5, 1e-9, "and ends a window after the last");
	CHECK_NEAR(a[0].ref_start - a[0].query_start, a[0].offset, 1e-9, "ranges keep the offset");
	CHECK_NEAR(a[0].similarity, 0.6, 1e-6, "similarity is the agreeing segments' mean");
	CHECK(a[1].segments == 1 && a[1].recording == 3 && fabs(a[1].similarity - 0.95) < 1e-6,
		  "then the strongest lone hit");
	p.min_segments = 2;
	CHECK(sid_align_votes(v, n, 4, &p, a, 4, &got, &err) == SID_OK && got == 1,
		  "min_segments 2 keeps only the agreeing alignment");
}

static void
test_segment_counts_once(void)
{
	sid_vote	v[3];
	sid_alignment a[2];
	int32_t		got;
	sid_align_params p;
	sid_error	err;

	sid_align_params_default(&p, 1.0, 0.5);
	v[0] = hit(1, 0, 0, 20.0f, 0.7f);
	v[1] = hit(1, 0, 0, 20.5f, 0.9f);	/* same query segment, next ref segment */
	v[2] = hit(1, 1, 0.5f, 21.0f, 0.8f);
	CHECK(sid_align_votes(v, 3, 2, &p, a, 2, &got, &err) == SID_OK && got >= 1, "aligns");
	CHECK(a[0].segments == 2, "two query segments, not three hits (%d)", a[0].segments);
	CHECK_NEAR(a[0].similarity, 0.85, 1e-6, "each segment's best hit counts");
}

static void
test_adjacent_merge(void)
{
	sid_vote	v[8];
	int			n = 0;
	sid_alignment a[4];
	int32_t		got;
	sid_align_params p;
	sid_error	err;

	sid_align_params_default(&p, 1.0, 0.5);
	/* segments 0..3 at offset 20.0, segments 4, 5 drifted to 20.5 and 21.0,
	 * and one hit 1.5 s further on */
	for (int j = 0; j < 4; j++)
		v[n++] = hit(9, j, 0.5f * j, 20.0f + 0.5f * j, 0.8f);
	v[n++] = hit(9, 4, 2.0f, 22.5f, 0.7f);
	v[n++] = hit(9, 5, 2.5f, 23.5f, 0.7f);
	v[n++] = hit(9, 1, 0.5f, 22.0f, 0.9f);
	CHECK(sid_align_votes(v, n, 6, &p, a, 4, &got, &err) == SID_OK, "aligns");
	CHECK(got == 1, "one match for one recording at adjacent offsets (%d)", got);
	CHECK(a[0].segments == 6, "the drifted segments merge into it (%d)", a[0].segments);
	CHECK_NEAR(a[0].query_end, 3.5, 1e-9, "its query range covers them");
}

static void
test_clamp(void)
{
	sid_alignment a = {5, -1.0, 0.0, 3.0, -1.0, 2.0, 3, 0.5};

	/* the query starts 1 s before the recording does */
	CHECK(sid_alignment_clamp(&a, 0.0, 100.0), "something is left");
	CHECK_NEAR(a.ref_start, 0.0, 1e-12, "ref range starts at the recording's start");
	CHECK_NEAR(a.query_start, 1.0, 1e-12, "and the query range moves with it");
	CHECK_NEAR(a.ref_end, 2.0, 1e-12, "end unchanged");
	a = (sid_alignment) {5, 98.0, 0.0, 5.0, 98.0, 103.0, 3, 0.5};
	CHECK(sid_alignment_clamp(&a, 0.0, 100.0), "a tail is left");
	CHECK_NEAR(a.ref_end, 100.0, 1e-12, "ref range ends at the recording's end");
	CHECK_NEAR(a.query_end, 2.0, 1e-12, "query end moves with it");
	a = (sid_alignment) {5, 200.0, 0.0, 1.0, 200.0, 201.0, 1, 0.5};
	CHECK(!sid_alignment_clamp(&a, 0.0, 100.0), "an alignment past the end is dropped");
}

static void
test_bad_input(void)
{
	sid_vote	v = hit(1, 3, 0, 0, 0.5f);
	sid_alignment a;
	int32_t		got;
	sid_align_params p;
	sid_error	err;

	sid_align_params_default(&p, 1.0, 0.5);
	CHECK(sid_align_votes(&v, 1, 2, &p, &a, 1, &got, &err) == SID_EINVAL,
		  "a query segment out of range is refused");
	v.query_seg = 0;
	v.similarity = NAN;
	CHECK(sid_align_votes(&v, 1, 2, &p, &a, 1, &got, &err) == SID_EINVAL, "NaN is refused");
	v.similarity = 0.5f;
	p.tolerance_seconds = 0;
	CHECK(sid_align_votes(&v, 1, 2, &p, &a, 1, &got, &err) == SID_EINVAL, "tolerance 0 is refused");
	p.tolerance_seconds = 0.5;
	CHECK(sid_align_votes(&v, 0, 2, &p, &a, 1, &got, &err) == SID_OK && got == 0,
		  "no hits, no alignment");
}

int
main(void)
{
	test_agreement_beats_strength();
	test_segment_counts_once();
	test_adjacent_merge();
	test_clamp();
	test_bad_input();
	return tap_done();
}
