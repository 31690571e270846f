-- pg_sampleid demonstration, second part: the catalogue that `sampleid ingest
-- --create` made, its ivfpq index, and identification of noisy clips.  Run by
-- scripts/demo.sh, which sets :clips.
\pset footer off

\echo
\echo '== What ingest made: one 128-d fingerprint per 1 s segment, every 0.5 s'
SELECT count(*) AS tracks, round(sum(duration_s)::numeric / 3600, 2) AS hours,
       min(artist) AS artist, min(rights_holder) AS rights_holder
FROM recordings;
SELECT count(*) AS segments, pg_size_pretty(pg_total_relation_size('segments')) AS table_size
FROM segments;
-- ingest registered the model and hop that fingerprinted the catalogue
SELECT catalogue, model, segment_hop_seconds FROM sampleid_catalogues;

\echo
\echo '== An ivfpq index (inverted file + product quantisation, trained with FAISS)'
\timing on
-- lists are sized from the row count
CREATE INDEX segments_fp_idx ON segments USING ivfpq (fp) WITH (m = 16);
SELECT pg_size_pretty(pg_relation_size('segments_fp_idx')) AS index_size;
SET ivfpq.probes = 4;

\echo
\echo '== The query clips: 3 s excerpts with room reverberation and pink noise at 5 dB SNR'
CREATE TABLE clips (name text PRIMARY KEY, audio bytea);
INSERT INTO clips
SELECT regexp_replace(f, '\.wav$', ''), pg_read_binary_file(:'clips' || '/' || f)
FROM pg_ls_dir(:'clips') f WHERE f LIKE '%.wav' AND f NOT LIKE '.%';

\echo
\echo '== Identification: sampleid_identify, one call per clip; no row means no match'
\timing on
SELECT c.name AS clip, coalesce(r.title, '(no match)') AS identified_as,
       i.query_start || ' - ' || i.query_end AS "clip seconds",
       i.ref_start || ' - ' || i.ref_end AS "recording seconds",
       i.segments, round(i.coverage::numeric, 2) AS coverage,
       round(i.similarity::numeric, 3) AS similarity
FROM clips c
LEFT JOIN LATERAL (SELECT * FROM sampleid_identify(c.audio, 'segments') LIMIT 1) i ON true
LEFT JOIN recordings r ON r.id = i.recording_id
ORDER BY c.name;
\timing off
\echo 'Truth: clip1 heroes_rite at 33.2 s, clip2 the_king_is_dead at 81.0 s,'
\echo '       clip3 nunc_dimittis at 150.5 s, clip4 northerners at 102.4 s; the last clip is speech.'

\echo
\echo '== Bad input is refused with a clear error'
\set ON_ERROR_STOP 0
SELECT '[1,NaN,3]'::fingerprint;
SELECT * FROM sampleid_embed('\x52494646'::bytea);
\set ON_ERROR_STOP 1
