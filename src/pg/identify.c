/*
 * identify.c - sampleid_identify(): identification as one call.
 *
 * The query (audio embedded here, or fingerprints a client embedded) is cut
 * into segments; segments without content (model/sid_content_gate) never
 * vote.  Each remaining segment runs one top-k statement against the
 * catalogue, "SELECT rec, t, fp FROM cat ORDER BY fp <#> $1 LIMIT $2",
 * prepared once per call: the ivfpq index answers it when there is one, and
 * it is the shape a distributed catalogue can push to every shard, since
 * nothing here needs the whole catalogue in one backend.  Neighbours whose
 * stored fingerprints have no content do not vote either.  The hits are
 * aligned by offset (search/sid_align), each alignment is clamped to its
 * recording's stored extent, and accepted when enough of the query's
 * content segments agree with enough similarity, and then the second stage,
 * the verifier installed beside the model (model/sid_verifier), scores
 * each candidate from the query's fingerprints and the candidate's stored
 * ones: a candidate is accepted when its probability reaches the threshold
 * calibrated into the verifier's file, and the accepted are ordered by it.
 * The model is the one the
 * catalogue registered (sampleid_catalogues), else "fp"; its hop is the
 * registered one.
 *
 * Sample mode (a sample-kind model, or shifts other than {0} asked for):
 * the query is searched as transposed copies (the audio form makes them
 * here, pitch only, with rubberband's R2 engine; the fingerprints form gets
 * them from the client, each row with its shift), each copy runs the coarse
 * stage and is aligned on its own, with tempo (search/sid_align, rates
 * 0.7 .. 1.5), and the candidates of all copies are decided, verified and
 * ordered together; of one recording's candidates whose query and
 * reference ranges both overlap, the best is kept, and its copy's shift
 * is the match's pitch estimate.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "pg/fingerprint.h"
#include "pg/sampleid.h"
#include "audio/sid_audio.h"
#include "audio/sid_stretch.h"
#include "model/sid_content_gate.h"
#include "model/sid_embed.h"
#include "model/sid_model_dir.h"
#include "model/sid_verifier.h"
#include "search/sid_align.h"

/*
 * Lists an ivfpq index probes at least in sample mode's coarse stage: with
 * 1, a 5 min transposed work matched as 6 pieces with wrong pitches in
 * places, with 4 as one use at the same speed (docs/benchmarks.md, "Batch
 * matching in sample mode, a long work"): the copies' neighbours lie
 * across more lists than an untransposed query's.
 */
#define SAMPLE_MODE_MIN_PROBES 4

/* Alignments examined per query: more are never accepted in practice. */
#define IDENTIFY_MAX_CANDIDATES 10
#define IDENTIFY_COLUMNS 12

static int	identify_max_k = 100;
static int	identify_max_segments = 1200;
static int	identify_max_copies = 7;

