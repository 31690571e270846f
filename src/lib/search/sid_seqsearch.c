/*
 * sid_seqsearch.c - exact top-k by blocked sgemm, offset-compensated
 * alignment scoring, hit classification and the hit-rate table; see
 * sid_seqsearch.h.
 */
#include "search/sid_seqsearch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

struct sid_seqdb
{
	int32_t		dim;
	double		hop_seconds;
	float	   *fp;				/* [n_rows][dim] */
	int64_t		n_rows,
				cap_rows;
	int32_t		n_tracks,
				cap_tracks;
	int64_t    *track_first;	/* first row of each track */
	int32_t    *track_nseg;
};

sid_seqdb *
sid_seqdb_create(int32_t dim, double hop_seconds, sid_error *err)
{
	sid_seqdb  *db;

	if (dim < 1 || dim > 65536 || !(hop_seconds > 0))
	{
		sid_fail(err, SID_EINVAL, "seqdb: dimension %d or hop %g s invalid", dim, hop_seconds);
		return NULL;
	}
	db = calloc(1, sizeof(*db));
	if (!db)
	{
		sid_fail(err, SID_ENOMEM, "seqdb: out of memory");
		return NULL;
	}
	db->dim = dim;
	db->hop_seconds = hop_seconds;
	return db;
}

void
sid_seqdb_free(sid_seqdb *db)
{
	if (!db)
		return;
	free(db->fp);
	free(db->track_first);
	free(db->track_nseg);
	free(db);
}

sid_status
sid_seqdb_add_track(sid_seqdb *db, const float *fp, int32_t nseg, int32_t *track, sid_error *err)
{
	if (nseg < 1)
		return sid_fail(err, SID_EINVAL, "seqdb: a track needs at least one segment");
	if (db->n_tracks == INT32_MAX)
		return sid_fail(err, SID_ELIMIT, "seqdb: too many tracks");
	if (db->n_rows + nseg > db->cap_rows)
	{
		int64_t		cap = db->cap_rows ? db->cap_rows : 1024;
		float	   *grown;

		while (cap < db->n_rows + nseg)
			cap *= 2;
		grown = realloc(db->fp, (size_t) cap * db->dim * sizeof(float));
		if (!grown)
			return sid_fail(err, SID_ENOMEM, "seqdb: out of memory for %lld segments", (long long) cap);
		db->fp = grown;
		db->cap_rows = cap;
	}
	if (db->n_tracks == db->cap_tracks)
	{
		int32_t		cap = db->cap_tracks ? 2 * db->cap_tracks : 64;
		int64_t    *first = realloc(db->track_first, cap * sizeof(int64_t));
		int32_t    *nsegs;

		if (!first)
			return sid_fail(err, SID_ENOMEM, "seqdb: out of memory");
		db->track_first = first;
		nsegs = realloc(db->track_nseg, cap * sizeof(int32_t));
		if (!nsegs)
			return sid_fail(err, SID_ENOMEM, "seqdb: out of memory");
		db->track_nseg = nsegs;
		db->cap_tracks = cap;
	}
	memcpy(db->fp + db->n_rows * db->dim, fp, (size_t) nseg * db->dim * sizeof(float));
	db->track_first[db->n_tracks] = db->n_rows;
	db->track_nseg[db->n_tracks] = nseg;
	db->n_rows += nseg;
	if (track)
		*track = db->n_tracks;
	db->n_tracks++;
	return SID_OK;
}

int32_t
sid_seqdb_n_tracks(const sid_seqdb *db)
{
	return db->n_tracks;
}

int64_t
sid_seqdb_n_segments(const sid_seqdb *db)
{
	return db->n_rows;
}

int32_t
sid_seqdb_dim(const sid_seqdb *db)
{
	return db->dim;
}

double
sid_seqdb_hop_seconds(const sid_seqdb *db)
{
	return db->hop_seconds;
}

double
sid_seqdb_bytes_per_hour(int32_t dim, double hop_seconds)
{
	return 3600.0 / hop_seconds * dim * sizeof(float);
}

void
sid_seqsearch_params_default(sid_seqsearch_params *p)
{
	p->k = 20;
	p->hop_ratio = 1;
	p->block_rows = 4096;
	p->block_queries = 1024;
}

