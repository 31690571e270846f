/*
 * test_openset.c - the open-set benchmark's scoring (eval/sid_openset): the
 * coarse first row, the rules calibrated on the calibration role for <= 1 %
 * and <= 0.1 % false accepts, and what they keep and let through on the
 * test role, from answers made up so that every figure is known.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "eval/sid_openset.h"

static void
query(sid_openset *s, sid_openset_kind kind, int test, int64_t truth, double truth_start)
{
	sid_error	err;

	if (!sid_openset_add_query(s, kind, test, 3, truth, truth_start, &err))
		abort();
}

static void
answer(sid_openset *s, int64_t rec, double ref_start, int segments, double coverage, double sim,
	   double prob)
{
	sid_openset_answer a = {rec, 0.0, ref_start, segments, coverage, sim, prob};
	sid_error	err;

	if (sid_openset_add_answer(s, &a, &err) != SID_OK)
		abort();
}

/*
 * Calibration: 10 right answers at similarity 0.85 and 0.75, probability
 * 0.95; 200 out-of-catalogue queries, 198 at 0.60 / 0.2 and 2 at 0.80 / 0.97.
 */
static void
calibration_role(sid_openset *s)
{
	for (int i = 0; i < 10; i++)
	{
		query(s, SID_OPENSET_IN_CATALOGUE, 0, 7, 10.0);
		answer(s, 7, 10.0, 6, 1.0, i % 2 ? 0.75 : 0.85, 0.95);
	}
	for (int i = 0; i < 200; i++)
	{
		query(s, SID_OPENSET_OTHER_MUSIC, 0, -1, 0);
		answer(s, 3, 50.0, 6, 1.0, i < 2 ? 0.80 : 0.60, i < 2 ? 0.97 : 0.2);
	}
}

static void
test_calibration(void)
{
	sid_openset s;
	sid_openset_rule r;
	sid_error	err;

	sid_openset_init(&s, 0.5);
	CHECK(sid_openset_add_answer(&s, &(sid_openset_answer) {0}, &err) == SID_EINVAL,
		  "an answer before any query is refused: %s", err.msg);
	calibration_role(&s);
	sid_openset_calibrate(&s, 0, 0, 0.01, &r);
	CHECK(r.found && r.c == 0.2 && fabs(r.s - 0.61) < 1e-9 && fabs(r.fa - 0.01) < 1e-12 && r.kept == 1.0,
		  "coarse rule for <= 1 %%: the lowest similarity that lets 2 of 200 through (c %.2f s %.2f fa %.4f kept %.2f)",
		  r.c, r.s, r.fa, r.kept);
	sid_openset_calibrate(&s, 0, 0, 0.001, &r);
	CHECK(r.found && fabs(r.s - 0.81) < 1e-9 && r.fa == 0 && r.kept == 0.5,
		  "coarse rule for <= 0.1 %%: above 0.80, keeping half (s %.2f fa %.4f kept %.2f)",
		  r.s, r.fa, r.kept);
	sid_openset_calibrate(&s, 0, 0, 0.0, &r);
	CHECK(r.found && r.fa == 0, "a target of 0 is met by a threshold above every false accept");
	sid_openset_calibrate(&s, 1, 0, 0.01, &r);
	CHECK(r.found && r.verifier && r.c == 0 && r.s == 0 && fabs(r.p - 0.21) < 1e-9 && r.kept == 1.0,
		  "verifier alone for <= 1 %%: p %.4f kept %.2f", r.p, r.kept);
	sid_openset_calibrate(&s, 1, 0, 0.001, &r);
	CHECK(r.found && fabs(r.p - 0.98) < 1e-9 && r.fa == 0 && r.kept == 0,
		  "verifier alone for <= 0.1 %%: p %.4f, which keeps nothing (%.2f)", r.p, r.kept);
	sid_openset_calibrate(&s, 1, 1, 0.01, &r);
	CHECK(r.found && r.kept == 1.0 && r.fa <= 0.01,
		  "with the pre-filter's grid (which holds no pre-filter) at least as good (c %.2f s %.2f p %.4f)",
		  r.c, r.s, r.p);
	sid_openset_free(&s);
}

