-- sampleid_identify on a synthetic catalogue: three recordings of random unit
-- fingerprints (the shipped model's hop, 0.5 s), queried in the fingerprint
-- form with excerpts of one of them; the coarse statement's plan; the content
-- gate; bad input.  The audio form and real music are in t/060_identify.pl.
\i sql/include/expect_error.sql
SELECT setseed(0.25);
CREATE TABLE id_segments (recording_id bigint, seg int, t_start real, fp fingerprint(128),
                          PRIMARY KEY (recording_id, seg));
INSERT INTO id_segments
SELECT r, s, s * 0.5, fingerprint_normalize(array_agg(random() - 0.5 ORDER BY d)::real[]::fingerprint)
FROM generate_series(1, 3) r, generate_series(0, 99) s, generate_series(1, 128) d
GROUP BY r, s;
SELECT (sampleid_catalogue_register('id_segments')).segment_hop_seconds;

-- a query of recording 2's segments 10..15 (5.0 s .. 8.0 s) with a little noise,
-- its own times starting at 0
CREATE TABLE id_query AS
SELECT s.seg - 10 AS j, ((s.seg - 10) * 0.5)::real AS t,
       fingerprint_normalize((SELECT array_agg(x + 0.05 * (random() - 0.5)) FROM unnest(s.fp::real[]) x)::fingerprint) AS fp
FROM id_segments s WHERE recording_id = 2 AND seg BETWEEN 10 AND 15;
-- (accepted by the coarse rule and by the installed verifier's probability)
SELECT recording_id, query_start, query_end, ref_start, ref_end, segments, coverage,
       similarity > 0.9 AS similar, probability BETWEEN 0 AND 1 AS probability_in_0_1, accepted
FROM sampleid_identify((SELECT array_agg(fp ORDER BY j) FROM id_query),
                       (SELECT array_agg(t ORDER BY j) FROM id_query), 'id_segments');
-- the coarse stage alone leaves probability null
SELECT recording_id, probability IS NULL AS no_probability, accepted
FROM sampleid_identify((SELECT array_agg(fp ORDER BY j) FROM id_query),
                       (SELECT array_agg(t ORDER BY j) FROM id_query), 'id_segments', rerank => false);
-- a min_probability above any probability rejects the match; the rejected
-- keep their probability
SELECT recording_id, probability > 0 AS scored, accepted
FROM sampleid_identify((SELECT array_agg(fp ORDER BY j) FROM id_query),
                       (SELECT array_agg(t ORDER BY j) FROM id_query), 'id_segments',
                       min_probability => 1, include_rejected => true) LIMIT 1;
-- the rejected candidates too, for inspection: the best is still recording 2
SELECT recording_id, accepted FROM sampleid_identify(
    (SELECT array_agg(fp ORDER BY j) FROM id_query), (SELECT array_agg(t ORDER BY j) FROM id_query),
    'id_segments', include_rejected => true) LIMIT 1;
-- an excerpt starting 1 s before the recording does: the ranges stay inside it
SELECT recording_id, query_start, ref_start, ref_end
FROM sampleid_identify(ARRAY(SELECT fp FROM id_segments WHERE recording_id = 3 AND seg < 4 ORDER BY seg),
                       ARRAY[2.0, 2.5, 3.0, 3.5]::real[], 'id_segments');
-- a query of unrelated fingerprints: no row
SELECT count(*) AS matches FROM sampleid_identify(
    ARRAY(SELECT fingerprint_normalize(array_agg(random() - 0.5)::real[]::fingerprint)
          FROM generate_series(1, 6) j, generate_series(1, 128) d GROUP BY j),
    ARRAY[0, 0.5, 1.0, 1.5, 2.0, 2.5]::real[], 'id_segments');
-- segments the client marked as without content never vote; when none is
-- left, no row and a NOTICE
SELECT count(*) AS matches FROM sampleid_identify(
    (SELECT array_agg(fp ORDER BY j) FROM id_query), (SELECT array_agg(t ORDER BY j) FROM id_query),
    'id_segments', content => array_fill(false, ARRAY[6]));

-- the coarse stage's statement uses the ivfpq index
CREATE INDEX id_segments_fp ON id_segments USING ivfpq (fp) WITH (lists = 4, m = 16);
SELECT sampleid_identify_coarse_query('id_segments');
DO $$ BEGIN
    EXECUTE format('PREPARE id_coarse(fingerprint, int) AS %s', sampleid_identify_coarse_query('id_segments'));
END $$;
SET plan_cache_mode = force_generic_plan;
SET enable_seqscan = off;  -- 300 rows: the planner would rather scan them
SELECT fp AS q0 FROM id_query WHERE j = 0 \gset
EXPLAIN (COSTS OFF) EXECUTE id_coarse(:'q0', 20);
RESET plan_cache_mode;
RESET enable_seqscan;
DEALLOCATE id_coarse;
SELECT recording_id, ref_start FROM sampleid_identify(
    (SELECT array_agg(fp ORDER BY j) FROM id_query), (SELECT array_agg(t ORDER BY j) FROM id_query),
    'id_segments');

-- bad input: each a clear ERROR with its SQLSTATE
SELECT expect_error($$SELECT * FROM sampleid_identify(''::bytea, 'id_segments')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x52494646'::bytea, 'id_segments')$$);
-- audio shorter than one segment: 0.1 s of 16-bit silence
SELECT expect_error(format($$SELECT * FROM sampleid_identify(%L::bytea, 'id_segments')$$,
    '\x52494646' || 'a40c0000' || '57415645666d7420' || '10000000' || '0100' || '0100' || '803e0000'
    || '007d0000' || '0200' || '1000' || '64617461' || '800c0000' || repeat('00', 3200)));
SELECT expect_error($$SELECT * FROM sampleid_identify(ARRAY[]::fingerprint[], ARRAY[]::real[], 'id_segments')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', model => 'no_such_model')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'no_such_table')$$);
CREATE TABLE id_unregistered (recording_id bigint, t_start real, fp fingerprint(128));
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_unregistered', model => 'no_such_model')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', recording_column => 'rec')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', time_column => 'seg')$$);
CREATE TABLE id_small (recording_id bigint, t_start real, fp fingerprint(16));
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_small')$$);
CREATE TABLE id_text (recording_id bigint, t_start real, fp text);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_text')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', min_similarity => 1.5)$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', min_coverage => -0.1)$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', min_similarity => 'NaN')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', k => 0)$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', k => 100000)$$);
-- the catalogue's model is fp: another is refused
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', model => 'other')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify(ARRAY(SELECT fp FROM id_query), ARRAY[0]::real[], 'id_segments')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify(ARRAY['[1,0]'::fingerprint], ARRAY[0]::real[], 'id_segments')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify(ARRAY(SELECT fp FROM id_query LIMIT 1), ARRAY['Infinity']::real[], 'id_segments')$$);
SELECT expect_error($$SELECT * FROM sampleid_identify('\x00'::bytea, 'id_segments', min_probability => 1.01)$$);
SELECT expect_error($$SELECT * FROM sampleid_identify(ARRAY(SELECT fp FROM id_query), ARRAY(SELECT t FROM id_query), 'id_segments', min_probability => -1)$$);
SELECT expect_error($$SELECT * FROM sampleid_identify(ARRAY(SELECT fp FROM id_query), ARRAY(SELECT t FROM id_query), 'id_segments', rerank => NULL)$$);