/* The track holding database row r (binary search over first rows). */
static int32_t
row_track(const sid_seqdb *db, int64_t r)
{
	int32_t		lo = 0,
				hi = db->n_tracks - 1;

	while (lo < hi)
	{
		int32_t		mid = lo + (hi - lo + 1) / 2;

		if (db->track_first[mid] <= r)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Min-heap of k (score, row) pairs: heap[0] is the weakest kept. */
static void
heap_offer(float *score, int64_t *row, int32_t k, float s, int64_t r)
{
	int32_t		i = 0;

	if (!(s > score[0]))
		return;
	for (;;)
	{
		int32_t		l = 2 * i + 1,
					c = l;

		if (l >= k)
			break;
		if (l + 1 < k && score[l + 1] < score[l])
			c = l + 1;
		if (!(score[c] < s))
			break;
		score[i] = score[c];
		row[i] = row[c];
		i = c;
	}
	score[i] = s;
	row[i] = r;
}

static float
dot(const float *a, const float *b, int32_t d)
{
	float		s = 0;

	for (int32_t i = 0; i < d; i++)
		s += a[i] * b[i];
	return s;
}

typedef struct candidate
{
	int32_t		track;
	int32_t		offset;
	int32_t		votes;
} candidate;

static int
candidate_cmp(const void *a, const void *b)
{
	const candidate *x = a,
			   *y = b;

	if (x->track != y->track)
		return x->track < y->track ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return 0;
}

/* Score the alignments proposed by one query's neighbours; cand has room
 * for m * k entries. */
static void
best_alignment(const sid_seqdb *db, const sid_seqsearch_params *p, const float *q,
			   int32_t m, const int64_t *nbr_row, const float *nbr_score,
			   candidate *cand, sid_seq_match *best)
{
	int32_t		n = 0,
				u = 0;

	best->track = -1;
	best->offset = 0;
	best->score = -INFINITY;
	best->votes = 0;
	for (int32_t j = 0; j < m; j++)
		for (int32_t i = 0; i < p->k; i++)
		{
			int64_t		r = nbr_row[(int64_t) j * p->k + i];
			int32_t		t;

			if (r < 0 || !isfinite(nbr_score[(int64_t) j * p->k + i]))
				continue;
			t = row_track(db, r);
			cand[n].track = t;
			cand[n].offset = (int32_t) (r - db->track_first[t]) - j * p->hop_ratio;
			cand[n].votes = 1;
			n++;
		}
	if (n == 0)
		return;
	qsort(cand, n, sizeof(*cand), candidate_cmp);
	for (int32_t i = 1; i < n; i++)
	{
		if (cand[i].track == cand[u].track && cand[i].offset == cand[u].offset)
			cand[u].votes++;
		else
			cand[++u] = cand[i];
	}
	n = u + 1;
	for (int32_t c = 0; c < n; c++)
	{
		const float *base = db->fp + db->track_first[cand[c].track] * db->dim;
		int32_t		nseg = db->track_nseg[cand[c].track];
		double		sum = 0;
		float		score;

		for (int32_t j = 0; j < m; j++)
		{
			int64_t		s = (int64_t) cand[c].offset + (int64_t) j * p->hop_ratio;

			if (s >= 0 && s < nseg)
				sum += dot(q + (int64_t) j * db->dim, base + s * db->dim, db->dim);
		}
		score = (float) (sum / m);
		/* ties: more votes, then the earlier track and offset (sorted order) */
		if (score > best->score || (score == best->score && cand[c].votes > best->votes))
		{
			best->track = cand[c].track;
			best->offset = cand[c].offset;
			best->score = score;
			best->votes = cand[c].votes;
		}
	}
}

sid_status
sid_seqsearch(const sid_seqdb *db, const sid_seqsearch_params *p,
			  const float *segs, int32_t n_queries, const int32_t *query_nseg,
			  sid_seq_match *best, sid_error *err)
{
	int64_t		total = 0;
	int32_t		max_m = 0;
	int32_t		d = db->dim;
	float	   *sims = NULL,
			   *top_score = NULL;
	int64_t    *top_row = NULL;
	candidate  *cand = NULL;
	int64_t    *first_seg = NULL;
	sid_status	rc = SID_OK;

	if (p->k < 1 || p->hop_ratio < 1 || p->block_rows < 1 || p->block_queries < 1)
		return sid_fail(err, SID_EINVAL, "seqsearch: k, hop ratio and block sizes must be positive");
	if (db->n_rows == 0)
		return sid_fail(err, SID_EINVAL, "seqsearch: the reference database is empty");
	for (int32_t q = 0; q < n_queries; q++)
	{
		if (query_nseg[q] < 1)
			return sid_fail(err, SID_EINVAL, "seqsearch: query %d has no segments", q);
		total += query_nseg[q];
		if (query_nseg[q] > max_m)
			max_m = query_nseg[q];
	}
	if (n_queries == 0)
		return SID_OK;

	sims = malloc((size_t) p->block_queries * p->block_rows * sizeof(float));
	top_score = malloc((size_t) total * p->k * sizeof(float));
	top_row = malloc((size_t) total * p->k * sizeof(int64_t));
	cand = malloc((size_t) max_m * p->k * sizeof(candidate));
	first_seg = malloc((size_t) n_queries * sizeof(int64_t));
	if (!sims || !top_score || !top_row || !cand || !first_seg)
	{
		rc = sid_fail(err, SID_ENOMEM, "seqsearch: out of memory for %lld query segments",
					  (long long) total);
		goto done;
	}
	for (int64_t i = 0; i < total * p->k; i++)
	{
		top_score[i] = -INFINITY;
		top_row[i] = -1;
	}

	/* exact top-k: every (query segment block) x (database block) product */
	for (int64_t q0 = 0; q0 < total; q0 += p->block_queries)
	{
		int64_t		nq = total - q0 < p->block_queries ? total - q0 : p->block_queries;

		for (int64_t r0 = 0; r0 < db->n_rows; r0 += p->block_rows)
		{
			int64_t		nr = db->n_rows - r0 < p->block_rows ? db->n_rows - r0 : p->block_rows;

			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) nq, (int) nr, d,
						1.0f, segs + q0 * d, d, db->fp + r0 * d, d, 0.0f, sims, (int) nr);
			for (int64_t i = 0; i < nq; i++)
			{
				float	   *hs = top_score + (q0 + i) * p->k;
				int64_t    *hr = top_row + (q0 + i) * p->k;
				const float *row = sims + i * nr;

				for (int64_t r = 0; r < nr; r++)
					if (row[r] > hs[0])
						heap_offer(hs, hr, p->k, row[r], r0 + r);
			}
		}
	}

	first_seg[0] = 0;
	for (int32_t q = 1; q < n_queries; q++)
		first_seg[q] = first_seg[q - 1] + query_nseg[q - 1];
	for (int32_t q = 0; q < n_queries; q++)
		best_alignment(db, p, segs + first_seg[q] * d, query_nseg[q],
					   top_row + first_seg[q] * p->k, top_score + first_seg[q] * p->k,
					   cand, &best[q]);
done:
	free(sims);
	free(top_score);
	free(top_row);
	free(cand);
	free(first_seg);
	return rc;
}

