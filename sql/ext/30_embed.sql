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
    OUT note text, OUT path text, OUT error text, OUT sha256 text,
    OUT min_similarity real, OUT min_coverage real)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'sampleid_models'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_models() IS
    'the model files in the model directory (sampleid.model_dir or $sharedir/extension/sampleid_models), with their configurations, the SHA-256 of each file and the coarse rule sampleid_identify applies by default (min_similarity, min_coverage)';