-- the verifier alone (sampleid_rerank): a probability; the query's own stored
-- segments at their alignment score higher than the same at an alignment 20 s
-- away, and than unrelated fingerprints
CREATE TABLE id_rerank AS SELECT
    (SELECT array_agg(fp ORDER BY j) FROM id_query) AS q, (SELECT array_agg(t ORDER BY j) FROM id_query) AS qt,
    ARRAY(SELECT fp FROM id_segments WHERE recording_id = 2 AND seg BETWEEN 8 AND 17 ORDER BY seg) AS c,
    ARRAY(SELECT t_start FROM id_segments WHERE recording_id = 2 AND seg BETWEEN 8 AND 17 ORDER BY seg) AS ct,
    ARRAY(SELECT fp FROM id_segments WHERE recording_id = 1 AND seg BETWEEN 8 AND 17 ORDER BY seg) AS other;
SELECT p_true BETWEEN 0 AND 1 AS in_unit_interval, p_true > p_other AS above_other_recording,
       p_true = p_same AS same_as_identify
FROM (SELECT sampleid_rerank(q, qt, c, ct, 5.0) AS p_true, sampleid_rerank(q, qt, other, ct, 5.0) AS p_other,
             (SELECT probability FROM sampleid_identify(q, qt, 'id_segments', include_rejected => true,
                                                        min_similarity => 0, min_coverage => 0) LIMIT 1) AS p_same
      FROM id_rerank) s;
SELECT sampleid_rerank(NULL, qt, c, ct, 5.0) IS NULL AS null_is_null FROM id_rerank;
SELECT expect_error($$SELECT sampleid_rerank(q, qt, c, ct, 5.0, 'no_such_model') FROM id_rerank$$);
SELECT expect_error($$SELECT sampleid_rerank(q, qt[1:2], c, ct, 5.0) FROM id_rerank$$);
SELECT expect_error($$SELECT sampleid_rerank(q, qt, c, ct[1:3], 5.0) FROM id_rerank$$);
SELECT expect_error($$SELECT sampleid_rerank(ARRAY[]::fingerprint[], ARRAY[]::real[], c, ct, 5.0) FROM id_rerank$$);
SELECT expect_error($$SELECT sampleid_rerank(ARRAY['[1,0]'::fingerprint], ARRAY[0]::real[], c, ct, 5.0) FROM id_rerank$$);
SELECT expect_error($$SELECT sampleid_rerank(q, qt, c, ct, 'Infinity') FROM id_rerank$$);
SELECT expect_error($$SELECT sampleid_rerank(q, qt, c || c || c || c || c || c || c || c || c || c, ct || ct || ct || ct || ct || ct || ct || ct || ct || ct, 5.0) FROM id_rerank$$);
SELECT expect_error($$SELECT sampleid_rerank(q, ARRAY[0, NULL, 1, 1.5, 2, 2.5]::real[], c, ct, 5.0) FROM id_rerank$$);
-- null query: no row
SELECT count(*) FROM sampleid_identify(NULL::bytea, 'id_segments');
DROP TABLE id_segments, id_query, id_small, id_text, id_unregistered, id_rerank;
