-- pg_sampleid upgrade from 0.1 (the first release) to 0.2.
--
-- This file holds the changes to objects that 0.1 made; the Makefile appends
-- the sql/ext parts that are wholly new since 0.1 (EXT_SQL_NEW) to build the
-- installed upgrade script.  ALTER EXTENSION sampleid UPDATE must give a
-- database made by 0.1 exactly the objects of a fresh CREATE EXTENSION
-- (t/050_upgrade.pl compares the two).
\echo Use "ALTER EXTENSION sampleid UPDATE TO '0.2'" to load this file. \quit

-- sampleid_models() reports the SHA-256 of each model file (a new OUT column).
DROP FUNCTION sampleid_models();
CREATE FUNCTION sampleid_models(
    OUT name text, OUT trained boolean, OUT parameters bigint, OUT mflops real,
    OUT embed_dim int, OUT sample_rate int, OUT n_fft int, OUT hop_length int, OUT n_mels int,
    OUT segment_seconds real, OUT segment_hop_seconds real, OUT architecture text,
    OUT note text, OUT path text, OUT error text, OUT sha256 text,
    OUT min_similarity real, OUT min_coverage real)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'sampleid_models'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_models() IS
    'the model files in the model directory (sampleid.model_dir or $sharedir/extension/sampleid_models), with their configurations, the SHA-256 of each file and the coarse rule sampleid_identify applies by default (min_similarity, min_coverage)';

-- issue 15: the audio functions' results depend on the sampleid.max_* settings
ALTER FUNCTION sampleid_audio_info(bytea) STABLE;
ALTER FUNCTION sampleid_audio_segments(bytea, integer, double precision, double precision) STABLE;