void
sampleid_identify_init(void)
{
	DefineCustomIntVariable("sampleid.identify_max_k",
							"Largest k (neighbours per query segment) sampleid_identify accepts.",
							NULL, &identify_max_k, 100, 1, 10000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("sampleid.identify_max_segments",
							"Most query segments sampleid_identify accepts (600 s at a 0.5 s hop by default).",
							NULL, &identify_max_segments, 1200, 1, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("sampleid.identify_max_copies",
							"Most transposed copies of a query sampleid_identify searches (sample mode).",
							NULL, &identify_max_copies, 7, 1, SID_TRANSPOSE_MAX_COPIES,
							PGC_SUSET, 0, NULL, NULL, NULL);
}

/* What the caller asked; arguments after the query, in SQL order. */
typedef struct identify_args
{
	char	   *catalogue;
	char	   *model;			/* NULL: the catalogue's, else "fp" */
	int			k;
	float		min_similarity;
	float		min_coverage;
	bool		include_rejected;
	char	   *columns[3];		/* recording, time, fingerprint */
	float		min_probability;	/* < 0: the verifier's calibrated threshold */
	bool		rerank;			/* false: the coarse stage alone */
	ArrayType  *semitones;		/* NULL: the model's default shifts */
} identify_args;

/* The catalogue table as identification reads it. */
typedef struct catalogue_info
{
	Oid			relid;
	char	   *relation;		/* quoted, qualified */
	const char *col[3];			/* quoted column names */
	int			fp_typmod;		/* the fingerprint column's dimension, or -1 */
	bool		registered;
	char	   *model;
	char	   *model_sha256;
	double		hop_seconds;
	const char *model_used;		/* the installed model's name */
} catalogue_info;

/* The query's segments (of one copy, or of all copies, copy after copy). */
typedef struct query_segments
{
	int			n;
	int			dim;
	float	   *fp;				/* [n][dim] */
	double	   *t;				/* [n] */
	bool	   *content;		/* [n] */
} query_segments;

/*
 * The transposed copies of the query: copy c is rows first[c] ..
 * first[c + 1] - 1 of all, made at shift[c] semitones (sorted, distinct).
 * Outside sample mode there is one copy at 0.
 */
typedef struct query_copies
{
	query_segments all;
	int			n;
	int			shift[SID_TRANSPOSE_MAX_COPIES];
	int			first[SID_TRANSPOSE_MAX_COPIES + 1];
	bool		sample_mode;
} query_copies;

/* Copy c of qc as a query of its own (pointers into qc->all). */
static query_segments
copy_segments(const query_copies *qc, int c)
{
	query_segments q = qc->all;
	int			f = qc->first[c];

	q.n = qc->first[c + 1] - f;
	q.fp += (Size) f * q.dim;
	q.t += f;
	q.content += f;
	return q;
}

static void
check_unit_interval(const char *what, float v)
{
	if (!(v >= 0.0f && v <= 1.0f))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 0 and 1, not %g", what, v)));
}

static char *
text_arg(FunctionCallInfo fcinfo, int i, const char *what)
{
	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(i));
}

/*
 * The common arguments, starting at argument first; min_probability and
 * rerank at argument tail.
 */
static void
read_args(FunctionCallInfo fcinfo, int first, int tail, identify_args *a)
{
	static const char *const column_what[3] = {"recording_column", "time_column",
	"fingerprint_column"};

	a->catalogue = text_arg(fcinfo, first, "catalogue");
	a->model = PG_ARGISNULL(first + 1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(first + 1));
	if (PG_ARGISNULL(first + 2) || PG_ARGISNULL(first + 5))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("k and include_rejected must not be null")));
	a->k = PG_GETARG_INT32(first + 2);
	/* NULL: the mode's default, known once the model and the copies are */
	a->min_similarity = PG_ARGISNULL(first + 3) ? -1.0f : PG_GETARG_FLOAT4(first + 3);
	a->min_coverage = PG_ARGISNULL(first + 4) ? -1.0f : PG_GETARG_FLOAT4(first + 4);
	a->include_rejected = PG_GETARG_BOOL(first + 5);
	for (int i = 0; i < 3; i++)
		a->columns[i] = text_arg(fcinfo, first + 6 + i, column_what[i]);
	if (a->k < 1 || a->k > identify_max_k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d (sampleid.identify_max_k), not %d",
						identify_max_k, a->k)));
	if (!PG_ARGISNULL(first + 3))
		check_unit_interval("min_similarity", a->min_similarity);
	if (!PG_ARGISNULL(first + 4))
		check_unit_interval("min_coverage", a->min_coverage);
	a->min_probability = -1.0f;
	if (!PG_ARGISNULL(tail))
	{
		a->min_probability = PG_GETARG_FLOAT4(tail);
		check_unit_interval("min_probability", a->min_probability);
	}
	if (PG_ARGISNULL(tail + 1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rerank must not be null")));
	a->rerank = PG_GETARG_BOOL(tail + 1);
	a->semitones = PG_ARGISNULL(tail + 2) ? NULL : PG_GETARG_ARRAYTYPE_P(tail + 2);
}

static int
cmp_int(const void *x, const void *y)
{
	int			a = *(const int *) x,
				b = *(const int *) y;

	return (a > b) - (a < b);
}

/*
 * The shifts of an int[] of semitones: every element within the range
 * sid_transpose_copies makes (+-12); distinct == true also refuses repeats
 * (a list of copies), else the distinct values are returned (the per-row
 * shifts of the fingerprints form).  At most sampleid.identify_max_copies.
 */
static int
shifts_from_array(ArrayType *a, bool distinct, int *shifts, int **per_row, int *n_rows)
{
	Datum	   *d;
	bool	   *nulls;
	int			n,
				n_shifts = 0;

	deconstruct_array(a, INT4OID, 4, true, TYPALIGN_INT, &d, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("semitones must not be empty")));
	if (per_row)
		*per_row = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
	{
		int			v;
		bool		seen = false;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("semitones element %d is null", i + 1)));
		v = DatumGetInt32(d[i]);
		if (v < -(SID_TRANSPOSE_MAX_COPIES / 2) || v > SID_TRANSPOSE_MAX_COPIES / 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("semitones must be between %d and %d, not %d",
							-(SID_TRANSPOSE_MAX_COPIES / 2), SID_TRANSPOSE_MAX_COPIES / 2, v)));
		if (per_row)
			(*per_row)[i] = v;
		for (int k = 0; k < n_shifts && !seen; k++)
			seen = shifts[k] == v;
		if (seen && distinct)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("semitones must not repeat (%d does)", v)));
		if (seen)
			continue;
		if (n_shifts == identify_max_copies)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("more than %d transposed copies of the query (sampleid.identify_max_copies)",
							identify_max_copies)));
		shifts[n_shifts++] = v;
	}
	qsort(shifts, n_shifts, sizeof(int), cmp_int);
	if (n_rows)
		*n_rows = n;
	return n_shifts;
}

/* The thresholds the caller left NULL, by the kind of model (model/sid_model.h). */
static void
default_thresholds(identify_args *a, const sid_model *m)
{
	float		coverage,
				similarity;

	sid_model_coarse_rule(m, &coverage, &similarity);
	if (a->min_similarity < 0.0f)
		a->min_similarity = similarity;
	if (a->min_coverage < 0.0f)
		a->min_coverage = coverage;
}

/*
 * The copies the audio form searches: the caller's semitones, else -3 .. +3
 * for a sample-kind model and {0} for any other; sample mode unless that is
 * {0} with a model that is not sample-kind.
 */
static void
choose_shifts(const identify_args *a, const sid_model *m, query_copies *qc)
{
	memset(qc, 0, sizeof(*qc));
	if (a->semitones)
		qc->n = shifts_from_array(a->semitones, true, qc->shift, NULL, NULL);
	else if (sid_model_is_sample_kind(m))
	{
		if (2 * SID_SAMPLE_MODE_SEMITONES + 1 > identify_max_copies)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("sample mode searches %d transposed copies, more than sampleid.identify_max_copies (%d)",
							2 * SID_SAMPLE_MODE_SEMITONES + 1, identify_max_copies),
					 errhint("Name fewer with semitones, or raise the setting.")));
		for (int s = -SID_SAMPLE_MODE_SEMITONES; s <= SID_SAMPLE_MODE_SEMITONES; s++)
			qc->shift[qc->n++] = s;
	}
	else
		qc->shift[qc->n++] = 0;
	qc->sample_mode = sid_model_is_sample_kind(m) || qc->n > 1 || qc->shift[0] != 0;
}

/* The fingerprint type of the extension's schema. */
static Oid
fingerprint_type(Oid ext_namespace)
{
	Oid			t = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									CStringGetDatum("fingerprint"),
									ObjectIdGetDatum(ext_namespace));

	if (!OidIsValid(t))
		elog(ERROR, "type fingerprint not found in the extension's schema");
	return t;
}

/* Checks that column name of relid exists with one of the types allowed. */
static const char *
catalogue_column(Oid relid, const char *table, const char *name, const char *role,
				 const Oid *types, int n_types, int32 *typmod)
{
	AttrNumber	att = get_attnum(relid, name);
	Oid			type;
	int32		mod;
	Oid			coll;

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("catalogue table %s has no column \"%s\" (the %s)", table, name, role),
				 errhint("Name the catalogue's columns with recording_column, time_column and fingerprint_column.")));
	get_atttypetypmodcoll(relid, att, &type, &mod, &coll);
	for (int i = 0; i < n_types; i++)
		if (type == types[i])
		{
			if (typmod)
				*typmod = mod;
			return quote_identifier(name);
		}
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" of catalogue table %s has type %s, which cannot be the %s",
					name, table, format_type_be(type), role)));
	return NULL;				/* keep the compiler quiet */
}

