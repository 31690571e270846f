/*
 * test_seqsearch.c - sequence search on synthetic fingerprints with known
 * answers: exact retrieval, offset compensation beating a stronger single
 * segment, alignments before a track's start, block-size independence,
 * coarser query hops, hit classification and the table printer.
 */
#include <stdlib.h>
#include <string.h>

#include "core/sid_rng.h"
#include "search/sid_seqsearch.h"
#include "tap.h"

#define D 32
#define TRACKS 30

static void
unit(float *v)
{
	double		s = 0;

	for (int i = 0; i < D; i++)
		s += (double) v[i] * v[i];
	for (int i = 0; i < D; i++)
		v[i] = (float) (v[i] / sqrt(s));
}

static void
random_unit(sid_rng *rng, float *v)
{
	for (int i = 0; i < D; i++)
		v[i] = sid_rng_normal(rng);
	unit(v);
}

/* q = unit(ref + sigma * noise) */
static void
noisy_copy(sid_rng *rng, const float *ref, float sigma, float *q)
{
	for (int i = 0; i < D; i++)
		q[i] = ref[i] + sigma * sid_rng_normal(rng) / sqrtf(D);
	unit(q);
}

typedef struct
{
	float	   *fp[TRACKS];
	int32_t		nseg[TRACKS];
} corpus;

static sid_seqdb *
make_db(corpus *c, double hop, sid_rng *rng)
{
	sid_error	err;
	sid_seqdb  *db = sid_seqdb_create(D, hop, &err);

	for (int t = 0; t < TRACKS; t++)
	{
		int32_t		id;

		c->nseg[t] = 20 + (int32_t) sid_rng_below(rng, 100);
		c->fp[t] = malloc((size_t) c->nseg[t] * D * sizeof(float));
		for (int s = 0; s < c->nseg[t]; s++)
			random_unit(rng, c->fp[t] + s * D);
		sid_seqdb_add_track(db, c->fp[t], c->nseg[t], &id, &err);
	}
	return db;
}

static void
test_retrieval(void)
{
	sid_rng		rng;
	corpus		c;
	sid_seqdb  *db;
	sid_seqsearch_params p,
				small;
	enum
	{
	NQ = 60};
	int32_t		nseg[NQ],
				truth_t[NQ],
				truth_a[NQ];
	float	   *segs = malloc((size_t) NQ * 9 * D * sizeof(float));
	sid_seq_match best[NQ],
				best_small[NQ];
	int64_t		total = 0;
	int			exact = 0,
				same = 1;
	sid_error	err;
	const int32_t lengths[] = {1, 3, 5, 9};

	sid_rng_init(&rng, 11, 0);
	db = make_db(&c, 0.5, &rng);
	CHECK(sid_seqdb_n_tracks(db) == TRACKS, "db: %d tracks", TRACKS);
	for (int q = 0; q < NQ; q++)
	{
		int32_t		t = (int32_t) sid_rng_below(&rng, TRACKS);
		int32_t		m = lengths[q % 4];
		int32_t		a = (int32_t) sid_rng_below(&rng, (uint64_t) (c.nseg[t] - m + 1));

		nseg[q] = m;
		truth_t[q] = t;
		truth_a[q] = a;
		for (int j = 0; j < m; j++)
			noisy_copy(&rng, c.fp[t] + (a + j) * D, 0.5f, segs + (total + j) * D);
		total += m;
	}
	sid_seqsearch_params_default(&p);
	p.k = 5;
	CHECK(sid_seqsearch(db, &p, segs, NQ, nseg, best, &err) == SID_OK, "search: %d queries", NQ);
	for (int q = 0; q < NQ; q++)
		exact += best[q].track == truth_t[q] && best[q].offset == truth_a[q];
	CHECK(exact == NQ, "search: every query finds its track and start segment (%d of %d)", exact, NQ);

	small = p;
	small.block_rows = 7;
	small.block_queries = 3;
	sid_seqsearch(db, &small, segs, NQ, nseg, best_small, &err);
	for (int q = 0; q < NQ; q++)
		same &= best[q].track == best_small[q].track && best[q].offset == best_small[q].offset &&
			best[q].score == best_small[q].score;
	CHECK(same, "search: tiny sgemm blocks give the same answers");

	/* offset compensation: query segment 0 is an exact copy of track 7
	 * segment 40, the other four are noisy copies of track 3 from segment 11
	 * on.  The strongest single neighbour points at track 7; the alignment
	 * along track 3 wins. */
	{
		float		q[5 * D];
		int32_t		m = 5;
		sid_seq_match b;

		memcpy(q, c.fp[7] + 40 * D, D * sizeof(float));
		for (int j = 1; j < 5; j++)
			noisy_copy(&rng, c.fp[3] + (10 + j) * D, 0.6f, q + j * D);
		sid_seqsearch(db, &p, q, 1, &m, &b, &err);
		CHECK(b.track == 3 && b.offset == 10,
			  "offset compensation: 4 aligned segments beat one perfect stray one (track %d offset %d)",
			  b.track, b.offset);
		CHECK(b.score > 0.5f && b.score < 0.85f, "offset compensation: score is the alignment mean (%.3f)", b.score);
		CHECK(b.votes >= 3, "offset compensation: %d segments voted for it", b.votes);
	}

	/* an alignment that starts before the track: segment 0 of the query
	 * precedes track 5's first segment */
	{
		float		q[4 * D];
		int32_t		m = 4;
		sid_seq_match b;

		random_unit(&rng, q);
		for (int j = 1; j < 4; j++)
			noisy_copy(&rng, c.fp[5] + (j - 1) * D, 0.3f, q + j * D);
		sid_seqsearch(db, &p, q, 1, &m, &b, &err);
		CHECK(b.track == 5 && b.offset == -1, "alignment before the track start: offset %d (want -1)", b.offset);
	}

	/* bad input */
	{
		int32_t		zero = 0;
		sid_seq_match b;

		CHECK(sid_seqsearch(db, &p, segs, 1, &zero, &b, &err) == SID_EINVAL,
			  "a query without segments is refused");
		p.k = 0;
		CHECK(sid_seqsearch(db, &p, segs, 1, nseg, &b, &err) == SID_EINVAL, "k = 0 is refused");
	}
	sid_seqdb_free(db);
	for (int t = 0; t < TRACKS; t++)
		free(c.fp[t]);
	free(segs);
}

