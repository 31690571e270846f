/*
 * test_verify_queries.c - the sample recipe of the verifier's trainer
 * (train/sid_verify_train.h, query_recipe = sample) with known answers:
 * the treatments it draws stay in their ranges and mix as documented; the
 * verifier's query side at a fitted rate makes the candidate region as much
 * longer or shorter as the tempo (within 1 %); and, with the shipped sample
 * encoder over a catalogue of synthetic tracks, a query transposed by +2
 * semitones is found by its copy at -2 (the inverse shift) at its true
 * offset, every copy as long as the query, and a query played 1.2x as fast
 * is found at its true offset with a fitted rate within 3 % of 1.2 (the
 * alignment's fit over 19 segments), the region the verifier reads holding
 * the reference the query plays.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/sid_audio.h"
#include "model/sid_model.h"
#include "model/sid_verifier.h"
#include "train/sid_verify_train.h"
#include "synth_corpus.h"
#include "tap.h"

#define SR 16000
#define MODEL "models/sample.sidm"
#define TRACKS 3
#define TRACK_SECONDS 40

static void
test_draw(void)
{
	static const float clip[4] = {0};
	const float *clips[2] = {clip, clip};
	size_t		lens[2] = {4, 4};
	sid_noise_bank music = {clips, lens, 2},
				drums = {clips, lens, 1},
				none = {NULL, NULL, 0};
	sid_rng		rng;
	int			n = 3000,
				pitch = 0,
				tempo = 0,
				speed = 0,
				over = 0,
				over_drums = 0,
				bad = 0,
				none_over = 0;
	sid_error	err;

	sid_rng_init(&rng, 7, 1);
	for (int i = 0; i < n; i++)
	{
		sid_verify_treatment t;
		const sid_condition *c = &t.cond;

		sid_verify_sample_draw(&rng, &music, &drums, &t);
		pitch += c->semitones != 0;
		tempo += c->tempo != 1;
		speed += c->speed != 1;
		bad += (c->semitones != 0) + (c->tempo != 1) + (c->speed != 1) != 1;
		bad += fabs(c->semitones) > 3 || c->tempo < 0.8 - 1e-9 || c->tempo > 1.2 + 1e-9 ||
			c->speed < 0.85 - 1e-9 || c->speed > 1.15 + 1e-9;
		bad += sid_condition_check(c, &err) != SID_OK;
		if (c->overlay != SID_OVERLAY_NONE)
		{
			over++;
			over_drums += c->overlay == SID_OVERLAY_DRUMS;
			bad += c->ratio_db < 0 || c->ratio_db > 6 ||
				t.clip >= (c->overlay == SID_OVERLAY_DRUMS ? drums.n : music.n) ||
				t.clip_start >= 4;
		}
		sid_verify_sample_draw(&rng, &none, &none, &t);
		none_over += t.cond.overlay != SID_OVERLAY_NONE;
	}
	CHECK(bad == 0, "every treatment is one transform in range, checked, its overlay in range (%d bad)", bad);
	CHECK(fabs(pitch / (double) n - 0.5) < 0.04 && fabs(tempo / (double) n - 0.25) < 0.04 &&
		  fabs(speed / (double) n - 0.25) < 0.04,
		  "pitch, tempo, speed: %d, %d, %d of %d (1/2, 1/4, 1/4)", pitch, tempo, speed, n);
	CHECK(fabs(over / (double) n - 2.0 / 3.0) < 0.04 && fabs(over_drums / (double) over - 0.5) < 0.05,
		  "overlays %d of %d (2/3), drums %d of them (1/2)", over, n, over_drums);
	CHECK(none_over == 0, "no overlay without clips (%d)", none_over);
}

/* The candidate region at a fitted rate spans rate x the query's span. */
static void
test_region_rate(void)
{
	sid_verifier_config cfg;
	float		fp[19 * 4] = {0},
				out_fp[64 * 4];
	double		t[19],
				out_t[64];
	bool		content[19];

	sid_verifier_config_default(&cfg, 4);
	for (int j = 0; j < 19; j++)
	{
		t[j] = 0.5 * j;
		content[j] = j != 3;
	}
	for (int r = 0; r < 3; r++)
	{
		double		rate = (double[]) {0.8, 1.0, 1.25}[r],
					lo,
					hi;
		int32_t		nq = sid_verifier_query_side(&cfg, fp, t, content, 19, 0, 9, rate, out_fp, out_t);
		double		span = hi = 0;

		sid_verifier_region(&cfg, out_t, nq, 30.0, &lo, &hi);
		span = hi - lo - 2 * cfg.margin_seconds;
		CHECK(nq == 18 && fabs(span / (rate * 9.0) - 1) < 0.01 && fabs(lo + cfg.margin_seconds - 30.0) < 1e-9,
			  "rate %g: %d content segments, region %.3f s for a %.1f s query (%.3f expected)", rate, nq,
			  span, 9.0, rate * 9.0);
	}
	/* more content segments than the verifier takes: those of the aligned range */
	cfg.max_query_segments = 8;
	{
		int32_t		nq = sid_verifier_query_side(&cfg, fp, t, NULL, 19, 2.0, 5.0, 1.0, out_fp, out_t);

		CHECK(nq == 7 && out_t[0] == 2.0 && out_t[6] == 5.0, "aligned range 2 .. 5 s: %d segments, %g .. %g", nq,
			  out_t[0], nq ? out_t[nq - 1] : -1);
	}
}