static void
resolve_catalogue(const identify_args *a, Oid ext_namespace, catalogue_info *c)
{
	static const Oid rec_types[] = {INT2OID, INT4OID, INT8OID};
	static const Oid time_types[] = {FLOAT4OID, FLOAT8OID, NUMERICOID};
	Oid			fp_types[1] = {fingerprint_type(ext_namespace)};
	List	   *names = stringToQualifiedNameList(a->catalogue);
	RangeVar   *rv = makeRangeVarFromNameList(names);
	char	   *shown;

	memset(c, 0, sizeof(*c));
	c->relid = RangeVarGetRelid(rv, NoLock, false);
	if (get_rel_relkind(c->relid) != RELKIND_RELATION &&
		get_rel_relkind(c->relid) != RELKIND_PARTITIONED_TABLE &&
		get_rel_relkind(c->relid) != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("catalogue \"%s\" is not a table", a->catalogue)));
	c->relation = quote_qualified_identifier(get_namespace_name(get_rel_namespace(c->relid)),
											 get_rel_name(c->relid));
	shown = c->relation;
	c->col[0] = catalogue_column(c->relid, shown, a->columns[0], "recording id", rec_types, 3, NULL);
	c->col[1] = catalogue_column(c->relid, shown, a->columns[1], "segment start time", time_types, 3, NULL);
	c->col[2] = catalogue_column(c->relid, shown, a->columns[2], "fingerprint", fp_types, 1,
								 &c->fp_typmod);
}

/* The registry's row for the catalogue, if any (SPI connected). */
static void
read_registration(Oid ext_namespace, catalogue_info *c)
{
	StringInfoData sql;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(c->relid)};
	bool		isnull;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT model, model_sha256, segment_hop_seconds::float8 FROM %s.sampleid_catalogues "
					 "WHERE catalogue = $1", quote_identifier(get_namespace_name(ext_namespace)));
	if (SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read sampleid_catalogues");
	if (SPI_processed == 0)
		return;
	c->registered = true;
	c->model = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	c->model_sha256 = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	c->hop_seconds = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
}

/*
 * The model to use: the caller's, the catalogue's, else "fp"; another than
 * the catalogue's, or a changed file, is an ERROR.  Fills the hop when the
 * catalogue has none registered.
 */
static sid_embedder *
choose_model(identify_args *a, catalogue_info *c)
{
	sid_embedder *e;
	const char *name = a->model ? a->model : c->registered ? c->model : SID_DEFAULT_MODEL;

	if (a->model && c->registered && strcmp(a->model, c->model) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("catalogue %s is fingerprinted with model \"%s\", not \"%s\"",
						c->relation, c->model, a->model),
				 errhint("Leave the model out to use the catalogue's.")));
	e = sampleid_embedder(name);
	if (c->registered && strcmp(e->model->sha256, c->model_sha256) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the installed model \"%s\" is not the file that fingerprinted catalogue %s",
						name, c->relation),
				 errdetail("Registered SHA-256 %.12s, installed %.12s.", c->model_sha256,
						   e->model->sha256),
				 errhint("Re-fingerprint the catalogue and register it again with replace => true.")));
	if (c->fp_typmod >= 0 && c->fp_typmod != e->model->enc->cfg.embed_dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("catalogue %s holds fingerprints of %d dimensions, model \"%s\" makes %d",
						c->relation, c->fp_typmod, name, e->model->enc->cfg.embed_dim)));
	if (!c->registered)
		c->hop_seconds = e->model->features.segment_hop_seconds;
	c->model_used = name;
	return e;
}

static sid_content_gate *gate_cache = NULL;
static char gate_sha256[SID_SHA256_HEX_LEN + 1];

/* The content gate of the embedder's model, built once per backend. */
static const sid_content_gate *
content_gate(sid_embedder *e)
{
	sid_error	err;

	if (gate_cache && strcmp(gate_sha256, e->model->sha256) == 0)
		return gate_cache;
	sid_content_gate_free(gate_cache);
	gate_cache = sid_content_gate_create(e, SID_CONTENT_GATE_THRESHOLD, &err);
	if (!gate_cache)
		ereport(ERROR,
				(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_MODEL)),
				 errmsg("could not build the content gate: %s", err.msg)));
	strlcpy(gate_sha256, e->model->sha256, sizeof(gate_sha256));
	return gate_cache;
}

static void
check_segment_count(int64 n)
{
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the query is shorter than one segment of the model")));
	if (n > identify_max_segments)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the query has %lld segments, more than sampleid.identify_max_segments (%d)",
						(long long) n, identify_max_segments)));
}

/*
 * Decodes and embeds audio, once per copy of qc (its shifts chosen), each
 * copy transposed here; the audio test of content per window.
 */
