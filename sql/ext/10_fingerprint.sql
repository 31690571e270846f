-- The fingerprint type: one embedding of one audio segment.

CREATE TYPE fingerprint;

CREATE FUNCTION fingerprint_in(cstring, oid, integer) RETURNS fingerprint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_out(fingerprint) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_typmod_in(cstring[]) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_typmod_out(integer) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_recv(internal, oid, integer) RETURNS fingerprint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_send(fingerprint) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE fingerprint (
    INPUT          = fingerprint_in,
    OUTPUT         = fingerprint_out,
    TYPMOD_IN      = fingerprint_typmod_in,
    TYPMOD_OUT     = fingerprint_typmod_out,
    RECEIVE        = fingerprint_recv,
    SEND           = fingerprint_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT      = int4,
    STORAGE        = external
);
COMMENT ON TYPE fingerprint IS
    'embedding of one audio segment: float4 components, dimension as type modifier';

-- length coercion for fingerprint(n)
CREATE FUNCTION fingerprint(fingerprint, integer, boolean) RETURNS fingerprint
    AS 'MODULE_PATHNAME', 'fingerprint_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (fingerprint AS fingerprint)
    WITH FUNCTION fingerprint(fingerprint, integer, boolean) AS IMPLICIT;

-- casts to and from arrays
CREATE FUNCTION array_to_fingerprint(real[], integer, boolean) RETURNS fingerprint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_fingerprint(double precision[], integer, boolean) RETURNS fingerprint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_fingerprint(integer[], integer, boolean) RETURNS fingerprint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_fingerprint(numeric[], integer, boolean) RETURNS fingerprint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_to_float4_array(fingerprint, integer, boolean) RETURNS real[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (real[] AS fingerprint)
    WITH FUNCTION array_to_fingerprint(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS fingerprint)
    WITH FUNCTION array_to_fingerprint(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS fingerprint)
    WITH FUNCTION array_to_fingerprint(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS fingerprint)
    WITH FUNCTION array_to_fingerprint(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (fingerprint AS real[])
    WITH FUNCTION fingerprint_to_float4_array(fingerprint, integer, boolean) AS IMPLICIT;

-- functions
CREATE FUNCTION fingerprint_dims(fingerprint) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fingerprint_dims(fingerprint) IS 'number of dimensions';
CREATE FUNCTION fingerprint_norm(fingerprint) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fingerprint_norm(fingerprint) IS 'Euclidean (L2) norm';
CREATE FUNCTION fingerprint_normalize(fingerprint) RETURNS fingerprint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fingerprint_normalize(fingerprint) IS
    'the same direction with norm 1; a zero vector is an error';

-- distances
CREATE FUNCTION fingerprint_inner_product(fingerprint, fingerprint) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_negative_inner_product(fingerprint, fingerprint) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_cosine_distance(fingerprint, fingerprint) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_l2_distance(fingerprint, fingerprint) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_l2_squared_distance(fingerprint, fingerprint) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR <#> (
    LEFTARG = fingerprint, RIGHTARG = fingerprint,
    FUNCTION = fingerprint_negative_inner_product, COMMUTATOR = '<#>'
);
COMMENT ON OPERATOR <#> (fingerprint, fingerprint) IS
    'negative inner product: for normalised fingerprints, smaller is more similar';
CREATE OPERATOR <=> (
    LEFTARG = fingerprint, RIGHTARG = fingerprint,
    FUNCTION = fingerprint_cosine_distance, COMMUTATOR = '<=>'
);
COMMENT ON OPERATOR <=> (fingerprint, fingerprint) IS 'cosine distance, 1 - cos(angle)';
CREATE OPERATOR <-> (
    LEFTARG = fingerprint, RIGHTARG = fingerprint,
    FUNCTION = fingerprint_l2_distance, COMMUTATOR = '<->'
);
COMMENT ON OPERATOR <-> (fingerprint, fingerprint) IS 'Euclidean distance';

-- comparison (lexicographic), so DISTINCT, GROUP BY, ORDER BY fp and UNIQUE work
CREATE FUNCTION fingerprint_cmp(fingerprint, fingerprint) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_lt(fingerprint, fingerprint) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_le(fingerprint, fingerprint) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_eq(fingerprint, fingerprint) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_ne(fingerprint, fingerprint) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_ge(fingerprint, fingerprint) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fingerprint_gt(fingerprint, fingerprint) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR < (LEFTARG = fingerprint, RIGHTARG = fingerprint, FUNCTION = fingerprint_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = fingerprint, RIGHTARG = fingerprint, FUNCTION = fingerprint_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = fingerprint, RIGHTARG = fingerprint, FUNCTION = fingerprint_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR <> (LEFTARG = fingerprint, RIGHTARG = fingerprint, FUNCTION = fingerprint_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = fingerprint, RIGHTARG = fingerprint, FUNCTION = fingerprint_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = fingerprint, RIGHTARG = fingerprint, FUNCTION = fingerprint_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS fingerprint_ops DEFAULT FOR TYPE fingerprint USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 fingerprint_cmp(fingerprint, fingerprint);
