-- sampleid_embed and sampleid_models without a usable model.  Real
-- embeddings, with model files the test creates, are in
-- test/t/020_embed_models.pl; here the model directory is one that does not
-- exist, so the output does not depend on which models are installed.
\i sql/include/expect_error.sql
SET sampleid.model_dir = '/nonexistent/sampleid-models';
SHOW sampleid.model_dir;
SELECT count(*) AS installed FROM sampleid_models();
-- no trained default model: a clear error with SQLSTATE 58P01 and a hint
\set VERBOSITY default
SELECT * FROM sampleid_embed('\x00'::bytea);
SELECT expect_error($$SELECT * FROM sampleid_embed('\x00'::bytea)$$);
SELECT expect_error($$SELECT * FROM sampleid_embed('\x00'::bytea, 'fp')$$);
-- a model that is not installed
SELECT expect_error($$SELECT * FROM sampleid_embed('\x00'::bytea, 'sample')$$);
-- names cannot leave the model directory
SELECT expect_error($$SELECT * FROM sampleid_embed('\x00'::bytea, '../../etc/passwd')$$);
SELECT expect_error($$SELECT * FROM sampleid_embed('\x00'::bytea, '.hidden')$$);
SELECT expect_error($$SELECT * FROM sampleid_embed('\x00'::bytea, '')$$);
-- NULL in, nothing out
SELECT count(*) FROM sampleid_embed(NULL);
-- settings
SHOW sampleid.embed_batch;
SELECT expect_error($$SET sampleid.embed_batch = 0$$);
SELECT expect_error($$SET sampleid.embed_batch = 5000$$);
CREATE ROLE sampleid_embed_plain;
SET ROLE sampleid_embed_plain;
SELECT expect_error($$SET sampleid.model_dir = '/tmp'$$);
RESET ROLE;
DROP ROLE sampleid_embed_plain;
RESET sampleid.model_dir;