static void
embed_query(sid_embedder *e, bytea *audio, query_copies *qc)
{
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;
	sid_status	st;
	uint8	   *has = palloc(e->batch);
	float	   *shifted = NULL;
	query_segments *q = &qc->all;

	sampleid_audio_limits(&lim);
	memset(&pcm, 0, sizeof(pcm));
	st = sid_audio_decode_memory(VARDATA_ANY(audio), VARSIZE_ANY_EXHDR(audio),
								 e->model->features.sample_rate, &lim, NULL, &pcm, &err);
	if (st != SID_OK)
		sampleid_report_audio_error(st, &err);
	PG_TRY();
	{
		int64		S = sid_embed_count(e, pcm.n_samples);
		double		seconds = (double) pcm.n_samples / e->model->features.sample_rate;

		if (seconds < e->model->features.segment_seconds)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the query is %.2f s long, shorter than one segment (%.2f s)",
							seconds, e->model->features.segment_seconds)));
		check_segment_count(S);
		q->n = (int) S * qc->n;
		q->dim = e->model->enc->cfg.embed_dim;
		q->fp = palloc(sizeof(float) * (Size) q->n * q->dim);
		q->t = palloc(sizeof(double) * q->n);
		q->content = palloc(sizeof(bool) * q->n);
		for (int c = 0; c < qc->n; c++)
		{
			const float *x = pcm.samples;
			int64		base = (int64) c * S;

			qc->first[c] = (int) base;
			CHECK_FOR_INTERRUPTS();
			if (qc->shift[c] != 0)
			{
				size_t		n_out;

				st = sid_stretch(pcm.samples, (size_t) pcm.n_samples, e->model->features.sample_rate,
								 1.0, qc->shift[c], SID_STRETCH_FASTER, &shifted, &n_out, &err);
				if (st != SID_OK)
					ereport(ERROR,
							(errcode(sampleid_sqlstate(st, SAMPLEID_SUBJECT_ARGUMENT)),
							 errmsg("could not transpose the query by %d semitones: %s",
									qc->shift[c], err.msg)));
				x = shifted;
			}
			for (int64 first = 0; first < S; first += e->batch)
			{
				int			n = (int) Min(S - first, (int64) e->batch);

				CHECK_FOR_INTERRUPTS();
				st = sid_embed_batch(e, (sid_device_kind) sampleid_current_device(), x,
									 pcm.n_samples, first, n, q->fp + (base + first) * q->dim,
									 q->t + base + first, &err);
				if (st != SID_OK)
					ereport(ERROR,
							(errcode(sampleid_sqlstate(st, SAMPLEID_SUBJECT_MODEL)),
							 errmsg("could not embed the query: %s", err.msg)));
				sid_content_embedded_windows(e, n, has);
				for (int i = 0; i < n; i++)
					q->content[base + first + i] = has[i] != 0;
			}
			free(shifted);
			shifted = NULL;
		}
		qc->first[qc->n] = q->n;
	}
	PG_FINALLY();
	{
		free(shifted);
		sid_pcm_free(&pcm);
	}
	PG_END_TRY();
}

/* Row i of the arrays into row r of q. */
static void
query_row_from_arrays(query_segments *q, int r, int i, const Datum *fd, const Datum *td,
					  const bool *fnull, const bool *tnull, const Datum *cd, const bool *cnull)
{
	Fingerprint *f;

	if (fnull[i] || tnull[i] || (cd && cnull[i]))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("segment %d of the query is null", i)));
	f = DatumGetFingerprint(fd[i]);
	if (f->dim != q->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("query fingerprint %d has %d dimensions, the model makes %d", i, f->dim, q->dim)));
	memcpy(q->fp + (Size) r * q->dim, f->x, sizeof(float) * q->dim);
	q->t[r] = DatumGetFloat4(td[i]);
	if (!isfinite(q->t[r]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("t_start of segment %d is not finite", i)));
	q->content[r] = cd ? DatumGetBool(cd[i]) : true;
}

/*
 * Fingerprints and start times (and content flags and the shift each row
 * was made at, optional) from arrays; the rows are grouped into copies by
 * shift, in their order within each.
 */
static void
query_from_arrays(sid_embedder *e, ArrayType *fps, ArrayType *times, ArrayType *content,
				  ArrayType *semitones, query_copies *qc)
{
	query_segments *q = &qc->all;
	int		   *row_shift = NULL;
	int			n_shift_rows = 0,
				next = 0;
	Datum	   *fd,
			   *td,
			   *cd = NULL;
	bool	   *fnull,
			   *tnull,
			   *cnull = NULL;
	int			nf,
				nt,
				nc = 0;

	deconstruct_array(fps, ARR_ELEMTYPE(fps), -1, false, TYPALIGN_INT, &fd, &fnull, &nf);
	deconstruct_array(times, FLOAT4OID, 4, true, TYPALIGN_INT, &td, &tnull, &nt);
	if (content)
		deconstruct_array(content, BOOLOID, 1, true, TYPALIGN_CHAR, &cd, &cnull, &nc);
	if (nf != nt || (content && nc != nf))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("fingerprints, t_start and content must have one element per segment (%d, %d, %d)",
						nf, nt, content ? nc : nf)));
	memset(qc, 0, sizeof(*qc));
	if (semitones)
	{
		qc->n = shifts_from_array(semitones, false, qc->shift, &row_shift, &n_shift_rows);
		if (n_shift_rows != nf)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("fingerprints and semitones must have one element per segment (%d, %d)",
							nf, n_shift_rows)));
	}
	else
		qc->shift[qc->n++] = 0;
	qc->sample_mode = sid_model_is_sample_kind(e->model) || qc->n > 1 || qc->shift[0] != 0;
	/* each copy is a query of its own: the segment bound holds per copy */
	if (qc->n == 1)
		check_segment_count(nf);
	else
		for (int c = 0; c < qc->n; c++)
		{
			int			rows = 0;

			for (int i = 0; i < nf; i++)
				rows += row_shift[i] == qc->shift[c];
			check_segment_count(rows);
		}
	q->n = nf;
	q->dim = e->model->enc->cfg.embed_dim;
	q->fp = palloc(sizeof(float) * (Size) nf * q->dim);
	q->t = palloc(sizeof(double) * nf);
	q->content = palloc(sizeof(bool) * nf);
	for (int c = 0; c < qc->n; c++)
	{
		qc->first[c] = next;
		for (int i = 0; i < nf; i++)
		{
			if (row_shift && row_shift[i] != qc->shift[c])
				continue;
			query_row_from_arrays(q, next++, i, fd, td, fnull, tnull, cd, cnull);
		}
	}
	qc->first[qc->n] = nf;
}

/* The coarse stage's statement, as sampleid_identify_coarse_query shows it. */
static char *
coarse_sql(const catalogue_info *c, Oid ext_namespace)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s::int8, %s::float8, %s FROM %s ORDER BY %s OPERATOR(%s.<#>) $1 LIMIT $2",
					 c->col[0], c->col[1], c->col[2], c->relation, c->col[2],
					 quote_identifier(get_namespace_name(ext_namespace)));
	return sql.data;
}

/*
 * In sample mode, ivfpq.probes at least SAMPLE_MODE_MIN_PROBES until
 * AtEOXact_GUC(true, the level returned); -1 when nothing was raised (the
 * setting is higher, or the ivfpq settings are not loaded).
 */
