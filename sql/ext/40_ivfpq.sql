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
