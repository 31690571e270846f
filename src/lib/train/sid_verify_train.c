/*
 * sid_verify_train.c - the verifier's training (sid_verify_train.h).
 */
#include "train/sid_verify_train.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/sid_stretch.h"
#include "core/sid_clock.h"
#include "core/sid_pcm16.h"
#include "core/sid_rng.h"
#include "augment/sid_noise.h"
#include "corpus/sid_corpus.h"
#include "model/sid_embed.h"
#include "model/sid_model.h"
#include "model/sid_verifier.h"
#include "search/sid_align.h"
#include "eval/sid_conditions.h"

#define COARSE_K 20
#define MAX_CANDIDATES 10
#define NEGATIVES_PER_QUERY 3
/* Random streams: queries and their plans, and the batches, never share one. */
#define STREAM_QUERY 1000000ull
#define STREAM_BATCH 2000000ull
#define STREAM_MUSIC_CLIPS 3000000ull
/* Music overlay clips: the longest query and the overlay's margin. */
#define MUSIC_CLIP_SECONDS 11

typedef sid_verify_catalogue catalogue;

typedef struct query
{
	sid_verify_copies c;		/* one copy at 0 for the fp recipe */
	int32_t		track;			/* catalogue track, or -1 out of the catalogue */
	double		true_offset;
	int			out;			/* out of the catalogue */
	int32_t		first_example,
				n_examples;
	int			coarse_right;	/* the coarse stage's first candidate is the true track */
	int			found_true;		/* the true region is one of the coarse stage's candidates */
	int			coarse_accepts; /* the coarse rule accepts a candidate ... */
	int			coarse_accepts_right;	/* ... and the first it accepts is the true track */
} query;

typedef struct example
{
	int32_t		query;
	int32_t		track;
	double		offset;
	float		label;
	int32_t		copy;			/* the query's copy that found it */
	double		rate;			/* its fitted rate (ref_t = offset + rate x query_t) */
	int			accepted;		/* a coarse candidate the coarse rule accepts */
} example;

typedef struct part
{
	catalogue	cat;
	query	   *q;
	int32_t		nq;
	example    *ex;
	int32_t		nex,
				cap;
} part;

typedef struct vtrainer
{
	const sid_train_config *cfg;
	const sid_train_hooks *hooks;
	sid_model  *model;
	sid_embedder *emb[2];
	int			D;
	int32_t		rate;
	sid_augment_config aug;
	sid_augment_work *aug_work;
	sid_noise_store noise[2];	/* train, test part */
	int			sample;			/* query_recipe = sample */
	sid_manifest overlays;
	sid_noise_store drums[2];	/* train, test part of the overlay manifest */
	float		rule_coverage,
				rule_similarity;	/* the model's coarse rule (sid_model_coarse_rule) */
	sid_verifier *v;
	sid_verifier_work *work;
	float	   *pair_fp;		/* a pair's query side (sid_verifier_query_side) */
	double	   *pair_t;
	double		started;
} vtrainer;