static int
raise_probes_for_sample_mode(void)
{
	const char *probes = GetConfigOption("ivfpq.probes", true, false);
	char		value[16];
	int			nest;

	if (probes == NULL || atoi(probes) >= SAMPLE_MODE_MIN_PROBES)
		return -1;
	nest = NewGUCNestLevel();
	snprintf(value, sizeof(value), "%d", SAMPLE_MODE_MIN_PROBES);
	(void) set_config_option("ivfpq.probes", value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nest;
}

/*
 * The coarse stage: k neighbours of every query segment with content; hits
 * whose stored fingerprint has no content are dropped.  Returns the hits.
 */
static sid_vote *
coarse_hits(const catalogue_info *c, Oid ext_namespace, const query_segments *q,
			const sid_content_gate *gate, int k, int64 *n_hits)
{
	Oid			argtypes[2] = {fingerprint_type(ext_namespace), INT4OID};
	SPIPlanPtr	plan = SPI_prepare(coarse_sql(c, ext_namespace), 2, argtypes);
	sid_vote   *hits = palloc(sizeof(sid_vote) * (Size) q->n * k);
	Fingerprint *f = fingerprint_new(q->dim);

	if (!plan)
		elog(ERROR, "could not prepare the coarse query: %s", SPI_result_code_string(SPI_result));
	*n_hits = 0;
	for (int j = 0; j < q->n; j++)
	{
		Datum		values[2];

		if (!q->content[j])
			continue;
		CHECK_FOR_INTERRUPTS();
		memcpy(f->x, q->fp + (Size) j * q->dim, sizeof(float) * q->dim);
		values[0] = PointerGetDatum(f);
		values[1] = Int32GetDatum(k);
		if (SPI_execute_plan(plan, values, NULL, true, k) != SPI_OK_SELECT)
			elog(ERROR, "coarse query failed");
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			bool		n0,
						n1,
						n2;
			Datum		rec = SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &n0);
			Datum		t = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &n1);
			Datum		fd = SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &n2);
			Fingerprint *ref;

			if (n0 || n1 || n2)
				continue;		/* a row without an id, time or fingerprint cannot vote */
			ref = DatumGetFingerprint(fd);
			if (ref->dim != q->dim)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("catalogue %s holds a fingerprint of %d dimensions, the model makes %d",
								c->relation, ref->dim, q->dim)));
			if (!sid_content_gate_has_content(gate, ref->x))
				continue;
			hits[*n_hits] = (sid_vote)
			{
				DatumGetInt64(rec), j, (float) q->t[j], (float) DatumGetFloat8(t),
					(float) fp_inner_product(q->fp + (Size) j * q->dim, ref->x, q->dim)
			};
			(*n_hits)++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	return hits;
}

/* The stored extent of one recording, [first start, last start + window]. */
static bool
recording_extent(const catalogue_info *c, int64 recording, double segment_seconds,
				 double *lo, double *hi)
{
	StringInfoData sql;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(recording)};
	bool		n0,
				n1;
	Datum		a,
				b;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT min(%s)::float8, max(%s)::float8 FROM %s WHERE %s = $1",
					 c->col[1], c->col[1], c->relation, c->col[0]);
	if (SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		return false;
	a = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &n0);
	b = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &n1);
	if (n0 || n1)
		return false;
	*lo = DatumGetFloat8(a);
	*hi = DatumGetFloat8(b) + segment_seconds;
	return true;
}

typedef struct identify_row
{
	sid_alignment a;
	double		coverage;
	bool		accepted;
	bool		verified;
	float		probability;
	int			copy;			/* the query copy it was found with */
} identify_row;

static int
cmp_row(const void *x, const void *y)
{
	const identify_row *a = x,
			   *b = y;

	if (a->accepted != b->accepted)
		return a->accepted ? -1 : 1;
	if (a->verified != b->verified)
		return a->verified ? -1 : 1;
	if (a->verified && a->probability != b->probability)
		return a->probability > b->probability ? -1 : 1;
	if (a->a.segments != b->a.segments)
		return a->a.segments > b->a.segments ? -1 : 1;
	return (a->a.similarity < b->a.similarity) - (a->a.similarity > b->a.similarity);
}

/*
 * Aligns the hits of query copy `copy` (with tempo in sample mode), clamps
 * each alignment to its recording, and decides: at least min_coverage of
 * the content segments (and two, when the query has two) must agree, with
 * mean similarity at least min_similarity.
 */
static int
decide(const catalogue_info *c, const identify_args *args, sid_vote *hits, int64 n_hits,
	   const query_segments *q, int n_content, double segment_seconds, bool sample_mode,
	   int copy, identify_row *rows)
{
	sid_alignment al[IDENTIFY_MAX_CANDIDATES];
	sid_align_params p;
	sid_error	err;
	int32		n_al;
	int			n_rows = 0,
				need = Max(Min(2, n_content), (int) ceil(args->min_coverage * n_content - 1e-9));

	sid_align_params_default(&p, segment_seconds, c->hop_seconds);
	if (sample_mode)
	{
		p.rate_min = SID_ALIGN_SAMPLE_RATE_MIN;
		p.rate_max = SID_ALIGN_SAMPLE_RATE_MAX;
	}
	if (sid_align_votes(hits, n_hits, q->n, &p, al, IDENTIFY_MAX_CANDIDATES, &n_al, &err) != SID_OK)
		ereport(ERROR,
				(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_ARGUMENT)),
				 errmsg("could not align the query: %s", err.msg)));
	for (int i = 0; i < n_al; i++)
	{
		double		lo,
					hi;
		identify_row *r = &rows[n_rows];

		if (!recording_extent(c, al[i].recording, segment_seconds, &lo, &hi))
			continue;			/* deleted meanwhile */
		r->a = al[i];
		if (!sid_alignment_clamp(&r->a, lo, hi))
			continue;
		r->coverage = (double) r->a.segments / n_content;
		r->accepted = r->a.segments >= need && r->a.similarity >= args->min_similarity;
		r->verified = false;
		r->copy = copy;
		n_rows++;
	}
	qsort(rows, n_rows, sizeof(identify_row), cmp_row);
	return n_rows;
}

static sid_verifier_work *verifier_work = NULL;
static char verifier_work_sha256[SID_SHA256_HEX_LEN + 1];

/* Activations for the verifier, kept per backend while the file stays. */
static sid_verifier_work *
verifier_activations(const sid_verifier *v)
{
	sid_error	err;

	if (verifier_work && strcmp(verifier_work_sha256, v->sha256) == 0)
		return verifier_work;
	sid_verifier_work_free(verifier_work);
	verifier_work = sid_verifier_work_create(&v->cfg, &err);
	if (!verifier_work)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not allocate the verifier's activations: %s", err.msg)));
	strlcpy(verifier_work_sha256, v->sha256, sizeof(verifier_work_sha256));
	return verifier_work;
}

