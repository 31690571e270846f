-- pg_sampleid upgrade from 0.1 (the first release) to 0.2.
--
-- Every object that sql/ext/*.sql adds or changes after 0.1 is added or
-- changed here as well, so ALTER EXTENSION sampleid UPDATE gives a database
-- made by 0.1 exactly the objects of a fresh CREATE EXTENSION (t/050_upgrade.pl
-- compares the two).
\echo Use "ALTER EXTENSION sampleid UPDATE TO '0.2'" to load this file. \quit