typedef struct synth
{
	sid_pcm		pcm[TRACKS];
	sid_verify_catalogue cat;
} synth;

static int
make_catalogue(sid_embedder **emb, synth *s)
{
	char		dir[] = "/tmp/sid-verify-q-XXXXXX",
				path[600];
	sid_audio_limits lim;
	sid_error	err;
	int64_t		total = 0;

	if (!mkdtemp(dir))
		return -1;
	sid_audio_limits_default(&lim);
	memset(&s->cat, 0, sizeof(s->cat));
	s->cat.n_tracks = TRACKS;
	s->cat.first = calloc(TRACKS + 1, sizeof(int64_t));
	s->cat.span_lo = calloc(TRACKS, sizeof(double));
	s->cat.span_hi = calloc(TRACKS, sizeof(double));
	for (int k = 0; k < TRACKS; k++)
	{
		sid_embed_result r;

		snprintf(path, sizeof(path), "%s/t%d.wav", dir, k);
		if (synth_write_track(path, 100 + k, TRACK_SECONDS, SR) != 0 ||
			sid_audio_decode_file(path, SR, &lim, NULL, &s->pcm[k], &err) != SID_OK)
			return -1;
		unlink(path);
		if (sid_embed_pcm_parallel(emb, 1, SID_DEVICE_CPU, s->pcm[k].samples, s->pcm[k].n_samples, &r, &err) != SID_OK)
			return -1;
		s->cat.dim = r.dim;
		s->cat.fp = realloc(s->cat.fp, sizeof(float) * (size_t) (total + r.n_segments) * r.dim);
		s->cat.t = realloc(s->cat.t, sizeof(double) * (size_t) (total + r.n_segments));
		memcpy(s->cat.fp + total * r.dim, r.fp, sizeof(float) * (size_t) r.n_segments * r.dim);
		memcpy(s->cat.t + total, r.t_start, sizeof(double) * (size_t) r.n_segments);
		total += r.n_segments;
		s->cat.first[k + 1] = total;
		s->cat.span_hi[k] = (double) s->pcm[k].n_samples / SR;
		sid_embed_result_free(&r);
	}
	rmdir(dir);
	return 0;
}

/* Track 1 from 12 s, 10 s under the named condition, searched as sample mode does. */
static int32_t
search(sid_embedder **emb, const sid_model *m, synth *s, const char *name, sid_verify_copies *q,
	   sid_verify_candidate *cand)
{
	sid_condition c;
	sid_error	err;
	size_t		n = 10 * SR,
				lead;
	float	   *view = malloc(sizeof(float) * n);
	int32_t		n_al = 0;

	memset(q, 0, sizeof(*q));
	if (sid_conditions_select(name, &c, 1, &err) != 1)
		CHECK(0, "condition %s: %s", name, err.msg);
	lead = sid_condition_lead(&c, SR);
	if (sid_condition_apply(&c, NULL, 0, 0, s->pcm[1].samples + 12 * SR - lead, SR, view, n, &err) != SID_OK ||
		sid_verify_embed_copies(emb, 1, view, (int64_t) n, SR, -3, 3, q, &err) != SID_OK)
		CHECK(0, "%s: %s", name, err.msg);
	else
		n_al = sid_verify_coarse(&s->cat, q, m->features.segment_seconds, m->features.segment_hop_seconds, 1,
								 SID_SAMPLE_RULE_MIN_COVERAGE, SID_SAMPLE_RULE_MIN_SIMILARITY, cand, 10);
	free(view);
	return n_al;
}