static void
check_verifier_pair(const sid_verifier *v, const sid_verifier_pair *p)
{
	sid_error	err;
	sid_status	st = sid_verifier_pair_check(&v->cfg, p, &err);

	if (st != SID_OK)
		ereport(ERROR,
				(errcode(sampleid_sqlstate(st, SAMPLEID_SUBJECT_ARGUMENT)),
				 errmsg("the verifier cannot score this pair: %s", err.msg)));
}

/*
 * The second stage: each candidate that passed the coarse rule (every one
 * when the rejected are shown too) is scored from the query's content
 * segments (those of the aligned query range when there are more than the
 * verifier takes) against the stored fingerprints of its reference range
 * plus the verifier's margin, and accepted by probability.
 */
static void
verify_rows(const catalogue_info *c, Oid ext_namespace, const identify_args *args,
			const query_copies *qc, const sid_verifier *v, identify_row *rows, int n_rows)
{
	const query_segments *q = &qc->all;
	sid_verifier_work *w = verifier_activations(v);
	int			maxq = v->cfg.max_query_segments,
				maxk = v->cfg.max_candidate_segments;
	float	   *qfp = palloc(sizeof(float) * (Size) maxq * q->dim),
			   *cfp = palloc(sizeof(float) * (Size) maxk * q->dim);
	double	   *qt = palloc(sizeof(double) * maxq),
			   *ct = palloc(sizeof(double) * maxk);
	float		threshold = args->min_probability >= 0.0f ? args->min_probability : v->threshold;
	Oid			argtypes[4] = {INT8OID, FLOAT8OID, FLOAT8OID, INT4OID};
	StringInfoData sql;
	SPIPlanPtr	plan;

	if (v->cfg.fp_dim != q->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the verifier of model \"%s\" takes fingerprints of %d dimensions, not %d",
						c->model_used, v->cfg.fp_dim, q->dim)));
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s::float8, %s FROM %s WHERE %s = $1 AND %s >= $2 AND %s <= $3 ORDER BY 1 LIMIT $4",
					 c->col[1], c->col[2], c->relation, c->col[0], c->col[1], c->col[1]);
	plan = SPI_prepare(sql.data, 4, argtypes);
	if (!plan)
		elog(ERROR, "could not prepare the verifier's region query: %s", SPI_result_code_string(SPI_result));
	for (int i = 0; i < n_rows; i++)
	{
		identify_row *r = &rows[i];
		query_segments cq = copy_segments(qc, r->copy);
		sid_verifier_pair p;
		int			nq,
					nk = 0;
		double		lo,
					hi;
		Datum		values[4];

		if (!r->accepted && !args->include_rejected)
			continue;
		CHECK_FOR_INTERRUPTS();
		nq = sid_verifier_query_side(&v->cfg, cq.fp, cq.t, cq.content, cq.n, r->a.query_start,
									 r->a.query_end, r->a.rate, qfp, qt);
		if (nq == 0)
			continue;
		sid_verifier_region(&v->cfg, qt, nq, r->a.offset, &lo, &hi);
		values[0] = Int64GetDatum(r->a.recording);
		values[1] = Float8GetDatum(lo);
		values[2] = Float8GetDatum(hi);
		values[3] = Int32GetDatum(maxk);
		if (SPI_execute_plan(plan, values, NULL, true, maxk) != SPI_OK_SELECT)
			elog(ERROR, "the verifier's region query failed");
		for (uint64 k = 0; k < SPI_processed; k++)
		{
			bool		n0,
						n1;
			Datum		t = SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &n0);
			Datum		fd = SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 2, &n1);
			Fingerprint *f;

			if (n0 || n1)
				continue;
			f = DatumGetFingerprint(fd);
			if (f->dim != q->dim)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("catalogue %s holds a fingerprint of %d dimensions, the model makes %d",
								c->relation, f->dim, q->dim)));
			memcpy(cfp + (Size) nk * q->dim, f->x, sizeof(float) * q->dim);
			ct[nk++] = DatumGetFloat8(t);
		}
		SPI_freetuptable(SPI_tuptable);
		if (nk == 0)
			continue;
		p = (sid_verifier_pair) {qfp, qt, nq, cfp, ct, nk, r->a.offset};
		check_verifier_pair(v, &p);
		r->probability = sid_verifier_probability(v, w, &p);
		r->verified = true;
	}
	/* a candidate the verifier could not score is not accepted on its behalf */
	for (int i = 0; i < n_rows; i++)
		rows[i].accepted = rows[i].accepted && rows[i].verified && rows[i].probability >= threshold;
	qsort(rows, n_rows, sizeof(identify_row), cmp_row);
}

static void
emit_rows(FunctionCallInfo fcinfo, const query_copies *qc, const identify_row *rows, int n,
		  bool include_rejected)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	for (int i = 0; i < n; i++)
	{
		Datum		v[IDENTIFY_COLUMNS];
		bool		nulls[IDENTIFY_COLUMNS] = {0};
		const sid_alignment *a = &rows[i].a;

		if (!rows[i].accepted && !include_rejected)
			continue;
		v[0] = Int64GetDatum(a->recording);
		v[1] = Float4GetDatum((float4) a->query_start);
		v[2] = Float4GetDatum((float4) a->query_end);
		v[3] = Float4GetDatum((float4) a->ref_start);
		v[4] = Float4GetDatum((float4) a->ref_end);
		v[5] = Int32GetDatum(a->segments);
		v[6] = Float4GetDatum((float4) rows[i].coverage);
		v[7] = Float4GetDatum((float4) a->similarity);
		nulls[8] = !rows[i].verified;
		v[8] = Float4GetDatum(rows[i].probability);
		v[9] = BoolGetDatum(rows[i].accepted);
		nulls[10] = nulls[11] = !qc->sample_mode;
		/* the copy shifted by s matched: the query is the recording transposed by -s */
		v[10] = Float4GetDatum((float4) -qc->shift[rows[i].copy]);
		v[11] = Float4GetDatum((float4) a->rate);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
}

