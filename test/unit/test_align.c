/*
 * test_align.c - offset voting (search/sid_align): the agreeing recording
 * wins over a stronger lone hit, votes split over two neighbouring offsets
 * merge into one alignment, a hit counts once, time ranges follow the
 * agreeing segments, clamping keeps ranges inside the reference, bad input
 * is refused; with a tempo range, a query at 0.8x, 1x or 1.25x among outliers
 * is one alignment with its rate and reference range (which keeps the query's
 * length without).
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
	sid_alignment a = {5, -1.0, 0.0, 3.0, -1.0, 2.0, 3, 0.5, 1.0};

	/* the query starts 1 s before the recording does */
	CHECK(sid_alignment_clamp(&a, 0.0, 100.0), "something is left");
	CHECK_NEAR(a.ref_start, 0.0, 1e-12, "ref range starts at the recording's start");
	CHECK_NEAR(a.query_start, 1.0, 1e-12, "and the query range moves with it");
	CHECK_NEAR(a.ref_end, 2.0, 1e-12, "end unchanged");
	a = (sid_alignment) {5, 98.0, 0.0, 5.0, 98.0, 103.0, 3, 0.5, 1.0};
	CHECK(sid_alignment_clamp(&a, 0.0, 100.0), "a tail is left");
	CHECK_NEAR(a.ref_end, 100.0, 1e-12, "ref range ends at the recording's end");
	CHECK_NEAR(a.query_end, 2.0, 1e-12, "query end moves with it");
	a = (sid_alignment) {5, 200.0, 0.0, 1.0, 200.0, 201.0, 1, 0.5, 1.0};
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

/* A small seeded generator, so the outliers are the same every run. */
static uint32_t
next_rand(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

/*
 * Votes of a 10 s query (19 segments at a 0.5 s hop) that is recording 7
 * from 30 s at rate r, its hits on the catalogue's 0.5 s grid, with 4
 * outliers per segment (other recordings, and recording 7 elsewhere) of
 * similar similarity.  Returns the number of votes.
 */
static int
tempo_votes(double r, sid_vote *v)
{
	uint32_t	state = 12345u + (uint32_t) (r * 100);
	int			n = 0;

	for (int j = 0; j < 19; j++)
	{
		double		qt = 0.5 * j,
					rt = 30.0 + r * qt;

		v[n++] = hit(7, j, (float) qt, (float) (0.5 * floor(rt / 0.5 + 0.5)), 0.80f);
		for (int o = 0; o < 4; o++)
		{
			int64_t		rec = o == 0 ? 7 : 1 + next_rand(&state) % 5;
			float		t = 0.5f * (float) (next_rand(&state) % 400);

			if (rec == 7 && fabs(t - rt) < 20)
				t += 60;
			v[n++] = hit(rec, j, (float) qt, t, 0.70f + 0.2f * (next_rand(&state) % 100) / 100.0f);
		}
	}
	return n;
}

static void
test_tempo(void)
{
	static const double rates[3] = {0.8, 1.0, 1.25};
	sid_vote	v[19 * 5];
	sid_alignment a[4];
	int32_t		got;
	sid_align_params p;
	sid_error	err;

	for (int i = 0; i < 3; i++)
	{
		double		r = rates[i];
		int			n = tempo_votes(r, v);

		sid_align_params_default(&p, 1.0, 0.5);
		p.rate_min = SID_ALIGN_SAMPLE_RATE_MIN;
		p.rate_max = SID_ALIGN_SAMPLE_RATE_MAX;
		CHECK(sid_align_votes(v, n, 19, &p, a, 4, &got, &err) == SID_OK && got >= 1,
			  "rate %.2f: aligns", r);
		CHECK(a[0].recording == 7, "rate %.2f: the recording played wins", r);
		CHECK(a[0].segments >= 18, "rate %.2f: its segments stay in one alignment (%d of 19)", r,
			  a[0].segments);
		CHECK_NEAR(a[0].rate, r, 0.02, "rate %.2f: the rate is estimated", r);
		CHECK_NEAR(a[0].query_start, 0.0, 1e-9, "rate %.2f: the query range starts at 0", r);
		CHECK_NEAR(a[0].query_end, 10.0, 1e-9, "rate %.2f: and ends at 10 s", r);
		CHECK_NEAR(a[0].ref_start, 30.0, 0.3, "rate %.2f: the reference range starts at 30 s", r);
		CHECK_NEAR(a[0].ref_end, 30.0 + 10.0 * r, 0.5, "rate %.2f: and follows the rate", r);
		CHECK(sid_alignment_clamp(&a[0], 0.0, 36.0), "rate %.2f: clamping leaves something", r);
		CHECK(a[0].ref_end <= 36.0 && fabs(a[0].query_end - (36.0 - a[0].offset) / a[0].rate) < 1e-9,
			  "rate %.2f: a clamped end moves the query end by the rate", r);

		/*
		 * without tempo the drift is absorbed by the neighbouring offsets,
		 * but the reference range keeps the query's length
		 */
		n = tempo_votes(r, v);
		sid_align_params_default(&p, 1.0, 0.5);
		CHECK(sid_align_votes(v, n, 19, &p, a, 4, &got, &err) == SID_OK && got >= 1 &&
			  a[0].recording == 7 && a[0].rate == 1.0, "rate %.2f without tempo: aligns at rate 1", r);
		CHECK_NEAR(a[0].ref_end - a[0].ref_start, a[0].query_end - a[0].query_start, 1e-9,
				   "rate %.2f without tempo: the reference range is as long as the query's", r);
	}
	sid_align_params_default(&p, 1.0, 0.5);
	p.rate_min = 1.2;
	CHECK(sid_align_votes(v, 1, 19, &p, a, 1, &got, &err) == SID_EINVAL,
		  "a tempo range that leaves out 1 is refused");
}

int
main(void)
{
	test_tempo();
	test_agreement_beats_strength();
	test_segment_counts_once();
	test_adjacent_merge();
	test_clamp();
	test_bad_input();
	return tap_done();
}
