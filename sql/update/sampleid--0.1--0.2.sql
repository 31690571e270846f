-- pg_sampleid upgrade from 0.1 (the first release) to 0.2.
--
-- Every object that sql/ext/*.sql adds or changes after 0.1 is added or
-- changed here as well, so ALTER EXTENSION sampleid UPDATE gives a database
-- made by 0.1 exactly the objects of a fresh CREATE EXTENSION (t/050_upgrade.pl
-- compares the two).
\echo Use "ALTER EXTENSION sampleid UPDATE TO '0.2'" to load this file. \quit

-- issue 15: the audio functions' results depend on the sampleid.max_* settings
ALTER FUNCTION sampleid_audio_info(bytea) STABLE;
ALTER FUNCTION sampleid_audio_segments(bytea, integer, double precision, double precision) STABLE;