static void
test_measure(void)
{
	sid_openset s;
	sid_openset_rule coarse = {1, 0, 0.2, 0.61, 0, 0, 0},
				verifier = {1, 1, 0, 0, 0.5, 0, 0};
	double		kept,
				fa;
	int64_t		n_correct,
				n_fa,
				n_out;
	char	   *text = NULL;
	size_t		text_len = 0;
	FILE	   *out;
	sid_openset_settings set = {0.5, 0.7, 0.78, 2};

	sid_openset_init(&s, 0.5);
	calibration_role(&s);
	/* right recording first by segments although a wrong one is more similar */
	query(&s, SID_OPENSET_IN_CATALOGUE, 1, 7, 10.0);
	answer(&s, 9, 40.0, 3, 0.5, 0.95, 0.9);
	answer(&s, 7, 10.2, 5, 0.9, 0.85, 0.95);
	/* right, but 0.3 s off: correct, not exact; the verifier prefers the wrong one */
	query(&s, SID_OPENSET_IN_CATALOGUE, 1, 7, 10.0);
	answer(&s, 7, 10.3, 5, 0.9, 0.85, 0.4);
	answer(&s, 9, 40.0, 2, 0.4, 0.70, 0.8);
	/* the wrong recording first */
	query(&s, SID_OPENSET_IN_CATALOGUE, 1, 7, 10.0);
	answer(&s, 9, 40.0, 5, 0.9, 0.85, 0.9);
	/* no candidate at all */
	query(&s, SID_OPENSET_IN_CATALOGUE, 1, 7, 10.0);
	for (int i = 0; i < 10; i++)
	{
		query(&s, i < 5 ? SID_OPENSET_TONE : SID_OPENSET_OTHER_MUSIC_NOISY, 1, -1, 0);
		if (i == 9)
			answer(&s, 3, 5.0, 4, 0.8, 0.70, 0.3);
	}
	sid_openset_measure(&s, &coarse, 1, 0, &kept, &n_correct, &fa, &n_fa, &n_out);
	CHECK(n_correct == 2 && kept == 1.0 && n_out == 10 && n_fa == 1 && fabs(fa - 0.1) < 1e-12,
		  "coarse rule on the test role: %lld correct, kept %.2f; %lld of %lld false accepts",
		  (long long) n_correct, kept, (long long) n_fa, (long long) n_out);
	sid_openset_measure(&s, &verifier, 1, 0, &kept, &n_correct, &fa, &n_fa, &n_out);
	CHECK(kept == 0.5 && n_fa == 0,
		  "the verifier keeps a correct answer only with the right recording most probable (%.2f), "
		  "and a query with no candidate is never a false accept (%lld)", kept, (long long) n_fa);
	sid_openset_measure(&s, &coarse, 1, 10, &kept, &n_correct, &fa, &n_fa, &n_out);
	CHECK(n_correct == 0 && isnan(kept) && n_out == 0 && isnan(fa), "no 10 s query: no figure");

	out = open_memstream(&text, &text_len);
	sid_openset_print(&s, out, &set);
	fclose(out);
	CHECK(strstr(text, "| 3 s | 14 | 85.7 % | 78.6 % | 78.6 % |") != NULL,
		  "top-1: 12 of 14 right before, 11 of them exact, 11 right after reranking");
	CHECK(strstr(text, "| tone | 3 s | 5 | 0 | 0 | 0 |") && strstr(text, "| other_music_noisy | 3 s | 5 | 1 | 1 |"),
		  "false accepts per kind");
	if (!strstr(text, "| other_music_noisy | 3 s | 5 | 1 | 1 |"))
		printf("%s", text);
	CHECK(strstr(text, "| test | 3 s | 50.0 % / 0.00 % (0 of 10) | 100.0 % / 0.00 % (0 of 10) |") != NULL,
		  "the defaults: any row that passes, the verifier's threshold as well");
	free(text);
	sid_openset_free(&s);
}

int
main(void)
{
	test_calibration();
	test_measure();
	return tap_done();
}
