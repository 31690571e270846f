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
#include "parser/scansup.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "pg/fingerprint.h"

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

static char *
skip_space(char *p)
{
	while (scanner_isspace(*p))
		p++;
	return p;
}

/* A literal that is not "[number, ...]": what was expected at p. */
static void malformed_at(const char *text, const char *p, const char *expected) pg_attribute_noreturn();

static void
malformed_at(const char *text, const char *p, const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("malformed fingerprint literal: \"%s\"", text),
			 errdetail("Expected %s at position %d.", expected, (int) (p - text) + 1)));
}

/* The component starting at *p, checked; *p moves past it. */
static float
parse_component(const char *text, char **p)
{
	char	   *start = skip_space(*p);
	char	   *end;
	float		value;

	if (*start == '\0' || *start == ',' || *start == ']')
		malformed_at(text, start, "a number");
	errno = 0;
	value = strtof(start, &end);
	if (end == start)
		malformed_at(text, start, "a number");
	if (errno == ERANGE && isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%.*s\" is out of range for a fingerprint component",
						(int) (end - start), start)));
	fingerprint_check_value(value);
	*p = end;
	return value;
}

PG_FUNCTION_INFO_V1(fingerprint_in);
Datum
fingerprint_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	char	   *p = skip_space(text);
	int			capacity = 128;
	int			dim = 0;
	float	   *values = palloc(sizeof(float) * capacity);
	Fingerprint *fp;

	if (*p != '[')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("malformed fingerprint literal: \"%s\"", text),
				 errdetail("A fingerprint starts with \"[\".")));
	p = skip_space(p + 1);
	if (*p == ']')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("fingerprint must have at least 1 dimension")));
	for (;;)
	{
		float		value = parse_component(text, &p);

		if (dim >= sampleid_max_dimensions)
			fingerprint_check_dim(dim + 1);
		if (dim == capacity)
		{
			capacity *= 2;
			values = repalloc(values, sizeof(float) * capacity);
		}
		values[dim++] = value;

		p = skip_space(p);
		if (*p == ']')
			break;
		if (*p != ',')
			malformed_at(text, p, "\",\" or \"]\"");
		p++;
	}
	if (*skip_space(p + 1) != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("malformed fingerprint literal: \"%s\"", text),
				 errdetail("Unexpected text after \"]\".")));

	check_typmod(typmod, dim);
	fp = fingerprint_new(dim);
	memcpy(fp->x, values, sizeof(float) * dim);
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
	int			dim = pq_getmsgint(buf, sizeof(int16));
	int			unused = pq_getmsgint(buf, sizeof(int16));
	Fingerprint *fp;

	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary fingerprint: reserved field is %d, expected 0", unused)));
	if (dim < 1 || dim > FINGERPRINT_HARD_MAX_DIM ||
		(Size) (buf->len - buf->cursor) != sizeof(float) * dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary fingerprint: %d dimensions announced, %d bytes of data follow",
						dim, buf->len - buf->cursor)));
	check_typmod(typmod, dim);
	fp = fingerprint_new(dim);
	for (int i = 0; i < dim; i++)
	{
		fp->x[i] = pq_getmsgfloat4(buf);
		fingerprint_check_value(fp->x[i]);
	}
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

					if (isfinite(v) && fabs(v) > FLT_MAX)
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
