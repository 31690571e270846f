-- Identification as one call: the coarse stage (one top-k statement per query
-- segment, answered by the ivfpq index), offset voting, time ranges, and the
-- decision; no row means no match.  min_coverage and min_similarity NULL are
-- 0.7 and 0.78, the rule calibrated for <= 1 % false accepts by
-- the open-set benchmark, `sampleid eval --open-set` (docs/benchmarks.md, "Open-set identification"),
-- and 0.8 and 0.74 for a sample-kind model (docs/sample-model.md, "Sample mode
-- in identification").
-- Then the verifier installed beside the model (NAME.sidv) scores each
-- candidate: accepted when its probability reaches min_probability (NULL:
-- the threshold calibrated into the verifier's file), ordered by it;
-- rerank => false is the coarse stage alone (a model with no verifier installed
-- decides by the coarse stage alone, with a NOTICE).  Sample mode (a sample-kind
-- model, or semitones other than {0}): the query is searched as transposed copies
-- (the audio form makes them: semitones NULL is -3 .. +3 for a sample-kind model,
-- {0} otherwise; the fingerprints form takes the client's, semitones giving each
-- row's shift), aligned with tempo, and each match has its pitch (semitones) and
-- tempo estimates, NULL outside sample mode.  The catalogue is named as text and cast
-- per call (a regclass default would be resolved, and depended on, when the
-- extension is created).

CREATE FUNCTION sampleid_identify(
    query bytea, catalogue text DEFAULT 'segments', model text DEFAULT NULL,
    k int DEFAULT 20, min_similarity real DEFAULT NULL, min_coverage real DEFAULT NULL,
    include_rejected boolean DEFAULT false,
    recording_column text DEFAULT 'recording_id', time_column text DEFAULT 't_start',
    fingerprint_column text DEFAULT 'fp', min_probability real DEFAULT NULL,
    rerank boolean DEFAULT true, semitones int[] DEFAULT NULL)
    RETURNS TABLE(recording_id bigint, query_start real, query_end real, ref_start real,
                  ref_end real, segments int, coverage real, similarity real,
                  probability real, accepted boolean, semitones real, tempo real)
    AS 'MODULE_PATHNAME', 'sampleid_identify_audio'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 3;
COMMENT ON FUNCTION sampleid_identify(bytea, text, text, int, real, real, boolean, text, text, text, real, boolean, int[]) IS
    'the catalogue recordings heard in the audio, best first, with time ranges on both sides; no row means no match';

CREATE FUNCTION sampleid_identify(
    fingerprints fingerprint[], t_start real[], catalogue text DEFAULT 'segments',
    model text DEFAULT NULL, k int DEFAULT 20, min_similarity real DEFAULT NULL,
    min_coverage real DEFAULT NULL, include_rejected boolean DEFAULT false,
    recording_column text DEFAULT 'recording_id', time_column text DEFAULT 't_start',
    fingerprint_column text DEFAULT 'fp', content boolean[] DEFAULT NULL,
    min_probability real DEFAULT NULL, rerank boolean DEFAULT true,
    semitones int[] DEFAULT NULL)
    RETURNS TABLE(recording_id bigint, query_start real, query_end real, ref_start real,
                  ref_end real, segments int, coverage real, similarity real,
                  probability real, accepted boolean, semitones real, tempo real)
    AS 'MODULE_PATHNAME', 'sampleid_identify_fingerprints'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 3;
COMMENT ON FUNCTION sampleid_identify(fingerprint[], real[], text, text, int, real, real, boolean, text, text, text, boolean[], real, boolean, int[]) IS
    'sampleid_identify for a query already fingerprinted (by the same model) on the client: its fingerprints, their start times, and optionally which segments have content and the shift in semitones each was made at';

CREATE FUNCTION sampleid_identify_coarse_query(
    catalogue text DEFAULT 'segments', recording_column text DEFAULT 'recording_id',
    time_column text DEFAULT 't_start', fingerprint_column text DEFAULT 'fp')
    RETURNS text
    AS 'MODULE_PATHNAME', 'sampleid_identify_coarse_query'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_identify_coarse_query(text, text, text, text) IS
    'the top-k statement sampleid_identify prepares and runs for each query segment ($1 the segment''s fingerprint, $2 k), to EXPLAIN';

CREATE FUNCTION sampleid_rerank(
    query fingerprint[], query_t real[], candidate fingerprint[], candidate_t real[],
    alignment real, model text DEFAULT 'fp')
    RETURNS real
    AS 'MODULE_PATHNAME', 'sampleid_rerank'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_rerank(fingerprint[], real[], fingerprint[], real[], real, text) IS
    'the verifier alone: the probability that query segments (fingerprints, start times) and a candidate''s stored segments (fingerprints, reference start times) share audio, at alignment = reference time - query time';

CREATE FUNCTION sampleid_embed_copies(audio bytea, model text DEFAULT 'fp', semitones int[] DEFAULT NULL)
    RETURNS TABLE(seg int, t_start real, fp fingerprint, shift int, content boolean)
    AS 'MODULE_PATHNAME', 'sampleid_embed_copies'
    LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_embed_copies(bytea, text, int[]) IS
    'the fingerprints of the transposed copies of the audio that sample mode searches (semitones NULL: -3 .. +3 for a sample-kind model, else none), copy after copy, with each row''s shift and content flag';