static void
test_copies(void)
{
	sid_error	err;
	sid_model  *m = sid_model_load(MODEL, &err);
	sid_embedder *emb[1] = {NULL};
	synth		s;
	sid_verify_copies q;
	sid_verify_candidate cand[10];
	int32_t		n_al;

	if (!m)
	{
		CHECK(0, "%s: %s", MODEL, err.msg);
		return;
	}
	memset(&s, 0, sizeof(s));
	if (!(emb[0] = sid_embedder_create(m, m->features.segment_hop_seconds, 32, &err)) ||
		make_catalogue(emb, &s) != 0)
	{
		CHECK(0, "the synthetic catalogue");
		goto done;
	}

	n_al = search(emb, m, &s, "pitch+2", &q, cand);
	CHECK(q.n_copies == 7 && q.shift[0] == -3 && q.shift[6] == 3 && q.nq == 19,
		  "7 copies -3 .. +3, each %d segments (19 for 10 s: every copy as long as the query)", q.nq);
	CHECK(n_al > 0 && cand[0].a.recording == 1 && q.shift[cand[0].copy] == -2 &&
		  fabs(cand[0].a.offset - 12.0) <= 0.5 && cand[0].accepted,
		  "pitch +2: first candidate track %lld, copy %+d, offset %.2f (1, -2, 12), accepted %d",
		  n_al ? (long long) cand[0].a.recording : -1LL, n_al ? q.shift[cand[0].copy] : 99,
		  n_al ? cand[0].a.offset : -1, n_al ? cand[0].accepted : 0);
	for (int i = 1; i < n_al; i++)
		if (sid_alignment_same_use(&cand[0].a, &cand[i].a))
			CHECK(0, "candidate %d repeats the first use", i);
	sid_verify_copies_free(&q);

	n_al = search(emb, m, &s, "tempo1.2", &q, cand);
	CHECK(n_al > 0 && cand[0].a.recording == 1 && fabs(cand[0].a.rate / 1.2 - 1) < 0.03 &&
		  fabs(cand[0].a.offset - 12.0) <= 0.5,
		  "tempo 1.2: first candidate track %lld, rate %.4f (1.2 within 3 %%: the alignment's fit over 19 segments), offset %.2f (12)",
		  n_al ? (long long) cand[0].a.recording : -1LL, n_al ? cand[0].a.rate : 0, n_al ? cand[0].a.offset : -1);
	if (n_al > 0)
	{
		sid_verifier_config vc;
		float	   *qfp = malloc(sizeof(float) * 64 * q.dim);
		double		qt[64],
					lo,
					hi;
		int32_t		nq;

		/* the region the verifier reads holds the 10.8 s of reference the query plays */
		sid_verifier_config_default(&vc, q.dim);
		nq = sid_verifier_query_side(&vc, q.fp + (size_t) cand[0].copy * q.nq * q.dim, q.t, NULL, q.nq,
									 cand[0].a.query_start, cand[0].a.query_end, cand[0].a.rate, qfp, qt);
		sid_verifier_region(&vc, qt, nq, cand[0].a.offset, &lo, &hi);
		CHECK(lo <= 12.0 && hi >= 12.0 + 1.2 * q.t[q.nq - 1] && hi - lo - 2 * vc.margin_seconds < 1.2 * 10,
			  "tempo 1.2: the verifier's region %.2f .. %.2f s holds the true 12 .. %.2f s", lo, hi,
			  12.0 + 1.2 * q.t[q.nq - 1]);
		free(qfp);
	}
	sid_verify_copies_free(&q);
done:
	for (int k = 0; k < TRACKS; k++)
		sid_pcm_free(&s.pcm[k]);
	free(s.cat.first);
	free(s.cat.fp);
	free(s.cat.t);
	free(s.cat.span_lo);
	free(s.cat.span_hi);
	sid_embedder_free(emb[0]);
	sid_model_free(m);
}

int
main(void)
{
	test_draw();
	test_region_rate();
	test_copies();
	return tap_done();
}