/*
 * Sample mode: of one recording's candidates whose query ranges and
 * reference ranges both overlap (the same use, found by several copies, or
 * by one copy at neighbouring rates and offsets: a model trained to ignore
 * transposition and tempo matches a repetitive recording at several), the
 * first (best) is kept.  A sample looped in the query overlaps in the
 * reference only, and stays several uses.  The kept row's acceptance and
 * probability are the first's; its alignment, copy and coverage are those of
 * the repeat with the most agreeing segments (then the highest similarity):
 * the verifier says whether the use is real, the coarse stage's best copy
 * says where and at what pitch and tempo (the verifier ranks neighbouring
 * copies of one use nearly alike, so its favourite is a poor pitch estimate).
 */
static int
drop_repeats(identify_row *rows, int n)
{
	int			kept = 0;

	for (int i = 0; i < n; i++)
	{
		bool		repeat = false;

		for (int j = 0; j < kept && !repeat; j++)
		{
			repeat = sid_alignment_same_use(&rows[j].a, &rows[i].a);
			if (repeat && (rows[i].a.segments > rows[j].a.segments ||
						   (rows[i].a.segments == rows[j].a.segments &&
							rows[i].a.similarity > rows[j].a.similarity)))
			{
				rows[j].a = rows[i].a;
				rows[j].copy = rows[i].copy;
				rows[j].coverage = rows[i].coverage;
			}
		}
		if (!repeat)
			rows[kept++] = rows[i];
	}
	return kept;
}

/* The identification after the query is known; SPI connected. */
static void
identify(FunctionCallInfo fcinfo, const identify_args *args, const catalogue_info *c,
		 Oid ext_namespace, sid_embedder *e, query_copies *qc, instr_time t0)
{
	const sid_content_gate *gate = content_gate(e);
	query_segments *q = &qc->all;
	int			n_content = 0;
	identify_row *rows = palloc(sizeof(identify_row) * IDENTIFY_MAX_CANDIDATES * qc->n);
	int			n_rows = 0;
	instr_time	t1,
				t2,
				t3;
	const sid_verifier *v = NULL;
	int			probes_nest;

	for (int j = 0; j < q->n; j++)
		if (q->content[j] && !sid_content_gate_has_content(gate, q->fp + (Size) j * q->dim))
			q->content[j] = false;
	for (int j = 0; j < q->n; j++)
		n_content += q->content[j];
	INSTR_TIME_SET_CURRENT(t1);
	if (n_content == 0)
	{
		int			n_segments = qc->first[1] - qc->first[0];

		INSTR_TIME_SUBTRACT(t1, t0);
		elog(DEBUG1, "sampleid_identify: 0 of %d segments with content; embed %.3f ms, coarse 0 ms, verifier 0 ms",
			 q->n, INSTR_TIME_GET_MILLISEC(t1));
		ereport(NOTICE,
				(errmsg("no match: none of the query's %d segments has content", n_segments),
				 errdetail("Digital silence, near-silence and stationary tones or noise never count as evidence.")));
		return;
	}
	probes_nest = qc->sample_mode ? raise_probes_for_sample_mode() : -1;
	for (int cpy = 0; cpy < qc->n; cpy++)
	{
		query_segments cq = copy_segments(qc, cpy);
		int			cq_content = 0;
		int64		n_hits;
		sid_vote   *hits;

		for (int j = 0; j < cq.n; j++)
			cq_content += cq.content[j];
		if (cq_content == 0)
			continue;
		hits = coarse_hits(c, ext_namespace, &cq, gate, args->k, &n_hits);
		n_rows += decide(c, args, hits, n_hits, &cq, cq_content, e->model->features.segment_seconds,
						 qc->sample_mode, cpy, rows + n_rows);
		pfree(hits);
	}
	if (probes_nest >= 0)
		AtEOXact_GUC(true, probes_nest);
	if (qc->n > 1)
	{
		qsort(rows, n_rows, sizeof(identify_row), cmp_row);
		n_rows = Min(n_rows, IDENTIFY_MAX_CANDIDATES);
	}
	INSTR_TIME_SET_CURRENT(t2);
	if (args->rerank && (v = sampleid_verifier(c->model_used)) != NULL)
		verify_rows(c, ext_namespace, args, qc, v, rows, n_rows);
	else if (args->rerank)
		ereport(NOTICE,
				(errmsg("model \"%s\" has no verifier installed: decided by the coarse rule alone",
						c->model_used),
				 errhint("Install %s%s beside %s%s for the second stage, or pass rerank => false.",
						 c->model_used, SID_VERIFIER_SUFFIX, c->model_used, SID_MODEL_SUFFIX)));
	if (qc->sample_mode)
		n_rows = drop_repeats(rows, n_rows);
	INSTR_TIME_SET_CURRENT(t3);
	emit_rows(fcinfo, qc, rows, n_rows, args->include_rejected);
	INSTR_TIME_SUBTRACT(t3, t2);
	INSTR_TIME_SUBTRACT(t2, t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	elog(DEBUG1, "sampleid_identify: %d of %d segments with content; embed %.3f ms, coarse %.3f ms, verifier %.3f ms; %d cop%s",
		 n_content, q->n, INSTR_TIME_GET_MILLISEC(t1), INSTR_TIME_GET_MILLISEC(t2),
		 INSTR_TIME_GET_MILLISEC(t3), qc->n, qc->n == 1 ? "y" : "ies");
}

/*
 * Shared by both forms: first is the catalogue argument's position, tail
 * min_probability's.
 */
static Datum
identify_entry(FunctionCallInfo fcinfo, int first, int tail, bool audio_form)
{
	identify_args args;
	catalogue_info cat;
	Oid			ext_namespace = get_func_namespace(fcinfo->flinfo->fn_oid);
	sid_embedder *e;
	query_copies qc;
	instr_time	t0;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || (!audio_form && PG_ARGISNULL(1)))
		return (Datum) 0;		/* no query, no match */
	read_args(fcinfo, first, tail, &args);
	INSTR_TIME_SET_CURRENT(t0);
	resolve_catalogue(&args, ext_namespace, &cat);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	read_registration(ext_namespace, &cat);
	e = choose_model(&args, &cat);
	if (audio_form)
	{
		choose_shifts(&args, e->model, &qc);
		embed_query(e, PG_GETARG_BYTEA_PP(0), &qc);
	}
	else
		query_from_arrays(e, PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1),
						  PG_ARGISNULL(first + 9) ? NULL : PG_GETARG_ARRAYTYPE_P(first + 9),
						  args.semitones, &qc);
	default_thresholds(&args, e->model);
	identify(fcinfo, &args, &cat, ext_namespace, e, &qc, t0);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(sampleid_identify_audio);
