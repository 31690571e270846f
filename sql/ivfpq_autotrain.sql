-- VACUUM trains an ivfpq index built on an empty table once it holds enough
-- rows (docs/ivfpq.md, "Self-training"); autotrain = off keeps it flat.
SET client_min_messages = warning;
\i sql/include/expect_error.sql

-- rows from..to of deterministic 64-d fingerprints about 20 centres
CREATE FUNCTION at_points(first int, last int) RETURNS TABLE (id int, fp fingerprint)
LANGUAGE sql AS $$
    SELECT s, fingerprint_normalize(array_agg(sin((s % 20) * 7 + i * 0.3) + 0.5 * sin(s * i * 0.77)
                                              ORDER BY i)::fingerprint)
    FROM generate_series(first, last) s, generate_series(1, 64) i GROUP BY s
$$;
CREATE TABLE at_query AS SELECT id - 90000 AS qid, fp FROM at_points(90001, 90003);

-- the option is a boolean
CREATE TABLE at_item (id int PRIMARY KEY, fp fingerprint(64)) WITH (autovacuum_enabled = off);
SELECT expect_error($$CREATE INDEX ON at_item USING ivfpq (fp) WITH (autotrain = maybe)$$);

-- created on the empty table: flat, one list
CREATE INDEX at_item_fp ON at_item USING ivfpq (fp) WITH (lists = 8, m = 16);
CREATE TABLE at_off (id int, fp fingerprint(64)) WITH (autovacuum_enabled = off);
CREATE INDEX at_off_fp ON at_off USING ivfpq (fp) WITH (lists = 8, m = 16, autotrain = off);
CREATE TABLE at_auto (id int, fp fingerprint(64)) WITH (autovacuum_enabled = off);
CREATE INDEX at_auto_fp ON at_auto USING ivfpq (fp);

-- 200 rows are fewer than 2^nbits codewords: VACUUM leaves the index flat
INSERT INTO at_item SELECT * FROM at_points(1, 200);
VACUUM at_item;
SELECT lists, entries FROM ivfpq_check('at_item_fp');

-- 2400 rows train 8 lists; the opt-out stays flat; without a lists option
-- the rows give 2 lists (one per 1000)
INSERT INTO at_item SELECT * FROM at_points(201, 2400);
INSERT INTO at_off SELECT * FROM at_item;
INSERT INTO at_auto SELECT * FROM at_item;
SET client_min_messages = notice;
VACUUM at_item;
VACUUM at_off;
VACUUM at_auto;
SET client_min_messages = warning;
SELECT 'at_item_fp' AS index, lists, entries, data_pages >= lists AS pages_per_list
    FROM ivfpq_check('at_item_fp')
UNION ALL SELECT 'at_off_fp', lists, entries, true FROM ivfpq_check('at_off_fp')
UNION ALL SELECT 'at_auto_fp', lists, entries, data_pages >= lists FROM ivfpq_check('at_auto_fp');
-- a second VACUUM has nothing to train
SET client_min_messages = notice;
VACUUM at_item;
SET client_min_messages = warning;

-- the trained index answers the exact top 10 (all lists probed, re-ranked)
SET ivfpq.probes = 8;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM at_item ORDER BY fp <#> (SELECT fp FROM at_query WHERE qid = 1) LIMIT 10;
CREATE TEMP TABLE at_through_index AS
    SELECT qid, ARRAY(SELECT id FROM at_item i ORDER BY i.fp <#> q.fp LIMIT 10) AS ids FROM at_query q;
RESET enable_seqscan;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM at_item ORDER BY fp <#> (SELECT fp FROM at_query WHERE qid = 1) LIMIT 10;
CREATE TEMP TABLE at_exact AS
    SELECT qid, ARRAY(SELECT id FROM at_item i ORDER BY i.fp <#> q.fp LIMIT 10) AS ids FROM at_query q;
RESET enable_indexscan;
SELECT qid, cardinality(e.ids) AS rows, t.ids = e.ids AS same_top10
    FROM at_exact e JOIN at_through_index t USING (qid) ORDER BY qid;

-- rows inserted after the training go to its lists and are found
INSERT INTO at_item SELECT 10000 + qid, fp FROM at_query;
SET enable_seqscan = off;
SELECT id FROM at_item ORDER BY fp <#> (SELECT fp FROM at_query WHERE qid = 2) LIMIT 2;
RESET enable_seqscan;
SELECT lists, entries = (SELECT count(*) FROM at_item) AS all_entries FROM ivfpq_check('at_item_fp');
RESET ivfpq.probes;

-- the opt-out can be changed: with autotrain on again, VACUUM trains it,
-- unless an m set since does not divide the dimension
ALTER INDEX at_off_fp SET (autotrain = on, m = 7);
VACUUM at_off;
SELECT lists FROM ivfpq_check('at_off_fp');
ALTER INDEX at_off_fp SET (m = 16);
SET client_min_messages = notice;
VACUUM at_off;
SET client_min_messages = warning;
SELECT lists, entries FROM ivfpq_check('at_off_fp');

DROP TABLE at_item, at_off, at_auto, at_query;
DROP FUNCTION at_points(int, int);