sid_hit
sid_seq_classify(const sid_seq_match *m, double hop_seconds,
				 int32_t true_track, double true_start_seconds)
{
	double		err;

	if (m->track < 0 || m->track != true_track)
		return SID_HIT_MISS;
	err = fabs(m->offset * hop_seconds - true_start_seconds);
	/* a hair of slack so starts exactly half a hop away count as exact */
	if (err <= hop_seconds / 2 + 1e-9)
		return SID_HIT_EXACT;
	if (err <= hop_seconds * 1.5 + 1e-9)
		return SID_HIT_NEAR;
	return SID_HIT_MISS;
}

sid_status
sid_hit_table_init(sid_hit_table *t, int n_rows, const double *row_values,
				   int n_cols, const double *col_values, sid_error *err)
{
	size_t		cells = (size_t) n_rows * n_cols;

	memset(t, 0, sizeof(*t));
	if (n_rows < 1 || n_cols < 1)
		return sid_fail(err, SID_EINVAL, "hit table: needs at least one row and one column");
	t->n_rows = n_rows;
	t->n_cols = n_cols;
	t->row_values = row_values;
	t->col_values = col_values;
	t->total = calloc(cells, sizeof(int64_t));
	t->exact = calloc(cells, sizeof(int64_t));
	t->near = calloc(cells, sizeof(int64_t));
	if (!t->total || !t->exact || !t->near)
	{
		sid_hit_table_free(t);
		return sid_fail(err, SID_ENOMEM, "hit table: out of memory");
	}
	return SID_OK;
}

void
sid_hit_table_free(sid_hit_table *t)
{
	free(t->total);
	free(t->exact);
	free(t->near);
	t->total = t->exact = t->near = NULL;
}

void
sid_hit_table_add(sid_hit_table *t, int row, int col, sid_hit hit)
{
	size_t		i = (size_t) row * t->n_cols + col;

	t->total[i]++;
	t->exact[i] += hit == SID_HIT_EXACT;
	t->near[i] += hit != SID_HIT_MISS;
}

void
sid_hit_table_print(FILE *out, const sid_hit_table *t, const char *title)
{
	if (title)
		fprintf(out, "%s\n\n", title);
	fprintf(out, "| query |");
	for (int c = 0; c < t->n_cols; c++)
		fprintf(out, " %g dB |", t->col_values[c]);
	fprintf(out, "\n|---|");
	for (int c = 0; c < t->n_cols; c++)
		fprintf(out, "---|");
	fprintf(out, "\n");
	for (int r = 0; r < t->n_rows; r++)
	{
		fprintf(out, "| %g s |", t->row_values[r]);
		for (int c = 0; c < t->n_cols; c++)
		{
			size_t		i = (size_t) r * t->n_cols + c;

			if (t->total[i] == 0)
				fprintf(out, " - |");
			else
				fprintf(out, " %.1f / %.1f |", 100.0 * t->exact[i] / t->total[i],
						100.0 * t->near[i] / t->total[i]);
		}
		fprintf(out, "\n");
	}
	fprintf(out, "\nexact / near top-1 hit rate in %%");
	if (t->n_rows && t->n_cols)
		fprintf(out, "; %lld queries per cell", (long long) t->total[0]);
	fprintf(out, "\n");
}