static void
test_hop_ratio(void)
{
	sid_rng		rng;
	corpus		c;
	sid_seqdb  *db;
	sid_seqsearch_params p;
	float		q[5 * D];
	int32_t		m = 5;
	sid_seq_match b;
	sid_error	err;

	sid_rng_init(&rng, 12, 0);
	/* reference every 0.25 s, query segments every 0.5 s = 2 hops */
	db = make_db(&c, 0.25, &rng);
	for (int j = 0; j < 5; j++)
		noisy_copy(&rng, c.fp[9] + (6 + 2 * j) * D, 0.5f, q + j * D);
	sid_seqsearch_params_default(&p);
	p.hop_ratio = 2;
	sid_seqsearch(db, &p, q, 1, &m, &b, &err);
	CHECK(b.track == 9 && b.offset == 6, "hop ratio 2: track %d offset %d (want 9, 6)", b.track, b.offset);
	CHECK(sid_seq_classify(&b, 0.25, 9, 1.5) == SID_HIT_EXACT, "hop ratio 2: 6 x 0.25 s = 1.5 s is exact");
	sid_seqdb_free(db);
	for (int t = 0; t < TRACKS; t++)
		free(c.fp[t]);
}

static void
test_classify_and_table(void)
{
	sid_seq_match m = {.track = 4, .offset = 10, .score = 0.9f, .votes = 3};
	const double lengths[] = {1, 3};
	const double snrs[] = {0, 20};
	sid_hit_table t;
	sid_error	err;
	char	   *text = NULL;
	size_t		size = 0;
	FILE	   *out;

	/* answer starts at 10 * 0.5 = 5.0 s */
	CHECK(sid_seq_classify(&m, 0.5, 4, 5.2) == SID_HIT_EXACT, "classify: 0.2 s off is exact");
	CHECK(sid_seq_classify(&m, 0.5, 4, 4.75) == SID_HIT_EXACT, "classify: half a hop off is exact");
	CHECK(sid_seq_classify(&m, 0.5, 4, 5.6) == SID_HIT_NEAR, "classify: 0.6 s off is near");
	CHECK(sid_seq_classify(&m, 0.5, 4, 5.75) == SID_HIT_NEAR, "classify: 1.5 hops off is near");
	CHECK(sid_seq_classify(&m, 0.5, 4, 5.8) == SID_HIT_MISS, "classify: 0.8 s off is a miss");
	CHECK(sid_seq_classify(&m, 0.5, 3, 5.0) == SID_HIT_MISS, "classify: another track is a miss");
	m.track = -1;
	CHECK(sid_seq_classify(&m, 0.5, -1, 5.0) == SID_HIT_MISS, "classify: no answer is a miss");

	sid_hit_table_init(&t, 2, lengths, 2, snrs, &err);
	sid_hit_table_add(&t, 0, 0, SID_HIT_EXACT);
	sid_hit_table_add(&t, 0, 0, SID_HIT_NEAR);
	sid_hit_table_add(&t, 0, 1, SID_HIT_MISS);
	sid_hit_table_add(&t, 0, 1, SID_HIT_EXACT);
	sid_hit_table_add(&t, 1, 1, SID_HIT_EXACT);
	out = open_memstream(&text, &size);
	sid_hit_table_print(out, &t, "## test");
	fclose(out);
	CHECK(strstr(text, "| query | 0 dB | 20 dB |") != NULL, "table: header names the SNR columns");
	CHECK(strstr(text, "| 1 s | 50.0 / 100.0 | 50.0 / 50.0 |") != NULL, "table: 1 s row has exact / near rates");
	CHECK(strstr(text, "| 3 s | - | 100.0 / 100.0 |") != NULL, "table: an empty cell prints -");
	free(text);
	sid_hit_table_free(&t);
	CHECK_NEAR(sid_seqdb_bytes_per_hour(128, 0.5), 3686400.0, 0.5, "storage: 128-d at 0.5 s is 3.52 MiB per hour");
}

int
main(void)
{
	test_retrieval();
	test_hop_ratio();
	test_classify_and_table();
	return tap_done();
}
