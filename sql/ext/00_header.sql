-- pg_sampleid extension script (assembled from sql/ext/*.sql in name order)
\echo Use "CREATE EXTENSION sampleid" to load this file. \quit

CREATE FUNCTION sampleid_device(
    OUT requested text, OUT device text, OUT built_with_cuda boolean, OUT reason text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'sampleid_device_info'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_device() IS
    'which device (cpu or cuda) this backend''s neural inference will use, and why';
