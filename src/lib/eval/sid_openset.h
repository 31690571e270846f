/*
 * sid_openset.h - scoring the open-set benchmark (`sampleid eval --open-set`):
 * in-catalogue queries and out-of-catalogue queries of several kinds, each
 * answered with every candidate (include_rejected, thresholds 0) and the
 * verifier's probability of each, so that any acceptance rule, with or
 * without the verifier, is scored from one set of answers.
 *
 * A correct answer: the right recording ranked first by the coarse order
 * (segments, then similarity), and, reported beside it, within half a hop
 * of the right offset.  A false accept: an out-of-catalogue query whose
 * first row passes the rule.  Rules are calibrated on the calibration role
 * (out-of-catalogue audio of the calibration split, every other in-catalogue
 * query) for <= 1 % and <= 0.1 % false accepts, and measured on the test
 * role: no query is in both.
 *
 *   sid_openset s; sid_openset_init(&s, 0.5);
 *   q = sid_openset_add_query(&s, kind, test, length_s, truth, truth_start, &err);
 *   sid_openset_add_answer(&s, &row, &err);   (the rows of the last query)
 *   sid_openset_print(&s, stdout, &settings);
 */
#ifndef SID_OPENSET_H
#define SID_OPENSET_H

#include <stdint.h>
#include <stdio.h>

#include "core/sid_error.h"

typedef enum sid_openset_kind
{
	SID_OPENSET_IN_CATALOGUE,
	SID_OPENSET_OTHER_MUSIC,	/* clean music of tracks not in the catalogue */
	SID_OPENSET_OTHER_MUSIC_NOISY,	/* the same with room and noise */
	SID_OPENSET_SPEECH,
	SID_OPENSET_SILENCE,		/* digital silence */
	SID_OPENSET_NEAR_SILENCE,
	SID_OPENSET_TONE,
	SID_OPENSET_NOISE,			/* white, pink or brown */
	SID_OPENSET_KINDS
} sid_openset_kind;

const char *sid_openset_kind_name(sid_openset_kind kind);

/* One row of sampleid_identify's answer. */
typedef struct sid_openset_answer
{
	int64_t		recording_id;
	double		query_start;
	double		ref_start;
	int32_t		segments;
	double		coverage;
	double		similarity;
	double		probability;	/* NAN: the verifier did not score it */
} sid_openset_answer;

typedef struct sid_openset_query
{
	sid_openset_kind kind;
	int			test;			/* 0: calibration role, 1: test role */
	int			length_s;
	int64_t		truth;			/* recording id, -1 out of the catalogue */
	double		truth_start;	/* seconds into the recording */
	double		embed_ms;		/* on the client */
	double		server_ms;		/* the call of sampleid_identify */
	int64_t		first_answer;	/* into sid_openset.answers */
	int32_t		n_answers;
} sid_openset_query;

typedef struct sid_openset
{
	double		hop_seconds;	/* the catalogue's hop: "exact" is within half of it */
	sid_openset_query *queries;
	int64_t		n_queries,
				cap_queries;
	sid_openset_answer *answers;
	int64_t		n_answers,
				cap_answers;
} sid_openset;

/* What the tables print beside the calibrated rules. */
typedef struct sid_openset_settings
{
	double		file_threshold; /* the verifier file's calibrated threshold; < 0: unknown */
	double		default_coverage;	/* sampleid_identify's defaults */
	double		default_similarity;
	int32_t		default_min_segments;
} sid_openset_settings;

void		sid_openset_init(sid_openset *s, double hop_seconds);
void		sid_openset_free(sid_openset *s);

/* A query; its answers follow with sid_openset_add_answer.  NULL on ENOMEM. */
sid_openset_query *sid_openset_add_query(sid_openset *s, sid_openset_kind kind, int test,
										 int length_s, int64_t truth, double truth_start,
										 sid_error *err);
sid_status	sid_openset_add_answer(sid_openset *s, const sid_openset_answer *a, sid_error *err);

/*
 * A rule "accept the query when its row (the coarse first, or the verifier's
 * most probable) has coverage >= c, similarity >= s and probability >= p",
 * as calibrated: the (c, s, p) of the grid that keeps the most of the
 * calibration role's correct answers at false accepts <= target (then
 * fewer false accepts, then the lowest thresholds).
 */
typedef struct sid_openset_rule
{
	int			found;			/* some point of the grid met the target */
	int			verifier;		/* the verifier's row and probability, else the coarse row */
	double		c,
				s,
				p;
	double		fa;				/* on the calibration role */
	double		kept;
} sid_openset_rule;

/*
 * Calibrates a rule on the calibration role.  verifier 0: the coarse rule over
 * the grid c in {0.2, 0.4, ..., 1.0}, s in 0.40 .. 0.99; verifier 1: p over
 * 0 .. 0.99 and 0.991 .. 0.9999, with prefilter c in {0, 0.4, 0.7} and
 * s in {0, 0.6, 0.7, 0.78}, without it c = s = 0.
 */
void		sid_openset_calibrate(const sid_openset *s, int verifier, int prefilter, double target,
								  sid_openset_rule *rule);

/* Share of correct answers kept and of false accepts of rule over one role and length (0: both). */
void		sid_openset_measure(const sid_openset *s, const sid_openset_rule *rule, int test,
								int length_s, double *kept, int64_t *n_correct, double *fa,
								int64_t *n_fa, int64_t *n_out);

/* Every table, in Markdown. */
void		sid_openset_print(const sid_openset *s, FILE *out, const sid_openset_settings *set);

#endif
