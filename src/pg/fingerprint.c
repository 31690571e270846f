/*
 * fingerprint.c - the fingerprint type: text and binary I/O, type modifier,
 * casts to and from arrays, norms and the three distance operators.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "pg/fingerprint.h"
#include "core/sid_fp_io.h"

/* ---------- validation shared by every way a fingerprint is made ---------- */

void
fingerprint_check_dim(int dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("fingerprint must have at least 1 dimension")));
	if (dim > sampleid_max_dimensions)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("fingerprint cannot have more than %d dimensions, got %d",
						sampleid_max_dimensions, dim),
				 errhint("The limit is set by sampleid.max_dimensions (at most %d).",
						 FINGERPRINT_HARD_MAX_DIM)));
}

void
fingerprint_check_value(float value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN is not allowed in a fingerprint")));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value is not allowed in a fingerprint")));
}

void
fingerprint_check_same_dim(const Fingerprint *a, const Fingerprint *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("fingerprints have different dimensions: %d and %d",
						a->dim, b->dim)));
}

static void
check_typmod(int typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

Fingerprint *
fingerprint_new(int dim)
{
	Size		size = FINGERPRINT_SIZE(dim);
	Fingerprint *fp;

	fingerprint_check_dim(dim);
	fp = (Fingerprint *) palloc0(size);
	SET_VARSIZE(fp, size);
	fp->dim = dim;
	return fp;
}

/* ---------- arithmetic on raw arrays (also used by the index) ---------- */

double
fp_inner_product(const float *a, const float *b, int dim)
{
	double		sum = 0.0;

	for (int i = 0; i < dim; i++)
		sum += (double) a[i] * b[i];
	return sum;
}

double
fp_squared_l2(const float *a, const float *b, int dim)
{
	double		sum = 0.0;

	for (int i = 0; i < dim; i++)
	{
		double		d = (double) a[i] - b[i];

		sum += d * d;
	}
	return sum;
}

static double
norm_or_error(const float *x, int dim)
{
	double		norm = sqrt(fp_inner_product(x, x, dim));

	if (norm == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fingerprint has zero norm"),
				 errdetail("A zero vector has no direction, so it cannot be normalised or compared by angle.")));
	return norm;
}

double
fp_cosine_distance(const float *a, const float *b, int dim)
{
	double		cosine = fp_inner_product(a, b, dim) /
		(norm_or_error(a, dim) * norm_or_error(b, dim));

	/* rounding can push |cosine| a hair past 1 */
	if (cosine > 1.0)
		cosine = 1.0;
	else if (cosine < -1.0)
		cosine = -1.0;
	return 1.0 - cosine;
}

/* ---------- text I/O ---------- */

/*
 * The type's input functions (text and binary: what COPY, pg_restore and
 * clients use) accept any value the type can hold, up to
 * FINGERPRINT_HARD_MAX_DIM (64 KB) or the column's declared dimension, not
 * sampleid.max_dimensions: a value stored under a raised limit must restore
 * under the default.  The setting bounds fingerprints that functions and
 * casts compute (fingerprint_new).
 */
static Fingerprint *
fingerprint_from_values(const float *values, int dim, int32 typmod)
{
	Size		size = FINGERPRINT_SIZE(dim);
	Fingerprint *fp;

	check_typmod(typmod, dim);
	fp = (Fingerprint *) palloc(size);
	SET_VARSIZE(fp, size);
	fp->dim = dim;
	memcpy(fp->x, values, sizeof(float) * dim);
	return fp;
}

/* Raise the error a parse of the text or binary format ended with. */
static void
report_parse(const sid_fp_parse *p, const char *text, int max_dim)
{
	switch (p->outcome)
	{
		case SID_FP_OK:
			return;
		case SID_FP_MALFORMED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("malformed fingerprint literal: \"%s\"", text),
					 strcmp(p->expected, "\"[\"") == 0 ?
					 errdetail("A fingerprint starts with \"[\".") :
					 strcmp(p->expected, "nothing after \"]\"") == 0 ?
					 errdetail("Unexpected text after \"]\".") :
					 errdetail("Expected %s at position %d.", p->expected, (int) p->offset + 1)));
			break;
		case SID_FP_BAD_BINARY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 p->reserved != 0 ?
					 errmsg("invalid binary fingerprint: reserved field is %d, expected 0", p->reserved) :
					 errmsg("invalid binary fingerprint: %d dimensions announced, %d bytes of data follow",
							p->announced_dim, (int) p->data_bytes)));
			break;
		case SID_FP_EMPTY:
			fingerprint_check_dim(0);
			break;
		case SID_FP_NAN:
			fingerprint_check_value(NAN);
			break;
		case SID_FP_INFINITE:
			fingerprint_check_value(INFINITY);
			break;
		case SID_FP_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 text != NULL ?
					 errmsg("\"%.*s\" is out of range for a fingerprint component",
							(int) p->token_len, text + p->offset) :
					 errmsg("fingerprint component %d is out of range", p->dim + 1)));
			break;
		case SID_FP_TOO_MANY:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("fingerprint cannot have more than %d dimensions, got %d",
							max_dim, Max(p->dim + 1, p->announced_dim))));
			break;
	}
	elog(ERROR, "unknown fingerprint parse outcome %d", (int) p->outcome);
}

