-- pg_sampleid demonstration: fingerprint a catalogue, index it, identify clips.
-- Run by scripts/demo.sh, which sets :music_dir and :clips.
\pset footer off
CREATE EXTENSION sampleid;

\echo
\echo '== Device and model'
SELECT requested, device, reason FROM sampleid_device();
SELECT name, trained, parameters, round(mflops::numeric, 1) AS mflops, embed_dim,
       segment_seconds, segment_hop_seconds
FROM sampleid_models() WHERE error IS NULL;

SELECT NOT EXISTS (SELECT 1 FROM sampleid_models() WHERE name = 'fp' AND trained)
    AS no_trained_model \gset
\if :no_trained_model
\echo
\echo 'No trained "fp" model is installed, so nothing can be fingerprinted yet:'
\set ON_ERROR_STOP 0
SELECT * FROM sampleid_embed(pg_read_binary_file(:'clips' || '/clip1.wav'));
\quit
\endif

\echo
\echo '== The catalogue: every track of one album, read by the server'
CREATE TABLE recordings (id serial PRIMARY KEY, title text, audio_path text);
INSERT INTO recordings (title, audio_path)
SELECT regexp_replace(f, '\.ogg$', ''), :'music_dir' || '/' || f
FROM pg_ls_dir(:'music_dir') f WHERE f LIKE '%.ogg' ORDER BY f;
SELECT count(*) AS tracks,
       round(sum((sampleid_audio_info(pg_read_binary_file(audio_path))).duration_seconds)::numeric / 3600, 2)
           AS hours
FROM recordings;

\echo
\echo '== Fingerprints: one 128-d vector per 1 s segment, every 0.5 s'
CREATE TABLE segments (recording_id int REFERENCES recordings, seg int, t_start real,
                       fp fingerprint(128), PRIMARY KEY (recording_id, seg));
\timing on
INSERT INTO segments
SELECT r.id, e.seg, e.t_start, e.fp
FROM recordings r, sampleid_embed(pg_read_binary_file(r.audio_path)) e;
SELECT count(*) AS segments, pg_size_pretty(pg_total_relation_size('segments')) AS table_size
FROM segments;
-- the catalogue records the model and hop that fingerprinted it
SELECT catalogue, model, segment_hop_seconds FROM sampleid_catalogue_register('segments', 'fp');

\echo
\echo '== An ivfpq index (inverted file + product quantisation, trained with FAISS)'
\timing on
CREATE INDEX segments_fp_idx ON segments USING ivfpq (fp) WITH (lists = 128, m = 16);
SELECT pg_size_pretty(pg_relation_size('segments_fp_idx')) AS index_size;
SET ivfpq.probes = 8;

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