static void
say(vtrainer *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(vtrainer *tr, const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	sid_train_vlog(tr->hooks, fmt, ap);
	va_end(ap);
}

static sid_status
embed(vtrainer *tr, const float *pcm, int64_t n, sid_embed_result *res, sid_error *err)
{
	return sid_embed_pcm_parallel(tr->emb, tr->cfg->threads, SID_DEVICE_CPU, pcm, n, res, err);
}

/* The middle catalogue_seconds of every track, embedded. */
static sid_status
catalogue_embed(vtrainer *tr, const sid_track_cache *tc, catalogue *c, sid_error *err)
{
	int64_t		span_max = (int64_t) llround(tr->cfg->catalogue_seconds * tr->rate);
	float	   *buf = malloc(sizeof(float) * (size_t) span_max);
	int64_t		total = 0;
	sid_status	rc = SID_OK;

	c->n_tracks = tc->n;
	c->dim = tr->D;
	c->first = calloc(tc->n + 1, sizeof(int64_t));
	c->span_lo = calloc(tc->n, sizeof(double));
	c->span_hi = calloc(tc->n, sizeof(double));
	if (!buf || !c->first || !c->span_lo || !c->span_hi)
		return sid_fail(err, SID_ENOMEM, "out of memory for the catalogue");
	for (int32_t k = 0; rc == SID_OK && k < tc->n; k++)
	{
		int64_t		len = tc->len[k] < span_max ? tc->len[k] : span_max,
					start = (tc->len[k] - len) / 2;
		sid_embed_result r;

		c->first[k] = total;
		c->first[k + 1] = total;
		if (len < tr->rate * 12)
			continue;			/* did not decode, or too short for a 10 s query */
		sid_pcm16_to_float(tc->pcm[k] + start, len, buf);
		if ((rc = embed(tr, buf, len, &r, err)) != SID_OK)
			break;
		c->fp = realloc(c->fp, sizeof(float) * (size_t) (total + r.n_segments) * tr->D);
		c->t = realloc(c->t, sizeof(double) * (size_t) (total + r.n_segments));
		if (!c->fp || !c->t)
		{
			sid_embed_result_free(&r);
			return sid_fail(err, SID_ENOMEM, "out of memory for the catalogue");
		}
		memcpy(c->fp + total * tr->D, r.fp, sizeof(float) * (size_t) r.n_segments * tr->D);
		for (int64_t s = 0; s < r.n_segments; s++)
			c->t[total + s] = r.t_start[s] + (double) start / tr->rate;
		total += r.n_segments;
		c->first[k + 1] = total;
		c->span_lo[k] = (double) start / tr->rate;
		c->span_hi[k] = (double) (start + len) / tr->rate;
		sid_embed_result_free(&r);
	}
	free(buf);
	return rc;
}

void
sid_verify_sample_draw(sid_rng *rng, const sid_noise_bank *music, const sid_noise_bank *drums,
					   sid_verify_treatment *t)
{
	sid_condition *c = &t->cond;
	float		u = sid_rng_uniform(rng),
				v;
	int			n_music = music ? (int) music->n : 0,
				n_drums = drums ? (int) drums->n : 0;

	memset(t, 0, sizeof(*t));
	c->tempo = 1;
	c->speed = 1;
	v = sid_rng_uniform(rng);
	if (u < 0.5f)
	{
		c->group = SID_COND_PITCH;
		c->semitones = -3.0 + 6.0 * v;
	}
	else if (u < 0.75f)
	{
		c->group = SID_COND_TEMPO;
		c->tempo = exp(log(0.8) + v * (log(1.2) - log(0.8)));
	}
	else
	{
		c->group = SID_COND_SPEED;
		c->speed = exp(log(0.85) + v * (log(1.15) - log(0.85)));
	}
	u = sid_rng_uniform(rng);
	v = sid_rng_uniform(rng);
	if (u < 2.0f / 3.0f && n_music + n_drums > 0)
	{
		int			drum = n_music == 0 || (n_drums > 0 && v < 0.5f);
		const sid_noise_bank *b = drum ? drums : music;

		c->overlay = drum ? SID_OVERLAY_DRUMS : SID_OVERLAY_MUSIC;
		c->group = c->group == SID_COND_PITCH ? SID_COND_PITCH_OVERLAY : SID_COND_OVERLAY;
		c->ratio_db = sid_rng_range(rng, 0.0f, 6.0f);
		t->clip = (size_t) sid_rng_below(rng, b->n);
		/* music clips are cut at random places already; a loop starts anywhere */
		if (drum && b->lengths[t->clip])
			t->clip_start = (size_t) sid_rng_below(rng, b->lengths[t->clip]);
	}
	snprintf(c->name, sizeof(c->name), "verify %s", sid_condition_group_name(c->group));
}

void
sid_verify_copies_free(sid_verify_copies *q)
{
	free(q->fp);
	free(q->t);
	q->fp = NULL;
	q->t = NULL;
}

sid_status
sid_verify_embed_copies(sid_embedder **emb, int threads, const float *pcm, int64_t n, int rate,
						int lo, int hi, sid_verify_copies *q, sid_error *err)
{
	float	   *copies[SID_TRANSPOSE_MAX_COPIES];
	int			count = hi - lo + 1;
	sid_status	rc = SID_OK;

	memset(q, 0, sizeof(*q));
	if (lo > 0 || hi < 0 || count > SID_TRANSPOSE_MAX_COPIES)
		return sid_fail(err, SID_EINVAL, "verify: copies %d .. %d semitones", lo, hi);
	if (count > 1 &&
		(rc = sid_transpose_copies(pcm, (size_t) n, rate, lo, hi, SID_STRETCH_FASTER, copies, err)) != SID_OK)
		return rc;
	for (int c = 0; rc == SID_OK && c < count; c++)
	{
		sid_embed_result r;

		if ((rc = sid_embed_pcm_parallel(emb, threads, SID_DEVICE_CPU, count > 1 ? copies[c] : pcm,
										 n, &r, err)) != SID_OK)
			break;
		if (c == 0)
		{
			q->nq = (int32_t) r.n_segments;
			q->dim = r.dim;
			q->t = r.t_start;
			r.t_start = NULL;
			q->fp = malloc(sizeof(float) * (size_t) count * q->nq * q->dim + 1);
			if (!q->fp)
				rc = sid_fail(err, SID_ENOMEM, "verify: out of memory for %d copies", count);
		}
		if (rc == SID_OK)
		{
			memcpy(q->fp + (size_t) c * q->nq * q->dim, r.fp, sizeof(float) * (size_t) q->nq * q->dim);
			q->shift[c] = lo + c;
			q->n_copies = c + 1;
		}
		sid_embed_result_free(&r);
	}
	if (count > 1)
		sid_transpose_copies_free(copies, count);
	if (rc != SID_OK)
		sid_verify_copies_free(q);
	return rc;
}

/* sampleid_identify's pooled order: accepted first, then most segments, then similarity. */
static int
cmp_candidate(const void *x, const void *y)
{
	const sid_verify_candidate *a = x,
			   *b = y;

	if (a->accepted != b->accepted)
		return a->accepted ? -1 : 1;
	if (a->a.segments != b->a.segments)
		return a->a.segments > b->a.segments ? -1 : 1;
	if (a->a.similarity != b->a.similarity)
		return a->a.similarity > b->a.similarity ? -1 : 1;
	return (a->copy > b->copy) - (a->copy < b->copy);
}

int32_t
sid_verify_coarse(const sid_verify_catalogue *c, const sid_verify_copies *q, double segment_seconds,
				  double hop_seconds, int sample_mode, float min_coverage, float min_similarity,
				  sid_verify_candidate *out, int32_t max_out)
{
	int64_t		nseg = c->first[c->n_tracks];
	int			D = q->dim,
				need = (int) ceil(min_coverage * q->nq - 1e-9);
	sid_vote   *votes = malloc(sizeof(sid_vote) * (size_t) (q->nq ? q->nq : 1) * COARSE_K);
	float	   *best = malloc(sizeof(float) * COARSE_K);
	int64_t    *arg = malloc(sizeof(int64_t) * COARSE_K);
	sid_verify_candidate *pool = malloc(sizeof(sid_verify_candidate) * (size_t) q->n_copies * MAX_CANDIDATES);
	int32_t		n_pool = 0,
				kept = 0;
	sid_align_params p;
	sid_error	err;

	if (need < (q->nq < 2 ? q->nq : 2))
		need = q->nq < 2 ? q->nq : 2;
	sid_align_params_default(&p, segment_seconds, hop_seconds);
	if (sample_mode)
	{
		p.rate_min = SID_ALIGN_SAMPLE_RATE_MIN;
		p.rate_max = SID_ALIGN_SAMPLE_RATE_MAX;
	}
	if (!votes || !best || !arg || !pool || D != c->dim)
		goto out;
	for (int32_t cp = 0; cp < q->n_copies; cp++)
	{
		const float *fp = q->fp + (size_t) cp * q->nq * D;
		sid_alignment al[MAX_CANDIDATES];
		int64_t		nv = 0;
		int32_t		n_al = 0;

		for (int j = 0; j < q->nq; j++)
		{
			int			nb = 0;
			int32_t		tk;

			for (int64_t s = 0; s < nseg; s++)
			{
				float		v = sid_dot(fp + (size_t) j * D, c->fp + (size_t) s * D, D);
				int			pos;

				if (nb == COARSE_K && v <= best[nb - 1])
					continue;
				pos = nb < COARSE_K ? nb++ : nb - 1;
				while (pos > 0 && best[pos - 1] < v)
				{
					best[pos] = best[pos - 1];
					arg[pos] = arg[pos - 1];
					pos--;
				}
				best[pos] = v;
				arg[pos] = s;
			}
			for (int b = 0; b < nb; b++)
			{
				for (tk = 0; c->first[tk + 1] <= arg[b]; tk++)
					;
				votes[nv++] = (sid_vote) {tk, j, (float) q->t[j], (float) c->t[arg[b]], best[b]};
			}
		}
		if (sid_align_votes(votes, nv, q->nq, &p, al, MAX_CANDIDATES, &n_al, &err) != SID_OK)
			n_al = 0;
		for (int i = 0; i < n_al; i++)
		{
			int32_t		t = (int32_t) al[i].recording;

			if (!sid_alignment_clamp(&al[i], c->span_lo[t], c->span_hi[t] + 0.0))
				continue;
			pool[n_pool].a = al[i];
			pool[n_pool].copy = cp;
			pool[n_pool].accepted = al[i].segments >= need && al[i].similarity >= min_similarity;
			n_pool++;
		}
	}
	/* the fp recipe keeps the alignment's order, as its shipped verifier was trained */
	if (sample_mode)
		qsort(pool, n_pool, sizeof(*pool), cmp_candidate);
	if (n_pool > MAX_CANDIDATES)
		n_pool = MAX_CANDIDATES;
	for (int32_t i = 0; i < n_pool && kept < max_out; i++)
	{
		int			repeat = 0;

		for (int32_t j = 0; sample_mode && j < kept && !repeat; j++)
			repeat = sid_alignment_same_use(&out[j].a, &pool[i].a);
		if (!repeat)
			out[kept++] = pool[i];
	}
out:
	free(votes);
	free(best);
	free(arg);
	free(pool);
	return kept;
}

static sid_status
add_example(part *pt, int32_t query, int32_t track, double offset, float label, int32_t copy,
			double rate, int accepted, sid_error *err)
{
	if (pt->nex == pt->cap)
	{
		pt->cap = pt->cap ? 2 * pt->cap : 1024;
		pt->ex = realloc(pt->ex, sizeof(example) * pt->cap);
		if (!pt->ex)
			return sid_fail(err, SID_ENOMEM, "out of memory for the examples");
	}
	pt->ex[pt->nex++] = (example) {query, track, offset, label, copy, rate, accepted};
	return SID_OK;
}

/*
 * Music to lay over the sample recipe's queries: one seeded clip of every
 * out-of-catalogue track of the part, so an overlay is never a catalogue
 * recording.
 */
static sid_status
music_clips(vtrainer *tr, const sid_track_cache *out, uint64_t stream0, sid_noise_store *s,
			sid_error *err)
{
	size_t		clip_len = (size_t) MUSIC_CLIP_SECONDS * tr->rate;

	memset(s, 0, sizeof(*s));
	s->clips = calloc(out->n + 1, sizeof(float *));
	s->len = calloc(out->n + 1, sizeof(size_t));
	if (!s->clips || !s->len)
		return sid_fail(err, SID_ENOMEM, "verify: out of memory for music clips");
	s->bank.clips = (const float *const *) s->clips;
	s->bank.lengths = s->len;
	for (int32_t k = 0; k < out->n; k++)
	{
		sid_rng		rng;
		size_t		at;

		if ((size_t) out->len[k] <= clip_len)
			continue;
		sid_rng_init(&rng, tr->cfg->seed, stream0 + (uint64_t) k);
		at = (size_t) sid_rng_below(&rng, (uint64_t) out->len[k] - clip_len);
		if (!(s->clips[s->bank.n] = malloc(clip_len * sizeof(float))))
			return sid_fail(err, SID_ENOMEM, "verify: out of memory for music clips");
		sid_pcm16_to_float(out->pcm[k] + at, (int64_t) clip_len, s->clips[s->bank.n]);
		s->len[s->bank.n++] = clip_len;
	}
	return SID_OK;
}

/*
 * The copy that undoes a treatment's pitch (a speed change moves pitch by
 * 12 log2 speed), within the copies searched.
 */
static int32_t
inverse_copy(const sid_condition *c)
{
	long		s = lround(-(c->semitones + 12.0 * log2(c->speed)));

	if (s < -SID_SAMPLE_MODE_SEMITONES)
		s = -SID_SAMPLE_MODE_SEMITONES;
	if (s > SID_SAMPLE_MODE_SEMITONES)
		s = SID_SAMPLE_MODE_SEMITONES;
	return (int32_t) s + SID_SAMPLE_MODE_SEMITONES;
}

/*
 * Queries of one part: positives of every catalogue track, then out-of-
 * catalogue ones of every other track; their candidates become examples.
 */
static sid_status
make_queries(vtrainer *tr, part *pt, const sid_track_cache *cat, const sid_track_cache *out,
			 int test_part, uint64_t stream0, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	int			per = cfg->queries_per_track;
	int32_t		nq_max = (cat->n + out->n) * per;
	int64_t		maxlen = 10 * tr->rate,
				preroll = (int64_t) tr->aug.max_preroll,
				lead_max = (int64_t) ceil(SID_CONDITION_LEAD_SECONDS * tr->rate * SID_CONDITION_MAX_SOURCE) + 1,
				span_max = 2 * lead_max + (int64_t) ceil(maxlen * SID_CONDITION_MAX_SOURCE) + 2,
				before = tr->sample ? lead_max : preroll,
				after = tr->sample ? span_max - lead_max : maxlen;
	float	   *in = malloc(sizeof(float) * (size_t) (span_max > maxlen + preroll ? span_max : maxlen + preroll)),
			   *view = malloc(sizeof(float) * (size_t) maxlen);
	const sid_noise_bank *bank = &tr->noise[test_part].bank;
	const sid_noise_bank *drums = &tr->drums[test_part].bank;
	sid_noise_store music;
	int			lo = tr->sample ? -SID_SAMPLE_MODE_SEMITONES : 0,
				hi = -lo;
	double		seg_s = tr->model->features.segment_seconds,
				hop_s = tr->model->features.segment_hop_seconds;
	sid_status	rc = SID_OK;

	memset(&music, 0, sizeof(music));
	pt->q = calloc(nq_max, sizeof(query));
	if (!in || !view || !pt->q)
		rc = sid_fail(err, SID_ENOMEM, "out of memory for the queries");
	if (rc == SID_OK && tr->sample)
		rc = music_clips(tr, out, STREAM_MUSIC_CLIPS * (test_part + 1), &music, err);
	tr->aug.part = test_part ? SID_PART_TEST : SID_PART_TRAIN;
	for (int32_t k = 0; rc == SID_OK && k < cat->n + out->n; k++)
	{
		int			is_out = k >= cat->n;
		int32_t		tk = is_out ? k - cat->n : k;
		const sid_track_cache *tc = is_out ? out : cat;

		if (!is_out && pt->cat.first[tk + 1] == pt->cat.first[tk])
			continue;
		if (tc->len[tk] < maxlen + preroll + tr->rate || tc->len[tk] < before + after + tr->rate)
			continue;
		for (int i = 0; rc == SID_OK && i < per; i++)
		{
			query	   *q = &pt->q[pt->nq];
			sid_rng		rng;
			int64_t		len = (i % 2 ? 10 : 3) * (int64_t) tr->rate,
						lo_s,
						hi_s,
						start;
			sid_augment_plan plan;
			sid_verify_treatment treat;
			sid_verify_candidate cand[MAX_CANDIDATES];
			int			n_al,
						degrade = !is_out || i % 4 >= 2;
			double		src_rate = 1.0;

			sid_rng_init(&rng, cfg->seed, stream0 + (uint64_t) k * per + i);
			if (tr->sample)
			{
				sid_verify_sample_draw(&rng, &music.bank, drums, &treat);
				src_rate = treat.cond.speed * treat.cond.tempo;
			}
			if (is_out)
			{
				lo_s = before;
				hi_s = tc->len[tk] - (tr->sample ? after : len);
			}
			else
			{
				lo_s = (int64_t) (pt->cat.span_lo[tk] * tr->rate);
				/* the reference the query plays, inside the catalogue's span */
				hi_s = (int64_t) (pt->cat.span_hi[tk] * tr->rate) - (int64_t) ceil(len * src_rate);
				if (lo_s < before)
					lo_s = before;
				if (tr->sample && hi_s > tc->len[tk] - after)
					hi_s = tc->len[tk] - after;
			}
			if (hi_s <= lo_s)
				continue;
			start = lo_s + (int64_t) sid_rng_below(&rng, (uint64_t) (hi_s - lo_s));
			if (tr->sample)
				sid_pcm16_to_float(tc->pcm[tk] + start - before, before + after, in);
			else
				sid_pcm16_to_float(tc->pcm[tk] + start - preroll, len + preroll, in);
			if (is_out && cfg->noise_queries_every > 0 && i % cfg->noise_queries_every == cfg->noise_queries_every - 1)
			{
				/*
				 * Steady noise that the content gate lets through must not
				 * pass the verifier either: white, pink or brown, -3 to -33
				 * dB below a full-scale sine.
				 */
				float		level = 0.7f * powf(10.0f, -sid_rng_range(&rng, 3.0f, 33.0f) / 20.0f);

				if ((rc = sid_noise_synth(view, (size_t) len, (sid_noise_kind) (i / cfg->noise_queries_every % 3), (float) tr->rate,
										  &rng, err)) != SID_OK)
					break;
				for (int64_t x = 0; x < len; x++)
					view[x] *= level;
			}
			else if (degrade && tr->sample)
			{
				const sid_condition *c = &treat.cond;
				size_t		lead = sid_condition_lead(c, tr->rate);

				rc = sid_condition_apply(c, c->overlay == SID_OVERLAY_DRUMS ? drums : &music.bank,
										 treat.clip, treat.clip_start, in + before - (int64_t) lead,
										 tr->rate, view, (size_t) len, err);
				if (rc != SID_OK)
					break;
			}
			else if (degrade)
			{
				sid_augment_draw(&tr->aug, bank, &rng, (size_t) len, &plan);
				if ((rc = sid_augment_run(tr->aug_work, bank, &plan, in, (size_t) preroll, view,
										  (size_t) len, err)) != SID_OK)
					break;
			}
			else
				memcpy(view, in + (tr->sample ? before : preroll), sizeof(float) * (size_t) len);
			if (!degrade || !tr->sample)
				src_rate = 1.0;
			if ((rc = sid_verify_embed_copies(tr->emb, cfg->threads, view, len, tr->rate, lo, hi, &q->c,
											  err)) != SID_OK)
				break;
			q->out = is_out;
			q->track = is_out ? -1 : tk;
			q->true_offset = (double) start / tr->rate;
			q->first_example = pt->nex;
			n_al = sid_verify_coarse(&pt->cat, &q->c, seg_s, hop_s, tr->sample, tr->rule_coverage,
									 tr->rule_similarity, cand, MAX_CANDIDATES);
			q->coarse_right = n_al > 0 && !is_out && cand[0].a.recording == tk;
			q->coarse_accepts = n_al > 0 && cand[0].accepted;
			q->coarse_accepts_right = q->coarse_accepts && q->coarse_right;
			if (!is_out)
			{
				double		off = q->true_offset,
							rate = src_rate;
				int32_t		copy = tr->sample ? inverse_copy(&treat.cond) : 0;
				int			accepted = 0;

				for (int a = 0; a < n_al; a++)
					if (cand[a].a.recording == tk && fabs(cand[a].a.offset - q->true_offset) <= 1.0)
					{
						off = cand[a].a.offset;
						rate = cand[a].a.rate;
						copy = cand[a].copy;
						accepted = cand[a].accepted;
						q->found_true = 1;
						break;
					}
				rc = add_example(pt, pt->nq, tk, off, 1.0f, copy, rate, accepted, err);
			}
			/*
			 * Other offsets of the true track are left out: a repeated
			 * section is the same audio, and naming the recording is what
			 * counts.
			 */
			for (int a = 0, neg = 0; rc == SID_OK && a < n_al && neg < NEGATIVES_PER_QUERY; a++)
			{
				if (!is_out && cand[a].a.recording == tk)
					continue;
				rc = add_example(pt, pt->nq, (int32_t) cand[a].a.recording, cand[a].a.offset, 0.0f,
								 cand[a].copy, cand[a].a.rate, cand[a].accepted, err);
				neg++;
			}
			q->n_examples = pt->nex - q->first_example;
			pt->nq++;
		}
	}
	sid_noise_store_free(&music);
	free(in);
	free(view);
	return rc;
}

/*
 * The pair an example stands for: its copy of the query, at its rate, and
 * the candidate's region, as sampleid_identify builds it.
 */
static void
example_pair(const vtrainer *tr, const part *pt, const example *e, sid_verifier_pair *p)
{
	const query *q = &pt->q[e->query];
	const catalogue *c = &pt->cat;
	const sid_verifier_config *vc = &tr->v->cfg;
	double		lo,
				hi;
	int64_t		a = c->first[e->track],
				b = c->first[e->track + 1];
	int32_t		nq = sid_verifier_query_side(vc, q->c.fp + (size_t) e->copy * q->c.nq * tr->D, q->c.t,
											 NULL, q->c.nq, 0.0, INFINITY, e->rate, tr->pair_fp, tr->pair_t);

	sid_verifier_region(vc, tr->pair_t, nq, e->offset, &lo, &hi);
	while (a < b && c->t[a] < lo)
		a++;
	while (b > a && c->t[b - 1] > hi)
		b--;
	if (b - a > vc->max_candidate_segments)
		b = a + vc->max_candidate_segments;
	*p = (sid_verifier_pair) {tr->pair_fp, tr->pair_t, nq, c->fp + a * tr->D, c->t + a, (int32_t) (b - a), e->offset};
}

typedef struct val_result
{
	double		loss;
	float		threshold;		/* <= 1 % of the out-of-catalogue queries pass */
	double		kept;			/* share of the coarse stage's correct answers kept there */
	double		false_accepts;
	double		top1_before,
				top1_after;		/* in-catalogue queries */
	double		coarse_kept,
				coarse_false_accepts;	/* the model's coarse rule on the same set */
	double		both_kept,
				both_false_accepts; /* the coarse rule, then the verifier at the threshold */
	double		coarse_right_share,
				both_right_share;	/* of all in-catalogue queries: the right recording accepted first */
} val_result;

static int
cmp_float_desc(const void *x, const void *y)
{
	float		a = *(const float *) x,
				b = *(const float *) y;

	return (a < b) - (a > b);
}

static void
validate(vtrainer *tr, const part *pt, val_result *res)
{
	float	   *prob = malloc(sizeof(float) * (pt->nex ? pt->nex : 1));
	float	   *out_best = malloc(sizeof(float) * (pt->nq ? pt->nq : 1));
	int32_t		n_out = 0,
				n_in = 0,
				right_before = 0,
				right_after = 0,
				kept = 0,
				fa = 0,
				ckept = 0,
				cfa = 0,
				bkept = 0,
				bfa = 0,
				n_right = 0,
				c_right_all = 0,
				b_right_all = 0;
	double		loss = 0.0;
	sid_verifier_pair p;

	for (int32_t i = 0; i < pt->nex; i++)
	{
		float		logit,
					y = pt->ex[i].label;

		example_pair(tr, pt, &pt->ex[i], &p);
		logit = sid_verifier_forward(&tr->v->cfg, tr->v->params, tr->work, &p);
		prob[i] = 1.0f / (1.0f + expf(-logit));
		loss += sid_bce_logits(NULL, &logit, &y, 1);
	}
	for (int32_t k = 0; k < pt->nq; k++)
		if (pt->q[k].out)
		{
			float		m = 0.0f;

			for (int32_t i = 0; i < pt->q[k].n_examples; i++)
				m = fmaxf(m, prob[pt->q[k].first_example + i]);
			out_best[n_out++] = m;
			cfa += pt->q[k].coarse_accepts;
		}
	qsort(out_best, n_out, sizeof(float), cmp_float_desc);
	/* the smallest threshold above all but 1 % of them */
	{
		int32_t		allowed = (int32_t) floor(0.01 * n_out);

		res->threshold = n_out > allowed ? nextafterf(out_best[allowed], 2.0f) : 0.5f;
		if (res->threshold > 1.0f)
			res->threshold = 1.0f;
	}
	for (int32_t k = 0; k < pt->nq; k++)
	{
		const query *q = &pt->q[k];
		int32_t		best = -1,
					best_both = -1;

		for (int32_t i = q->first_example; i < q->first_example + q->n_examples; i++)
		{
			if (best < 0 || prob[i] > prob[best])
				best = i;
			/* what sample mode answers: accepted by the coarse rule, then by the verifier */
			if (pt->ex[i].accepted && prob[i] >= res->threshold && (best_both < 0 || prob[i] > prob[best_both]))
				best_both = i;
		}
		if (q->out)
		{
			for (int32_t i = 0; i < q->n_examples; i++)
				if (prob[q->first_example + i] >= res->threshold)
				{
					fa++;
					break;
				}
			bfa += best_both >= 0;
			continue;
		}
		n_in++;
		right_before += q->coarse_right;
		c_right_all += q->coarse_accepts_right;
		b_right_all += best_both >= 0 && pt->ex[best_both].label > 0.5f && q->found_true;

		/*
		 * The positive is the true region even where the coarse stage did
		 * not find it; only the coarse stage's candidates count here.
		 */
		if (best >= 0 && pt->ex[best].label > 0.5f && q->found_true)
			right_after++;
		if (q->coarse_right)
		{
			n_right++;
			kept += best >= 0 && pt->ex[best].label > 0.5f && prob[best] >= res->threshold;
			ckept += q->coarse_accepts_right;
			bkept += best_both >= 0 && pt->ex[best_both].label > 0.5f && q->found_true;
		}
	}
	res->loss = pt->nex ? loss / pt->nex : 0.0;
	res->kept = n_right ? (double) kept / n_right : 0.0;
	res->false_accepts = n_out ? (double) fa / n_out : 0.0;
	res->top1_before = n_in ? (double) right_before / n_in : 0.0;
	res->top1_after = n_in ? (double) right_after / n_in : 0.0;
	res->coarse_kept = n_right ? (double) ckept / n_right : 0.0;
	res->coarse_false_accepts = n_out ? (double) cfa / n_out : 0.0;
	res->both_kept = n_right ? (double) bkept / n_right : 0.0;
	res->both_false_accepts = n_out ? (double) bfa / n_out : 0.0;
	res->coarse_right_share = n_in ? (double) c_right_all / n_in : 0.0;
	res->both_right_share = n_in ? (double) b_right_all / n_in : 0.0;
	free(prob);
	free(out_best);
}

static sid_status
load_part(vtrainer *tr, sid_manifest *m, const char *split, int32_t n_cat, int32_t n_out, part *pt,
		  int test_part, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	char		cat_split[SID_SPLIT_NAME_MAX],
				out_split[SID_SPLIT_NAME_MAX];
	sid_track_cache cat,
				out;
	int32_t		seen = 0;
	sid_status	rc;
	double		t0 = sid_clock_seconds(CLOCK_MONOTONIC);

	/* every other eligible track is a catalogue track, until each side has its count */
	snprintf(cat_split, sizeof(cat_split), "v-%s-cat", test_part ? "val" : "trn");
	snprintf(out_split, sizeof(out_split), "v-%s-out", test_part ? "val" : "trn");
	for (size_t i = 0; i < m->n; i++)
	{
		sid_manifest_entry *e = &m->entries[i];

		if (strcmp(e->split, split) != 0 || e->duration_s < 30.0 ||
			(cfg->exclude_package[0] && strcmp(e->package, cfg->exclude_package) == 0))
			continue;
		if (seen % 2 == 0 && n_cat > 0)
		{
			snprintf(e->split, sizeof(e->split), "%s", cat_split);
			n_cat--;
		}
		else if (n_out > 0)
		{
			snprintf(e->split, sizeof(e->split), "%s", out_split);
			n_out--;
		}
		seen++;
	}
	memset(&cat, 0, sizeof(cat));
	memset(&out, 0, sizeof(out));
	rc = sid_track_cache_load(&cat, m, cat_split, 0, cfg->data_dir, cfg->cache_dir, tr->rate, cfg->threads, err);
	if (rc == SID_OK)
		rc = sid_track_cache_load(&out, m, out_split, 0, cfg->data_dir, cfg->cache_dir, tr->rate, cfg->threads, err);
	if (rc == SID_OK)
		say(tr, "%s: %d catalogue and %d out-of-catalogue tracks decoded in %.1f s", split, cat.n, out.n,
			sid_clock_seconds(CLOCK_MONOTONIC) - t0);
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	if (rc == SID_OK)
		rc = catalogue_embed(tr, &cat, &pt->cat, err);
	if (rc == SID_OK)
		say(tr, "%s: catalogue of %lld segments embedded in %.1f s", split,
			(long long) pt->cat.first[pt->cat.n_tracks], sid_clock_seconds(CLOCK_MONOTONIC) - t0);
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	if (rc == SID_OK)
		rc = make_queries(tr, pt, &cat, &out, test_part, STREAM_QUERY * (test_part + 1), err);
	if (rc == SID_OK)
	{
		int32_t		pos = 0;

		for (int32_t i = 0; i < pt->nex; i++)
			pos += pt->ex[i].label > 0.5f;
		say(tr, "%s: %d queries, %d examples (%d positive, %d negative) made in %.1f s", split, pt->nq,
			pt->nex, pos, pt->nex - pos, sid_clock_seconds(CLOCK_MONOTONIC) - t0);
	}
	sid_track_cache_free(&cat);
	sid_track_cache_free(&out);
	return rc;
}

static void
part_free(part *pt)
{
	for (int32_t k = 0; k < pt->nq; k++)
		sid_verify_copies_free(&pt->q[k].c);
	free(pt->q);
	free(pt->ex);
	free(pt->cat.first);
	free(pt->cat.fp);
	free(pt->cat.t);
	free(pt->cat.span_lo);
	free(pt->cat.span_hi);
}

static int32_t
n_out_queries(const part *pt)
{
	int32_t		n = 0;

	for (int32_t k = 0; k < pt->nq; k++)
		n += pt->q[k].out;
	return n;
}

static sid_status
train_loop(vtrainer *tr, part *trn, part *val, sid_error *err)
{
	const sid_train_config *cfg = tr->cfg;
	size_t		np = tr->v->num_params;
	float	   *grad = calloc(np, sizeof(float)),
			   *m = calloc(np, sizeof(float)),
			   *vv = calloc(np, sizeof(float));
	int32_t    *pos = malloc(sizeof(int32_t) * (trn->nex ? trn->nex : 1)),
			   *neg = malloc(sizeof(int32_t) * (trn->nex ? trn->nex : 1)),
				npos = 0,
				nneg = 0;
	sid_adam_config ac;
	double		best_kept = -1.0,
				loss_sum = 0.0,
				t_steps = 0.0;
	sid_status	rc = SID_OK;
	val_result	vr;

	if (!grad || !m || !vv || !pos || !neg)
		return sid_fail(err, SID_ENOMEM, "out of memory for training");
	for (int32_t i = 0; i < trn->nex; i++)
	{
		if (trn->ex[i].label > 0.5f)
			pos[npos++] = i;
		else
			neg[nneg++] = i;
	}
	if (npos == 0 || nneg == 0)
		return sid_fail(err, SID_EINVAL, "verify: the training set needs positives and negatives (%d, %d)", npos, nneg);
	sid_adam_default_config(&ac, cfg->steps);
	ac.lr = cfg->lr;
	ac.lr_min = cfg->lr_min;
	ac.warmup_steps = cfg->warmup_steps;
	ac.weight_decay = cfg->weight_decay;
	ac.clip_norm = cfg->clip_norm;
	validate(tr, val, &vr);
	say(tr, "validation before training: %d queries (%d out of the catalogue), loss %.4f; coarse rule (%.2f, %.2f): kept %.1f %%, false accepts %.2f %%; top-1 coarse %.1f %%",
		val->nq, n_out_queries(val), vr.loss, tr->rule_coverage, tr->rule_similarity, 100 * vr.coarse_kept,
		100 * vr.coarse_false_accepts, 100 * vr.top1_before);
	for (int32_t step = 0; step < cfg->steps; step++)
	{
		double		t0 = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
		double		loss = 0.0;
		sid_rng		rng;

		if (tr->hooks && tr->hooks->stop && *tr->hooks->stop)
		{
			say(tr, "stopped at step %d", step);
			break;
		}
		sid_rng_init(&rng, cfg->seed, STREAM_BATCH + (uint64_t) step);
		memset(grad, 0, sizeof(float) * np);
		for (int b = 0; b < cfg->pairs; b++)
		{
			int32_t		i = b % 2 == 0 ? pos[sid_rng_below(&rng, npos)] : neg[sid_rng_below(&rng, nneg)];
			sid_verifier_pair p;
			float		logit,
						y = trn->ex[i].label,
						dl;

			example_pair(tr, trn, &trn->ex[i], &p);
			logit = sid_verifier_forward(&tr->v->cfg, tr->v->params, tr->work, &p);
			loss += sid_bce_logits(&dl, &logit, &y, 1);
			sid_verifier_backward(&tr->v->cfg, tr->v->params, tr->work, &p, dl / cfg->pairs, grad);
		}
		sid_adam_step(tr->v->params, grad, m, vv, np, &ac, step);
		t_steps += sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - t0;
		loss_sum += loss / cfg->pairs;
		if ((step + 1) % cfg->log_every == 0)
		{
			say(tr, "step %d/%d  loss %.4f  lr %.2e  %.1f ms CPU per step", step + 1, cfg->steps,
				loss_sum / cfg->log_every, sid_adam_lr(&ac, step), 1000.0 * t_steps / (step + 1));
			loss_sum = 0.0;
		}
		if ((cfg->val_every > 0 && (step + 1) % cfg->val_every == 0) || step + 1 == cfg->steps)
		{
			validate(tr, val, &vr);
			say(tr, "validation at step %d: loss %.4f; threshold %.4f for <= 1 %% false accepts: kept %.1f %% (false accepts %.2f %%); coarse rule: kept %.1f %%, false accepts %.2f %%; coarse rule then verifier: kept %.1f %%, false accepts %.2f %%; right recording accepted first, of all in-catalogue queries: coarse rule %.1f %%, then verifier %.1f %%; top-1 %.1f %% -> %.1f %%",
				step + 1, vr.loss, vr.threshold, 100 * vr.kept, 100 * vr.false_accepts,
				100 * vr.coarse_kept, 100 * vr.coarse_false_accepts, 100 * vr.both_kept,
				100 * vr.both_false_accepts, 100 * vr.coarse_right_share, 100 * vr.both_right_share,
				100 * vr.top1_before, 100 * vr.top1_after);
			/* sample mode answers by the coarse rule, then the verifier: that is what counts there */
			double		score = tr->sample ? vr.both_kept : vr.kept;

			if (score > best_kept && cfg->best_model[0])
			{
				best_kept = score;
				tr->v->threshold = vr.threshold;
				tr->v->flags = SID_VERIFIER_TRAINED;
				snprintf(tr->v->note, sizeof(tr->v->note),
						 "sampleid train (recipe verify%s), seed %llu, step %d of %d, batch %d; validation: threshold %.4f keeps %.1f %% at %.2f %% false accepts",
						 tr->sample ? ", sample queries" : "", (unsigned long long) cfg->seed, step + 1,
						 cfg->steps, cfg->pairs, vr.threshold, 100 * vr.kept, 100 * vr.false_accepts);
				if ((rc = sid_verifier_save(tr->v, cfg->best_model, err)) != SID_OK)
					break;
				say(tr, "wrote %s (%s)", cfg->best_model, tr->v->note);
			}
		}
	}
	free(grad);
	free(m);
	free(vv);
	free(pos);
	free(neg);
	return rc;
}

sid_status
sid_verify_train_run(const sid_train_config *cfg, const sid_train_hooks *hooks, sid_error *err)
{
	vtrainer	tr;
	sid_manifest music,
				noise;
	part		trn,
				val;
	sid_verifier_config vc;
	sid_status	rc;

	memset(&tr, 0, sizeof(tr));
	memset(&trn, 0, sizeof(trn));
	memset(&val, 0, sizeof(val));
	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	tr.cfg = cfg;
	tr.hooks = hooks;
	tr.started = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	sid_nn_set_threads(1);
	if (!(tr.model = sid_model_load(cfg->fp_model, err)))
		return SID_EINVAL;
	tr.D = tr.model->enc->cfg.embed_dim;
	tr.rate = tr.model->features.sample_rate;
	tr.sample = strcmp(cfg->query_recipe, "sample") == 0;
	sid_manifest_init(&tr.overlays);
	sid_model_coarse_rule(tr.model, &tr.rule_coverage, &tr.rule_similarity);
	for (int i = 0; i < cfg->threads; i++)
		if (!(tr.emb[i] = sid_embedder_create(tr.model, tr.model->features.segment_hop_seconds, 32, err)))
			goto done;
	sid_augment_config_default(&tr.aug, (float) tr.rate, (size_t) (10 * tr.rate) + 1);
	tr.aug.p_noise = cfg->p_noise;
	tr.aug.p_synthetic = cfg->p_synthetic;
	tr.aug.snr_min_db = cfg->snr_min_db;
	tr.aug.snr_max_db = cfg->snr_max_db;
	tr.aug.p_reverb = cfg->p_reverb;
	tr.aug.p_eq = cfg->p_eq;
	tr.aug.gain_min_db = cfg->gain_min_db;
	tr.aug.gain_max_db = cfg->gain_max_db;
	if (!(tr.aug_work = sid_augment_work_create(&tr.aug, err)))
		goto done;
	if ((rc = sid_manifest_read(cfg->manifest, &music, err)) != SID_OK)
		goto done;
	if (cfg->noise_manifest[0])
	{
		if ((rc = sid_manifest_read(cfg->noise_manifest, &noise, err)) != SID_OK ||
			(rc = sid_noise_store_load(&tr.noise[0], &noise, "train", cfg->data_dir, tr.rate, err)) != SID_OK ||
			(rc = sid_noise_store_load(&tr.noise[1], &noise, "test", cfg->data_dir, tr.rate, err)) != SID_OK)
			goto done;
	}
	if (tr.sample && cfg->overlay_manifest[0])
	{
		if ((rc = sid_manifest_read(cfg->overlay_manifest, &tr.overlays, err)) != SID_OK ||
			(rc = sid_drum_loops_load(&tr.drums[0], &tr.overlays, "train", cfg->data_dir, tr.rate, err)) != SID_OK ||
			(rc = sid_drum_loops_load(&tr.drums[1], &tr.overlays, "test", cfg->data_dir, tr.rate, err)) != SID_OK)
			goto done;
	}
	sid_verifier_config_default(&vc, tr.D);
	if (!(tr.v = sid_verifier_new(cfg->model_name, &vc, cfg->seed, err)) ||
		!(tr.work = sid_verifier_work_create(&vc, err)))
		goto done;
	tr.pair_fp = malloc(sizeof(float) * (size_t) vc.max_query_segments * tr.D);
	tr.pair_t = malloc(sizeof(double) * (size_t) vc.max_query_segments);
	if (!tr.pair_fp || !tr.pair_t)
	{
		sid_fail(err, SID_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(tr.v->encoder_sha256, sizeof(tr.v->encoder_sha256), "%s", tr.model->sha256);
	say(&tr, "verifier: %zu parameters; frozen encoder %s (%s)", tr.v->num_params,
		cfg->fp_model, tr.model->sha256);
	if (tr.sample)
		say(&tr, "queries: sample (copies %d .. %d semitones, tempo-tolerant alignment; %zu + %zu drum loops); coarse rule %.2f / %.2f",
			-SID_SAMPLE_MODE_SEMITONES, SID_SAMPLE_MODE_SEMITONES, tr.drums[0].bank.n, tr.drums[1].bank.n,
			tr.rule_coverage, tr.rule_similarity);
	if ((rc = load_part(&tr, &music, cfg->train_split, cfg->catalogue_tracks, cfg->out_tracks, &trn, 0, err)) != SID_OK ||
		(rc = load_part(&tr, &music, cfg->val_split, cfg->val_catalogue_tracks, cfg->val_out_tracks, &val, 1, err)) != SID_OK)
		goto done;
	say(&tr, "data made in %.1f CPU-s of this process", sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - tr.started);
	rc = train_loop(&tr, &trn, &val, err);
	say(&tr, "done: %.1f CPU-s of this process in all", sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - tr.started);
	part_free(&trn);
	part_free(&val);
	goto cleanup;
done:
	rc = err->code ? err->code : SID_EINVAL;
	part_free(&trn);
	part_free(&val);
cleanup:
	free(tr.pair_fp);
	free(tr.pair_t);
	sid_noise_store_free(&tr.drums[0]);
	sid_noise_store_free(&tr.drums[1]);
	sid_manifest_free(&tr.overlays);
	sid_verifier_work_free(tr.work);
	sid_verifier_free(tr.v);
	sid_augment_work_free(tr.aug_work);
	sid_noise_store_free(&tr.noise[0]);
	sid_noise_store_free(&tr.noise[1]);
	for (int i = 0; i < 2; i++)
		sid_embedder_free(tr.emb[i]);
	sid_model_free(tr.model);
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	return rc;
}
