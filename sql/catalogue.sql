-- The catalogue registry: which model fingerprinted a table of segments.
\i sql/include/expect_error.sql
CREATE TABLE cat_segments (recording_id bigint, seg int, t_start real, fp fingerprint(128));

-- every installed, loadable model reports the SHA-256 of its file
SELECT name, sha256 ~ '^[0-9a-f]{64}$' AS sha256_ok FROM sampleid_models() WHERE error IS NULL ORDER BY name;

SELECT catalogue, model, model_sha256 = (SELECT sha256 FROM sampleid_models() WHERE name = 'fp') AS same_sha256,
       embed_dim, segment_seconds, segment_hop_seconds
FROM sampleid_catalogue_register('cat_segments', 'fp');
-- registering again with the same model changes nothing
SELECT count(*) FROM (SELECT sampleid_catalogue_register('cat_segments')) s;
SELECT count(*) AS registrations FROM sampleid_catalogues WHERE catalogue = 'cat_segments'::regclass;

-- an unknown model
SELECT expect_error($$SELECT sampleid_catalogue_register('cat_segments', 'no_such_model')$$);
-- a catalogue made by another model file (here: the recorded digest no longer matches)
UPDATE sampleid_catalogues SET model_sha256 = repeat('0', 64) WHERE catalogue = 'cat_segments'::regclass;
SELECT expect_error($$SELECT sampleid_catalogue_register('cat_segments', 'fp')$$);
-- ... is accepted again only when the caller says the table was re-fingerprinted
SELECT model_sha256 = (SELECT sha256 FROM sampleid_models() WHERE name = 'fp') AS replaced
FROM sampleid_catalogue_register('cat_segments', 'fp', replace => true);

-- an ordinary role reads the registry but changes only what it owns
CREATE ROLE cat_stranger;
SET ROLE cat_stranger;
SELECT expect_error($$SELECT sampleid_catalogue_register('cat_segments')$$);
DELETE FROM sampleid_catalogues;
SELECT count(*) AS visible FROM sampleid_catalogues;
RESET ROLE;
SELECT count(*) AS still_registered FROM sampleid_catalogues;

-- a dropped table leaves no registration behind
DROP TABLE cat_segments;
SELECT count(*) AS after_drop FROM sampleid_catalogues;
DROP ROLE cat_stranger;
