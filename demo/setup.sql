-- pg_sampleid demonstration, first part: the extension, the device and the
-- models.  Run by scripts/demo.sh, which sets :clips; then `sampleid ingest`
-- makes the catalogue and demo/demo.sql goes on.
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