PG_FUNCTION_INFO_V1(fingerprint_in);
Datum
fingerprint_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			capacity = Min(sid_fp_text_capacity(text), FINGERPRINT_HARD_MAX_DIM);
	float	   *values = palloc(sizeof(float) * capacity);
	sid_fp_parse p;
	Fingerprint *fp;

	sid_fp_parse_text(text, FINGERPRINT_HARD_MAX_DIM, values, capacity, &p);
	report_parse(&p, text, FINGERPRINT_HARD_MAX_DIM);
	fp = fingerprint_from_values(values, p.dim, typmod);
	pfree(values);
	PG_RETURN_FINGERPRINT_P(fp);
}

PG_FUNCTION_INFO_V1(fingerprint_out);
Datum
fingerprint_out(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	StringInfoData buf;
	char		number[FLOAT_SHORTEST_DECIMAL_LEN];

	initStringInfo(&buf);
	enlargeStringInfo(&buf, fp->dim * 12 + 2);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < fp->dim; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		float_to_shortest_decimal_buf(fp->x[i], number);
		appendStringInfoString(&buf, number);
	}
	appendStringInfoChar(&buf, ']');
	PG_FREE_IF_COPY(fp, 0);
	PG_RETURN_CSTRING(buf.data);
}

/* ---------- type modifier: fingerprint(128) ---------- */

PG_FUNCTION_INFO_V1(fingerprint_typmod_in);
Datum
fingerprint_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *mods;
	int			n;

	mods = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("fingerprint takes one modifier, its number of dimensions.")));
	if (mods[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type fingerprint must be at least 1")));
	if (mods[0] > FINGERPRINT_HARD_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("dimensions for type fingerprint cannot exceed %d",
						FINGERPRINT_HARD_MAX_DIM)));
	PG_RETURN_INT32(mods[0]);
}

PG_FUNCTION_INFO_V1(fingerprint_typmod_out);
Datum
fingerprint_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	PG_RETURN_CSTRING(typmod < 0 ? pstrdup("") : psprintf("(%d)", typmod));
}

/* Length coercion, applied when a value is stored into fingerprint(n). */
PG_FUNCTION_INFO_V1(fingerprint_coerce);
Datum
fingerprint_coerce(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	check_typmod(typmod, fp->dim);
	PG_RETURN_FINGERPRINT_P(fp);
}

/* ---------- binary I/O ---------- */

PG_FUNCTION_INFO_V1(fingerprint_recv);
Datum
fingerprint_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	size_t		len = (size_t) (buf->len - buf->cursor);
	/* room for all the data can hold, at most the ceiling (which it checks) */
	int			capacity = (int) Max(1, Min(len / sizeof(float), FINGERPRINT_HARD_MAX_DIM));
	float	   *values = palloc(sizeof(float) * capacity);
	sid_fp_parse p;
	Fingerprint *fp;

	sid_fp_parse_binary((const unsigned char *) buf->data + buf->cursor, len, capacity, values, &p);
	report_parse(&p, NULL, FINGERPRINT_HARD_MAX_DIM);
	buf->cursor = buf->len;
	fp = fingerprint_from_values(values, p.dim, typmod);
	pfree(values);
	PG_RETURN_FINGERPRINT_P(fp);
}

PG_FUNCTION_INFO_V1(fingerprint_send);
Datum
fingerprint_send(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint(&buf, fp->dim, sizeof(int16));
	pq_sendint(&buf, 0, sizeof(int16));
	for (int i = 0; i < fp->dim; i++)
		pq_sendfloat4(&buf, fp->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------- casts to and from arrays ---------- */

PG_FUNCTION_INFO_V1(array_to_fingerprint);
Datum
array_to_fingerprint(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Fingerprint *fp;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be one-dimensional to become a fingerprint")));
	/* fingerprint_to_float4_array gives back lower bound 1: no silent renumbering */
	if (ARR_NDIM(array) == 1 && ARR_LBOUND(array)[0] != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must start at index 1 to become a fingerprint, not %d",
						ARR_LBOUND(array)[0])));
	if (elemtype != FLOAT4OID && elemtype != FLOAT8OID && elemtype != INT4OID &&
		elemtype != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot make a fingerprint from an array of %s",
						format_type_be(elemtype))));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("fingerprint must have at least 1 dimension")));
	check_typmod(typmod, n);
	fp = fingerprint_new(n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array element %d is NULL; a fingerprint cannot hold NULLs", i + 1)));
		switch (elemtype)
		{
			case FLOAT4OID:
				fp->x[i] = DatumGetFloat4(elems[i]);
				break;
			case FLOAT8OID:
				{
					double		v = DatumGetFloat8(elems[i]);

					/* as float4(double precision) does: no overflow, no nonzero to 0 */
					if (isfinite(v) && (fabs(v) > FLT_MAX || (v != 0.0 && (float) v == 0.0f)))
						ereport(ERROR,
								(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
								 errmsg("array element %d is out of range for a fingerprint component", i + 1)));
					fp->x[i] = (float) v;
					break;
				}
			case INT4OID:
				fp->x[i] = (float) DatumGetInt32(elems[i]);
				break;
			case NUMERICOID:
				fp->x[i] = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i]));
				break;
		}
		fingerprint_check_value(fp->x[i]);
	}
	PG_RETURN_FINGERPRINT_P(fp);
}