Datum
sampleid_identify_audio(PG_FUNCTION_ARGS)
{
	return identify_entry(fcinfo, 1, 10, true);
}

PG_FUNCTION_INFO_V1(sampleid_identify_fingerprints);
Datum
sampleid_identify_fingerprints(PG_FUNCTION_ARGS)
{
	return identify_entry(fcinfo, 2, 12, false);
}

PG_FUNCTION_INFO_V1(sampleid_identify_coarse_query);
Datum
sampleid_identify_coarse_query(PG_FUNCTION_ARGS)
{
	identify_args args;
	catalogue_info cat;
	Oid			ext_namespace = get_func_namespace(fcinfo->flinfo->fn_oid);

	memset(&args, 0, sizeof(args));
	args.catalogue = text_arg(fcinfo, 0, "catalogue");
	for (int i = 0; i < 3; i++)
		args.columns[i] = text_arg(fcinfo, 1 + i, "column");
	resolve_catalogue(&args, ext_namespace, &cat);
	PG_RETURN_TEXT_P(cstring_to_text(coarse_sql(&cat, ext_namespace)));
}

/* An array of fingerprints of dim dimensions into fp, with n elements. */
static float *
fingerprints_from_array(ArrayType *a, const char *what, int dim, int *n)
{
	Datum	   *d;
	bool	   *nulls;
	float	   *fp;

	deconstruct_array(a, ARR_ELEMTYPE(a), -1, false, TYPALIGN_INT, &d, &nulls, n);
	fp = palloc(sizeof(float) * (Size) Max(*n, 1) * dim);
	for (int i = 0; i < *n; i++)
	{
		Fingerprint *f;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s fingerprint %d is null", what, i + 1)));
		f = DatumGetFingerprint(d[i]);
		if (f->dim != dim)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("%s fingerprint %d has %d dimensions, the verifier takes %d", what, i + 1,
							f->dim, dim)));
		memcpy(fp + (Size) i * dim, f->x, sizeof(float) * dim);
	}
	return fp;
}

static double *
times_from_array(ArrayType *a, const char *what, int n_expected)
{
	Datum	   *d;
	bool	   *nulls;
	int			n;
	double	   *t;

	deconstruct_array(a, FLOAT4OID, 4, true, TYPALIGN_INT, &d, &nulls, &n);
	if (n != n_expected)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s fingerprints and their times must have one element each (%d, %d)", what,
						n_expected, n)));
	t = palloc(sizeof(double) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s time %d is null", what, i + 1)));
		t[i] = DatumGetFloat4(d[i]);
	}
	return t;
}

/*
 * sampleid_rerank(query fingerprint[], query_t real[], candidate
 * fingerprint[], candidate_t real[], alignment real, model text): the
 * verifier alone, the probability that the query and the candidate region
 * (reference times; alignment = reference time - query time) share audio.
 */
PG_FUNCTION_INFO_V1(sampleid_rerank);
Datum
sampleid_rerank(PG_FUNCTION_ARGS)
{
	const char *model;
	const sid_verifier *v;
	sid_verifier_pair p;
	int			nq,
				nk;
	float	   *qfp,
			   *cfp;

	for (int i = 0; i < 6; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();
	model = text_to_cstring(PG_GETARG_TEXT_PP(5));
	v = sampleid_verifier(model);
	if (!v)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("no verifier is installed for model \"%s\"", model),
				 errhint("Install %s%s beside %s%s in the model directory (make install does).", model,
						 SID_VERIFIER_SUFFIX, model, SID_MODEL_SUFFIX)));
	qfp = fingerprints_from_array(PG_GETARG_ARRAYTYPE_P(0), "query", v->cfg.fp_dim, &nq);
	cfp = fingerprints_from_array(PG_GETARG_ARRAYTYPE_P(2), "candidate", v->cfg.fp_dim, &nk);
	p = (sid_verifier_pair)
	{
		qfp, times_from_array(PG_GETARG_ARRAYTYPE_P(1), "query", nq), nq,
			cfp, times_from_array(PG_GETARG_ARRAYTYPE_P(3), "candidate", nk), nk,
			PG_GETARG_FLOAT4(4)
	};
	check_verifier_pair(v, &p);
	PG_RETURN_FLOAT4(sid_verifier_probability(v, verifier_activations(v), &p));
}

/*
 * sampleid_embed_copies(audio, model, semitones): the fingerprints of the
 * transposed copies sample mode searches (semitones NULL: the audio form's
 * choice for the model), copy after copy, each row with its shift and
 * whether it has content: what sampleid_match_uses takes as shifts, for
 * works matched inside the server.  Each copy is bounded as a query is
 * (sampleid.identify_max_segments), the copies by
 * sampleid.identify_max_copies.
 */
PG_FUNCTION_INFO_V1(sampleid_embed_copies);
Datum
sampleid_embed_copies(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	identify_args args;
	sid_embedder *e;
	query_copies qc;
	const query_segments *q = &qc.all;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be null")));
	memset(&args, 0, sizeof(args));
	args.semitones = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	e = sampleid_embedder(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	fingerprint_check_dim(e->model->enc->cfg.embed_dim);
	choose_shifts(&args, e->model, &qc);
	embed_query(e, PG_GETARG_BYTEA_PP(0), &qc);
	for (int c = 0; c < qc.n; c++)
		for (int r = qc.first[c]; r < qc.first[c + 1]; r++)
		{
			Fingerprint *f = fingerprint_new(q->dim);
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};

			memcpy(f->x, q->fp + (Size) r * q->dim, sizeof(float) * q->dim);
			values[0] = Int32GetDatum(r - qc.first[c]);
			values[1] = Float4GetDatum((float4) q->t[r]);
			values[2] = PointerGetDatum(f);
			values[3] = Int32GetDatum(qc.shift[c]);
			values[4] = BoolGetDatum(q->content[r]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			pfree(f);
		}
	return (Datum) 0;
}
