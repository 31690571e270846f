-- pg_sampleid demonstration (grows with the product: identification comes next)
\pset footer off
CREATE EXTENSION sampleid;

\echo
\echo '== Which device will neural inference use, and why?'
SELECT requested, device, built_with_cuda, reason FROM sampleid_device();

\echo
\echo '== A catalogue of recordings and their segment fingerprints'
CREATE TABLE recordings (id bigint PRIMARY KEY, title text, artist text);
CREATE TABLE segments (recording_id bigint REFERENCES recordings, seg int, t_start real,
                       fp fingerprint(8), PRIMARY KEY (recording_id, seg));
INSERT INTO recordings VALUES (1, 'Northern Lights', 'Example Orchestra'),
                              (2, 'Harbour at Dawn', 'Example Quartet');
-- 8-d stand-ins for real 128-d embeddings: each recording drifts around its own
-- direction, normalised like the encoder's output.
INSERT INTO segments
SELECT r, s, s * 0.5,
       fingerprint_normalize(array_agg(
           CASE WHEN (i % 2) = (r % 2) THEN 1.0 ELSE 0.1 END + 0.05 * sin(s * i + r)
           ORDER BY i)::fingerprint)
FROM generate_series(1, 2) r, generate_series(0, 9) s, generate_series(1, 8) i
GROUP BY r, s;
SELECT recording_id, seg, t_start, fingerprint_dims(fp) AS dims,
       round(fingerprint_norm(fp)::numeric, 6) AS norm
FROM segments WHERE seg < 3 ORDER BY 1, 2;

\echo
\echo '== Nearest segments to a query fingerprint, by inner product (<#>), cosine (<=>), Euclidean (<->)'
\set q '''[0.1,0.98,0.1,0.99,0.12,1.0,0.1,0.97]'''
SELECT r.title, s.seg, round((-(s.fp <#> fingerprint_normalize(:q)))::numeric, 4) AS similarity,
       round((s.fp <=> :q)::numeric, 4) AS cosine_distance,
       round((s.fp <-> fingerprint_normalize(:q))::numeric, 4) AS euclidean
FROM segments s JOIN recordings r ON r.id = s.recording_id
ORDER BY s.fp <#> fingerprint_normalize(:q) LIMIT 3;

\echo
\echo '== Bad input is refused with a clear error'
\set ON_ERROR_STOP 0
SELECT '[1,NaN,3]'::fingerprint;
SELECT '[1,2]'::fingerprint <#> '[1,2,3]';
\set ON_ERROR_STOP 1
