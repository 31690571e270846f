/*
 * sid_openset.c - the open-set benchmark's scoring and tables (sid_openset.h).
 */
#include "eval/sid_openset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LENGTHS 8

static const char *const kind_names[SID_OPENSET_KINDS] = {
	"in_catalogue", "other_music", "other_music_noisy", "speech", "silence", "near_silence",
	"tone", "noise"
};

const char *
sid_openset_kind_name(sid_openset_kind kind)
{
	return kind >= 0 && kind < SID_OPENSET_KINDS ? kind_names[kind] : "?";
}

void
sid_openset_init(sid_openset *s, double hop_seconds)
{
	memset(s, 0, sizeof(*s));
	s->hop_seconds = hop_seconds;
}

void
sid_openset_free(sid_openset *s)
{
	free(s->queries);
	free(s->answers);
	memset(s, 0, sizeof(*s));
}

static int
grow(void **p, int64_t *cap, int64_t need, size_t size)
{
	int64_t		n = *cap ? *cap : 256;
	void	   *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (!(q = realloc(*p, (size_t) n * size)))
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

sid_openset_query *
sid_openset_add_query(sid_openset *s, sid_openset_kind kind, int test, int length_s, int64_t truth,
					  double truth_start, sid_error *err)
{
	sid_openset_query *q;

	if (grow((void **) &s->queries, &s->cap_queries, s->n_queries + 1, sizeof(*q)) != 0)
	{
		sid_fail(err, SID_ENOMEM, "open-set: out of memory for %lld queries", (long long) s->n_queries + 1);
		return NULL;
	}
	q = &s->queries[s->n_queries++];
	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->test = test;
	q->length_s = length_s;
	q->truth = truth;
	q->truth_start = truth_start;
	q->first_answer = s->n_answers;
	return q;
}

sid_status
sid_openset_add_answer(sid_openset *s, const sid_openset_answer *a, sid_error *err)
{
	if (s->n_queries == 0)
		return sid_fail(err, SID_EINVAL, "open-set: an answer before any query");
	if (grow((void **) &s->answers, &s->cap_answers, s->n_answers + 1, sizeof(*a)) != 0)
		return sid_fail(err, SID_ENOMEM, "open-set: out of memory for %lld answers", (long long) s->n_answers + 1);
	s->answers[s->n_answers++] = *a;
	s->queries[s->n_queries - 1].n_answers++;
	return SID_OK;
}

/* A query's first rows: the coarse order's and the verifier's most probable. */
typedef struct query_view
{
	const sid_openset_answer *top;	/* NULL: no candidate at all */
	int			correct;		/* in the catalogue and top is the right recording */
	int			exact;			/* and within half a hop of the right offset */
	const sid_openset_answer *vtop; /* NULL: no scored candidate */
	int			v_correct;
} query_view;

static int
coarse_before(const sid_openset_answer *a, const sid_openset_answer *b)
{
	if (a->segments != b->segments)
		return a->segments > b->segments;
	if (isnan(b->similarity))
		return !isnan(a->similarity);
	return a->similarity > b->similarity;
}

static void
view_of(const sid_openset *s, const sid_openset_query *q, query_view *v)
{
	const sid_openset_answer *a = s->answers + q->first_answer;

	memset(v, 0, sizeof(*v));
	for (int32_t i = 0; i < q->n_answers; i++)
	{
		if (!v->top || coarse_before(&a[i], v->top))
			v->top = &a[i];
		if (!isnan(a[i].probability) && (!v->vtop || a[i].probability > v->vtop->probability))
			v->vtop = &a[i];
	}
	if (q->truth >= 0 && v->top && v->top->recording_id == q->truth)
	{
		v->correct = 1;
		v->exact = fabs(v->top->ref_start - v->top->query_start - q->truth_start) <=
			s->hop_seconds / 2 + 1e-6;
	}
	v->v_correct = q->truth >= 0 && v->vtop && v->vtop->recording_id == q->truth;
}

static int
accepted(const sid_openset_rule *r, const query_view *v)
{
	const sid_openset_answer *a = r->verifier ? v->vtop : v->top;

	return a && a->coverage >= r->c && a->similarity >= r->s &&
		(!r->verifier || a->probability >= r->p);
}

/* kept: accepted with the right recording first, of the coarse stage's correct answers */
static int
kept_right(const sid_openset_rule *r, const query_view *v)
{
	return accepted(r, v) && (r->verifier ? v->v_correct : v->correct);
}

void
sid_openset_measure(const sid_openset *s, const sid_openset_rule *rule, int test, int length_s,
					double *kept, int64_t *n_correct, double *fa, int64_t *n_fa, int64_t *n_out)
{
	int64_t		correct = 0,
				k = 0,
				out = 0,
				f = 0;

	for (int64_t i = 0; i < s->n_queries; i++)
	{
		const sid_openset_query *q = &s->queries[i];
		query_view	v;

		if (q->test != test || (length_s && q->length_s != length_s))
			continue;
		view_of(s, q, &v);
		if (q->kind == SID_OPENSET_IN_CATALOGUE)
		{
			if (v.correct)
			{
				correct++;
				k += kept_right(rule, &v);
			}
		}
		else
		{
			out++;
			f += accepted(rule, &v);
		}
	}
	*kept = correct ? (double) k / correct : NAN;
	*fa = out ? (double) f / out : NAN;
	if (n_correct)
		*n_correct = correct;
	if (n_fa)
		*n_fa = f;
	if (n_out)
		*n_out = out;
}

static int
rule_better(const sid_openset_rule *a, const sid_openset_rule *b)
{
	double		ka = isnan(a->kept) ? 0 : a->kept,
				kb = isnan(b->kept) ? 0 : b->kept;

	if (!b->found)
		return 1;
	if (ka != kb)
		return ka > kb;
	if (a->fa != b->fa)
		return a->fa < b->fa;
	return a->verifier ? a->p < b->p : a->s < b->s;
}

static void
try_rule(const sid_openset *s, sid_openset_rule *cand, double target, sid_openset_rule *best)
{
	sid_openset_measure(s, cand, 0, 0, &cand->kept, NULL, &cand->fa, NULL, NULL);
	if (!isnan(cand->fa) && cand->fa <= target + 1e-12 && rule_better(cand, best))
	{
		*best = *cand;
		best->found = 1;
	}
}

void
sid_openset_calibrate(const sid_openset *s, int verifier, int prefilter, double target,
					  sid_openset_rule *rule)
{
	static const double coarse_c[] = {0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
	static const double pre_c[] = {0, 0.4, 0.7};
	static const double pre_s[] = {0, 0.6, 0.7, 0.78};
	sid_openset_rule cand = {0};

	memset(rule, 0, sizeof(*rule));
	rule->verifier = verifier;
	cand.verifier = verifier;
	if (!verifier)
	{
		for (int ci = 0; ci < 8; ci++)
			for (int si = 40; si <= 99; si++)
			{
				cand.c = coarse_c[ci], cand.s = si / 100.0;
				try_rule(s, &cand, target, rule);
			}
		return;
	}
	for (int ci = 0; ci < (prefilter ? 3 : 1); ci++)
		for (int si = 0; si < (prefilter ? 4 : 1); si++)
			for (int pi = 0; pi < 100 + 18; pi++)
			{
				cand.c = pre_c[ci], cand.s = pre_s[si];
				cand.p = pi < 100 ? pi / 100.0 : 0.991 + 0.0005 * (pi - 100);
				try_rule(s, &cand, target, rule);
			}
}

/* ---- printing ----------------------------------------------------------- */

static int
lengths_of(const sid_openset *s, int *out)
{
	int			n = 0;

	for (int64_t i = 0; i < s->n_queries; i++)
	{
		int			l = s->queries[i].length_s,
					j = 0;

		while (j < n && out[j] != l)
			j++;
		if (j == n && n < MAX_LENGTHS)
		{
			while (j > 0 && out[j - 1] > l)
			{
				out[j] = out[j - 1];
				j--;
			}
			out[j] = l;
			n++;
		}
	}
	return n;
}

/* A share in per cent with some decimals; "-" when there was nothing to share. */
static void
pct_digits(FILE *out, double x, int digits)
{
	if (isnan(x))
		fprintf(out, " - ");
	else
		fprintf(out, " %.*f %% ", digits, 100 * x);
}

#define pct(out, x) pct_digits(out, x, 1)
#define pct2(out, x) pct_digits(out, x, 2)

static void
print_top1(const sid_openset *s, FILE *out, const int *lengths, int n_lengths)
{
	fprintf(out, "### Top-1 of the in-catalogue queries, before and after reranking\n\n"
			"| length | queries | coarse: right recording | and offset within half a hop | "
			"reranked by the verifier: right recording |\n| --- | --- | --- | --- | --- |\n");
	for (int l = 0; l < n_lengths; l++)
	{
		int64_t		n = 0,
					c = 0,
					e = 0,
					r = 0;

		for (int64_t i = 0; i < s->n_queries; i++)
		{
			query_view	v;

			if (s->queries[i].kind != SID_OPENSET_IN_CATALOGUE || s->queries[i].length_s != lengths[l])
				continue;
			view_of(s, &s->queries[i], &v);
			n++, c += v.correct, e += v.exact, r += v.v_correct;
		}
		fprintf(out, "| %d s | %lld |", lengths[l], (long long) n);
		pct(out, n ? (double) c / n : NAN);
		fprintf(out, "|");
		pct(out, n ? (double) e / n : NAN);
		fprintf(out, "|");
		pct(out, n ? (double) r / n : NAN);
		fprintf(out, "|\n");
	}
	fprintf(out, "\nBoth splits of the in-catalogue queries; \"reranked\": the candidate of highest "
			"probability.\n\n");
}

static void
print_rule_row(const sid_openset *s, FILE *out, const char *name, const char *target,
			   const sid_openset_rule *r, const int *lengths, int n_lengths)
{
	fprintf(out, "| %s | %s |", name, target);
	if (!r->found)
	{
		fprintf(out, " no rule of the grid meets it |");
		for (int l = 0; l < n_lengths + 1; l++)
			fprintf(out, " - |");
		fprintf(out, "\n");
		return;
	}
	fprintf(out, " %.2f / %.2f / %.4g |", r->c, r->s, r->verifier ? r->p : 0.0);
	pct2(out, r->fa);
	fprintf(out, "/");
	pct(out, r->kept);
	fprintf(out, "|");
	for (int l = 0; l < n_lengths; l++)
	{
		double		kept,
					fa;
		int64_t		n_fa,
					n_out;

		sid_openset_measure(s, r, 1, lengths[l], &kept, NULL, &fa, &n_fa, &n_out);
		pct(out, kept);
		fprintf(out, "/");
		pct2(out, fa);
		fprintf(out, "(%lld of %lld) |", (long long) n_fa, (long long) n_out);
	}
	fprintf(out, "\n");
}

static void
print_rules(const sid_openset *s, FILE *out, const sid_openset_rule rules[3][2],
			const sid_openset_settings *set, const int *lengths, int n_lengths)
{
	static const char *const names[3] = {"coarse rule", "verifier alone", "coarse pre-filter and verifier"};
	static const char *const targets[2] = {"<= 1 %", "<= 0.1 %"};

	fprintf(out, "### Rules calibrated on the calibration split, measured on the test split\n\n"
			"| rule | calibrated for | min_coverage / min_similarity / min_probability | "
			"calibration: false accepts / kept |");
	for (int l = 0; l < n_lengths; l++)
		fprintf(out, " test %d s: kept / false accepts |", lengths[l]);
	fprintf(out, "\n| --- | --- | --- | --- |");
	for (int l = 0; l < n_lengths; l++)
		fprintf(out, " --- |");
	fprintf(out, "\n");
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 2; t++)
			print_rule_row(s, out, names[k], targets[t], &rules[k][t], lengths, n_lengths);
	if (set->file_threshold >= 0)
	{
		sid_openset_rule f = {1, 1, 0, 0, set->file_threshold, 0, 0};

		sid_openset_measure(s, &f, 0, 0, &f.kept, NULL, &f.fa, NULL, NULL);
		print_rule_row(s, out, "verifier, the threshold in its file", "(training)", &f, lengths, n_lengths);
	}
	fprintf(out, "\n\"Kept\": the share of the coarse stage's correct answers that the rule accepts with "
			"the right recording first; a false accept: an out-of-catalogue query whose first row "
			"(the verifier's most probable, for its rules) passes.\n\n");
}

static void
print_kinds(const sid_openset *s, FILE *out, const sid_openset_rule rules[3][2], const int *lengths,
			int n_lengths)
{
	fprintf(out, "### False accepts per kind (test split, the rules for <= 1 %%)\n\n"
			"| kind | length | queries | coarse rule | verifier alone | coarse pre-filter and verifier |\n"
			"| --- | --- | --- | --- | --- | --- |\n");
	for (int k = SID_OPENSET_OTHER_MUSIC; k < SID_OPENSET_KINDS; k++)
		for (int l = 0; l < n_lengths; l++)
		{
			int64_t		n = 0,
						fa[3] = {0, 0, 0};

			for (int64_t i = 0; i < s->n_queries; i++)
			{
				query_view	v;

				if (!s->queries[i].test || (int) s->queries[i].kind != k ||
					s->queries[i].length_s != lengths[l])
					continue;
				view_of(s, &s->queries[i], &v);
				n++;
				for (int r = 0; r < 3; r++)
					fa[r] += rules[r][0].found && accepted(&rules[r][0], &v);
			}
			if (n == 0)
				continue;
			fprintf(out, "| %s | %d s | %lld | %lld | %lld | %lld |\n", kind_names[k], lengths[l],
					(long long) n, (long long) fa[0], (long long) fa[1], (long long) fa[2]);
		}
	fprintf(out, "\n");
}

static void
print_roc(const sid_openset *s, FILE *out, const sid_openset_rule *coarse)
{
	static const double sims[] = {0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9};
	static const double probs[] = {0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99};

	for (int which = 0; which < 2; which++)
	{
		const double *pts = which ? probs : sims;
		double		kept[8],
					fa[8];

		if (which == 0)
			fprintf(out, "### ROC points of the coarse rule (test split, both lengths, min_coverage %.2f)\n\n"
					"| min_similarity |", coarse->found ? coarse->c : 0.7);
		else
			fprintf(out, "### ROC points of the verifier alone (test split, both lengths)\n\n"
					"| min_probability |");
		for (int i = 0; i < 8; i++)
		{
			sid_openset_rule r = {1, which, which ? 0 : (coarse->found ? coarse->c : 0.7),
			which ? 0 : pts[i], which ? pts[i] : 0, 0, 0};

			sid_openset_measure(s, &r, 1, 0, &kept[i], NULL, &fa[i], NULL, NULL);
			fprintf(out, " %g |", pts[i]);
		}
		fprintf(out, "\n| --- |");
		for (int i = 0; i < 8; i++)
			fprintf(out, " --- |");
		fprintf(out, "\n| correct kept |");
		for (int i = 0; i < 8; i++)
		{
			pct(out, kept[i]);
			fprintf(out, "|");
		}
		fprintf(out, "\n| false accepts |");
		for (int i = 0; i < 8; i++)
		{
			pct2(out, fa[i]);
			fprintf(out, "|");
		}
		fprintf(out, "\n\n");
	}
}

/*
 * The function's own decision at its defaults, from the same answers: any
 * row that passes the coarse rule (with verifier: and the file's threshold)
 * is accepted, the most probable first (coarse alone: the coarse order).
 */
static const sid_openset_answer *
default_accepts(const sid_openset *s, const sid_openset_query *q, const sid_openset_settings *set,
				int with_verifier)
{
	const sid_openset_answer *a = s->answers + q->first_answer,
			   *best = NULL;

	for (int32_t i = 0; i < q->n_answers; i++)
	{
		if (!(a[i].coverage >= set->default_coverage && a[i].similarity >= set->default_similarity &&
			  a[i].segments >= set->default_min_segments))
			continue;
		if (with_verifier && !(a[i].probability >= set->file_threshold))
			continue;
		if (!best || (with_verifier ? a[i].probability > best->probability : coarse_before(&a[i], best)))
			best = &a[i];
	}
	return best;
}

static void
print_defaults(const sid_openset *s, FILE *out, const sid_openset_settings *set, const int *lengths,
			   int n_lengths)
{
	fprintf(out, "### sampleid_identify at its defaults (min_coverage %.2f, min_similarity %.2f, "
			">= %d segments; with the verifier: probability >= the file's %.4f)\n\n"
			"| split | length | with the verifier: kept / false accepts | coarse rule alone: kept / false accepts |\n"
			"| --- | --- | --- | --- |\n", set->default_coverage, set->default_similarity,
			set->default_min_segments, set->file_threshold);
	for (int test = 0; test < 2; test++)
		for (int l = 0; l < n_lengths; l++)
		{
			int64_t		correct = 0,
						out_n = 0,
						kept[2] = {0, 0},
						fa[2] = {0, 0};

			for (int64_t i = 0; i < s->n_queries; i++)
			{
				const sid_openset_query *q = &s->queries[i];
				query_view	v;

				if (q->test != test || q->length_s != lengths[l])
					continue;
				view_of(s, q, &v);
				if (q->kind == SID_OPENSET_IN_CATALOGUE && !v.correct)
					continue;
				q->kind == SID_OPENSET_IN_CATALOGUE ? correct++ : out_n++;
				for (int w = 0; w < 2; w++)
				{
					const sid_openset_answer *a = set->file_threshold >= 0 || w ?
						default_accepts(s, q, set, !w) : NULL;

					if (q->kind == SID_OPENSET_IN_CATALOGUE)
						kept[w] += a && a->recording_id == q->truth;
					else
						fa[w] += a != NULL;
				}
			}
			fprintf(out, "| %s | %d s |", test ? "test" : "calibration", lengths[l]);
			for (int w = 0; w < 2; w++)
			{
				pct(out, correct ? (double) kept[w] / correct : NAN);
				fprintf(out, "/");
				pct2(out, out_n ? (double) fa[w] / out_n : NAN);
				fprintf(out, "(%lld of %lld) |", (long long) fa[w], (long long) out_n);
			}
			fprintf(out, "\n");
		}
	fprintf(out, "\n");
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Linear interpolation between order statistics, as percentile_cont. */
static double
percentile(double *x, int64_t n, double p)
{
	double		pos,
				f;
	int64_t		i;

	if (n == 0)
		return NAN;
	qsort(x, (size_t) n, sizeof(double), cmp_double);
	pos = p * (double) (n - 1);
	i = (int64_t) pos;
	f = pos - (double) i;
	return i + 1 < n ? x[i] + f * (x[i + 1] - x[i]) : x[i];
}

static void
print_latency(const sid_openset *s, FILE *out, const int *lengths, int n_lengths)
{
	double	   *x = malloc(sizeof(double) * (size_t) (s->n_queries ? s->n_queries : 1) * 2);

	if (!x)
		return;
	fprintf(out, "### Latency (in_catalogue and other_music queries), ms\n\n"
			"| length | queries | client embed p50 / p95 | sampleid_identify call p50 / p95 |\n"
			"| --- | --- | --- | --- |\n");
	for (int l = 0; l < n_lengths; l++)
	{
		int64_t		n = 0;
		double	   *y;

		for (int64_t i = 0; i < s->n_queries; i++)
			if (s->queries[i].length_s == lengths[l] && (s->queries[i].kind == SID_OPENSET_IN_CATALOGUE ||
														 s->queries[i].kind == SID_OPENSET_OTHER_MUSIC))
			{
				x[n] = s->queries[i].embed_ms;
				x[s->n_queries + n] = s->queries[i].server_ms;
				n++;
			}
		y = x + s->n_queries;
		fprintf(out, "| %d s | %lld | %.1f / %.1f | %.1f / %.1f |\n", lengths[l], (long long) n,
				percentile(x, n, 0.5), percentile(x, n, 0.95), percentile(y, n, 0.5), percentile(y, n, 0.95));
	}
	fprintf(out, "\n");
	free(x);
}

void
sid_openset_print(const sid_openset *s, FILE *out, const sid_openset_settings *set)
{
	int			lengths[MAX_LENGTHS];
	int			n_lengths = lengths_of(s, lengths);
	sid_openset_rule rules[3][2];
	static const double targets[2] = {0.01, 0.001};

	for (int t = 0; t < 2; t++)
	{
		sid_openset_calibrate(s, 0, 0, targets[t], &rules[0][t]);
		sid_openset_calibrate(s, 1, 0, targets[t], &rules[1][t]);
		sid_openset_calibrate(s, 1, 1, targets[t], &rules[2][t]);
	}
	print_top1(s, out, lengths, n_lengths);
	print_rules(s, out, (const sid_openset_rule (*)[2]) rules, set, lengths, n_lengths);
	print_kinds(s, out, (const sid_openset_rule (*)[2]) rules, lengths, n_lengths);
	print_roc(s, out, &rules[0][0]);
	print_defaults(s, out, set, lengths, n_lengths);
	print_latency(s, out, lengths, n_lengths);
}