PG_FUNCTION_INFO_V1(fingerprint_to_float4_array);
Datum
fingerprint_to_float4_array(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	Datum	   *elems = palloc(sizeof(Datum) * fp->dim);

	for (int i = 0; i < fp->dim; i++)
		elems[i] = Float4GetDatum(fp->x[i]);
	PG_RETURN_POINTER(construct_array(elems, fp->dim, FLOAT4OID, sizeof(float4),
									  true, TYPALIGN_INT));
}

/* ---------- functions ---------- */

PG_FUNCTION_INFO_V1(fingerprint_dims);
Datum
fingerprint_dims(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);

	PG_RETURN_INT32(fp->dim);
}

PG_FUNCTION_INFO_V1(fingerprint_norm);
Datum
fingerprint_norm(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);

	PG_RETURN_FLOAT8(sqrt(fp_inner_product(fp->x, fp->x, fp->dim)));
}

PG_FUNCTION_INFO_V1(fingerprint_normalize);
Datum
fingerprint_normalize(PG_FUNCTION_ARGS)
{
	Fingerprint *fp = PG_GETARG_FINGERPRINT_P(0);
	double		norm = norm_or_error(fp->x, fp->dim);
	Fingerprint *result = fingerprint_new(fp->dim);

	for (int i = 0; i < fp->dim; i++)
		result->x[i] = (float) (fp->x[i] / norm);
	PG_RETURN_FINGERPRINT_P(result);
}

/* ---------- distance operators ---------- */

typedef double (*fp_distance_fn) (const float *a, const float *b, int dim);

/* The distance between the two fingerprint arguments, which must agree in dimension. */
static double
distance_of_args(FunctionCallInfo fcinfo, fp_distance_fn distance)
{
	Fingerprint *a = PG_GETARG_FINGERPRINT_P(0);
	Fingerprint *b = PG_GETARG_FINGERPRINT_P(1);

	fingerprint_check_same_dim(a, b);
	return distance(a->x, b->x, a->dim);
}

PG_FUNCTION_INFO_V1(fingerprint_inner_product);
Datum
fingerprint_inner_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(distance_of_args(fcinfo, fp_inner_product));
}

/* <#>: smaller is closer, so ORDER BY ... ASC finds the most similar. */
PG_FUNCTION_INFO_V1(fingerprint_negative_inner_product);
Datum
fingerprint_negative_inner_product(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(-distance_of_args(fcinfo, fp_inner_product));
}

PG_FUNCTION_INFO_V1(fingerprint_cosine_distance);
Datum
fingerprint_cosine_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(distance_of_args(fcinfo, fp_cosine_distance));
}

PG_FUNCTION_INFO_V1(fingerprint_l2_distance);
Datum
fingerprint_l2_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(sqrt(distance_of_args(fcinfo, fp_squared_l2)));
}

PG_FUNCTION_INFO_V1(fingerprint_l2_squared_distance);
Datum
fingerprint_l2_squared_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(distance_of_args(fcinfo, fp_squared_l2));
}

/* ---------- equality, so DISTINCT, GROUP BY and UNIQUE work ---------- */

static int
fingerprint_cmp_internal(const Fingerprint *a, const Fingerprint *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

PG_FUNCTION_INFO_V1(fingerprint_cmp);
Datum
fingerprint_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(fingerprint_cmp_internal(PG_GETARG_FINGERPRINT_P(0),
											 PG_GETARG_FINGERPRINT_P(1)));
}

#define FINGERPRINT_CMP_FN(name, op) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(fingerprint_cmp_internal(PG_GETARG_FINGERPRINT_P(0), \
											PG_GETARG_FINGERPRINT_P(1)) op 0); \
}

FINGERPRINT_CMP_FN(fingerprint_lt, <)
FINGERPRINT_CMP_FN(fingerprint_le, <=)
FINGERPRINT_CMP_FN(fingerprint_eq, ==)
FINGERPRINT_CMP_FN(fingerprint_ne, !=)
FINGERPRINT_CMP_FN(fingerprint_ge, >=)
FINGERPRINT_CMP_FN(fingerprint_gt, >)
