-- pg_sampleid extension script (assembled from sql/ext/*.sql in name order)
\echo Use "CREATE EXTENSION sampleid" to load this file. \quit

CREATE FUNCTION sampleid_device(
    OUT requested text, OUT device text, OUT built_with_cuda boolean, OUT reason text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'sampleid_device_info'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_device() IS
    'which device (cpu or cuda) this backend''s neural inference will use, and why';
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

-- Audio front end (src/pg/audio.c, src/lib/audio/sid_audio.c, src/lib/audio/sid_mel.c;
-- conventions in docs/audio.md).

CREATE FUNCTION sampleid_audio_info(audio bytea,
    OUT duration_seconds double precision, OUT sample_rate integer,
    OUT channels integer, OUT format text, OUT encoding text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'sampleid_audio_info'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_audio_info(bytea) IS
    'duration, original sample rate, channels, container format and encoding of encoded audio';

CREATE FUNCTION sampleid_audio_segments(audio bytea,
    hop_length integer DEFAULT 256,
    window_seconds double precision DEFAULT 1.0,
    window_hop_seconds double precision DEFAULT 0.5,
    OUT seg integer, OUT t_start double precision, OUT mel real[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'sampleid_audio_segments'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_audio_segments(bytea, integer, double precision, double precision) IS
    'model windows of audio: number, start time (s) and log-mel frames (real[frames][64], dB) at 16 kHz, n_fft 1024';

CREATE FUNCTION sampleid_audio_file_info(path text,
    OUT duration_seconds double precision, OUT sample_rate integer,
    OUT channels integer, OUT format text, OUT encoding text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'sampleid_audio_file_info'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_audio_file_info(text) IS
    'sampleid_audio_info of a server file (superusers and pg_read_server_files members only)';

CREATE FUNCTION sampleid_audio_file_segments(path text,
    hop_length integer DEFAULT 256,
    window_seconds double precision DEFAULT 1.0,
    window_hop_seconds double precision DEFAULT 0.5,
    OUT seg integer, OUT t_start double precision, OUT mel real[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'sampleid_audio_file_segments'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_audio_file_segments(text, integer, double precision, double precision) IS
    'sampleid_audio_segments of a server file (superusers and pg_read_server_files members only)';
-- Neural inference: audio to fingerprints with an installed model.

CREATE FUNCTION sampleid_embed(audio bytea, model text DEFAULT 'fp')
    RETURNS TABLE(seg int, t_start real, fp fingerprint)
    AS 'MODULE_PATHNAME', 'sampleid_embed'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION sampleid_embed(bytea, text) IS
    'fingerprint of every segment of the audio (any format libsndfile reads) with the named model; the default "fp" must be trained';

CREATE FUNCTION sampleid_models(
    OUT name text, OUT trained boolean, OUT parameters bigint, OUT mflops real,
    OUT embed_dim int, OUT sample_rate int, OUT n_fft int, OUT hop_length int, OUT n_mels int,
    OUT segment_seconds real, OUT segment_hop_seconds real, OUT architecture text,
    OUT note text, OUT path text, OUT error text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'sampleid_models'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_models() IS
    'the model files in the model directory (sampleid.model_dir or $sharedir/extension/sampleid_models), with their configurations';
-- ivfpq: an IVF-PQ index access method on fingerprints (docs/ivfpq.md)

CREATE FUNCTION ivfpqhandler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD ivfpq TYPE INDEX HANDLER ivfpqhandler;
COMMENT ON ACCESS METHOD ivfpq IS
    'inverted lists of product-quantised fingerprints, trained with FAISS, re-ranked exactly';

-- Support function 1 of each operator class names its metric; taking and
-- returning internal keeps them out of reach of plain SQL.
CREATE FUNCTION ivfpq_metric_inner_product(internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ivfpq_metric_cosine(internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ivfpq_metric_l2(internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Fingerprints are L2-normalised, so inner product is the default.
CREATE OPERATOR CLASS fingerprint_ip_ops
    DEFAULT FOR TYPE fingerprint USING ivfpq AS
    OPERATOR 1 <#> (fingerprint, fingerprint) FOR ORDER BY float_ops,
    FUNCTION 1 ivfpq_metric_inner_product(internal);

CREATE OPERATOR CLASS fingerprint_cosine_ops
    FOR TYPE fingerprint USING ivfpq AS
    OPERATOR 1 <=> (fingerprint, fingerprint) FOR ORDER BY float_ops,
    FUNCTION 1 ivfpq_metric_cosine(internal);

CREATE OPERATOR CLASS fingerprint_l2_ops
    FOR TYPE fingerprint USING ivfpq AS
    OPERATOR 1 <-> (fingerprint, fingerprint) FOR ORDER BY float_ops,
    FUNCTION 1 ivfpq_metric_l2(internal);

-- Structural check of an ivfpq index, like contrib/amcheck (docs/ivfpq.md).
CREATE FUNCTION ivfpq_check(index regclass,
    OUT lists int, OUT data_pages bigint, OUT entries bigint, OUT unreached_pages bigint)
    RETURNS record
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION ivfpq_check(regclass) FROM PUBLIC;
COMMENT ON FUNCTION ivfpq_check(regclass) IS
    'verify an ivfpq index''s pages, chains and entries; ERROR on corruption';
