-- ivfpq with refine = sq8: the 8-bit refine code kept in the index orders
-- the candidates, and the heap is read only for rows that can be returned.
-- The answers must be those of the same index without refine codes (the
-- same candidates, exactly scored) for every metric, in exact order; inserts
-- take the slots VACUUM frees; an index created empty gets its refine codes
-- when VACUUM trains it; vectors whose codes cannot bound a distance are
-- still returned in order.
SET client_min_messages = warning;
\i sql/include/expect_error.sql

SELECT setseed(0.25);
\set centres 30
\set dims 64
\i sql/include/clustered_points.sql
CREATE TABLE refine_item (id int PRIMARY KEY, fp fingerprint(64));
INSERT INTO refine_item SELECT s, clustered_point(1 + s % 30) FROM generate_series(1, 3000) s;
CREATE TABLE refine_query AS SELECT s AS qid, clustered_point(1 + (s * 7) % 30) AS fp
    FROM generate_series(1, 20) s;
ANALYZE refine_item, refine_query;

-- the option is validated
SELECT expect_error($$CREATE INDEX ON refine_item USING ivfpq (fp) WITH (refine = pq)$$);
SELECT expect_error($$CREATE INDEX ON refine_item USING ivfpq (fp) WITH (refine = 8)$$);

-- the same rows without refine codes, to compare with
CREATE TABLE refine_plain AS SELECT * FROM refine_item;
CREATE INDEX refine_sq8 ON refine_item USING ivfpq (fp) WITH (lists = 30, m = 8, refine = sq8);
CREATE INDEX refine_none ON refine_plain USING ivfpq (fp) WITH (lists = 30, m = 8);
ANALYZE refine_plain;
SELECT lists, data_pages, entries, unreached_pages FROM ivfpq_check('refine_sq8');
-- the refine codes take room: more than the PQ codes, less than the vectors
SELECT pg_relation_size('refine_none') AS plain_bytes, pg_relation_size('refine_sq8') AS sq8_bytes,
       pg_relation_size('refine_sq8') < pg_table_size('refine_item') AS smaller_than_table;

-- each query's first rows from a table, by its index
CREATE FUNCTION refine_answers(tbl regclass, lim int) RETURNS TABLE (qid int, r bigint, id int)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT q.qid, a.r, a.id FROM refine_query q,
        LATERAL (SELECT z.id, row_number() OVER () AS r FROM
                 (SELECT i.id FROM %s i ORDER BY i.fp <#> q.fp LIMIT $1) z) a', tbl) USING lim;
END $$;
SET enable_seqscan = off;
SET ivfpq.probes = 3;
SELECT set_config('ivfpq.rerank', '40', false) IS NOT NULL AS rerank_40;
EXPLAIN (COSTS OFF) SELECT id FROM refine_item ORDER BY fp <#> (SELECT fp FROM refine_query WHERE qid = 1) LIMIT 10;
CREATE TEMP TABLE with_sq8 AS SELECT * FROM refine_answers('refine_item', 30);
CREATE TEMP TABLE without AS SELECT * FROM refine_answers('refine_plain', 30);
-- the same rows in the same order (distances compared: near-ties may swap)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE abs((a.fp <#> q.fp) - (b.fp <#> q.fp)) < 1e-6) AS same_distance
FROM with_sq8 s JOIN without w USING (qid, r)
    JOIN refine_item a ON a.id = s.id JOIN refine_plain b ON b.id = w.id
    JOIN refine_query q USING (qid);

-- rows come back in exact distance order, also past the first batches and
-- into further lists (strict_order: relaxed_order orders each list's own)
SELECT set_config('ivfpq.rerank', '10', false) IS NOT NULL AS rerank_10;
SET ivfpq.iterative_scan = strict_order;
CREATE TEMP TABLE long_scan AS SELECT * FROM refine_answers('refine_item', 200);
SELECT count(*) > 3800 AS filled, bool_and(ordered) AS in_order FROM (
    SELECT (i.fp <#> q.fp) >= lag(i.fp <#> q.fp, 1, '-infinity') OVER (PARTITION BY qid ORDER BY r) AS ordered
    FROM long_scan s JOIN refine_item i USING (id) JOIN refine_query q USING (qid)) o;
RESET ivfpq.iterative_scan;

-- with every list probed and every candidate scored the answer is exact
SET ivfpq.probes = 30;
SET ivfpq.rerank = 3000;
CREATE TEMP TABLE full_scan AS SELECT * FROM refine_answers('refine_item', 10);
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT count(*) AS exact_matches FROM full_scan f JOIN refine_query q USING (qid)
WHERE f.id IN (SELECT i.id FROM refine_item i ORDER BY i.fp <#> q.fp LIMIT 10);
RESET enable_indexscan;

-- deletes, VACUUM, then inserts into the freed slots; the check walks them all
-- (enable_seqscan = off only after clustered_point: planned without seq scans,
-- its query took 90 ms a call)
DELETE FROM refine_item WHERE id % 3 = 0;
VACUUM refine_item;
INSERT INTO refine_item SELECT s, clustered_point(1 + s % 30) FROM generate_series(3001, 4500) s;
SET enable_seqscan = off;
SELECT lists, entries = (SELECT count(*) FROM refine_item) AS all_entries, unreached_pages
FROM ivfpq_check('refine_sq8');
SELECT count(*) AS found_rows, count(DISTINCT id) AS distinct_rows,
       count(*) FILTER (WHERE id % 3 = 0 AND id <= 3000) AS deleted_rows
FROM refine_answers('refine_item', 10000);
CREATE TEMP TABLE after_sq8 AS SELECT * FROM refine_answers('refine_item', 10);
SET enable_indexscan = off;
RESET enable_seqscan;
SELECT count(*) AS exact_matches FROM after_sq8 f JOIN refine_query q USING (qid)
WHERE f.id IN (SELECT i.id FROM refine_item i ORDER BY i.fp <#> q.fp LIMIT 10);
RESET enable_indexscan;
SET enable_seqscan = off;

-- cosine and Euclidean indexes with refine codes: exact at full probes
CREATE TABLE refine_other (id int, fp fingerprint(64));
INSERT INTO refine_other SELECT id, (SELECT array_agg(x * (1 + id % 5)) FROM unnest(fp::real[]) x)::fingerprint
    FROM refine_item;
ANALYZE refine_other;
CREATE INDEX refine_cos ON refine_other USING ivfpq (fp fingerprint_cosine_ops) WITH (lists = 20, m = 16, refine = sq8);
CREATE TEMP TABLE cos_index AS SELECT q.qid, a.id FROM refine_query q,
    LATERAL (SELECT o.id FROM refine_other o ORDER BY o.fp <=> q.fp LIMIT 10) a;
DROP INDEX refine_cos;
CREATE INDEX refine_l2 ON refine_other USING ivfpq (fp fingerprint_l2_ops) WITH (lists = 20, m = 8, nbits = 6, refine = sq8);
CREATE TEMP TABLE l2_index AS SELECT q.qid, a.id FROM refine_query q,
    LATERAL (SELECT o.id FROM refine_other o ORDER BY o.fp <-> q.fp LIMIT 10) a;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT count(*) AS cosine_exact FROM cos_index c JOIN refine_query q USING (qid)
WHERE c.id IN (SELECT o.id FROM refine_other o ORDER BY o.fp <=> q.fp LIMIT 10);
SELECT count(*) AS l2_exact FROM l2_index c JOIN refine_query q USING (qid)
WHERE c.id IN (SELECT o.id FROM refine_other o ORDER BY o.fp <-> q.fp LIMIT 10);
RESET enable_indexscan;

-- an index created on an empty table gets its refine codes when VACUUM trains it
CREATE TABLE refine_later (id int, fp fingerprint(64));
CREATE INDEX refine_later_fp ON refine_later USING ivfpq (fp) WITH (lists = 10, m = 8, nbits = 4, refine = sq8);
INSERT INTO refine_later SELECT id, fp FROM refine_item;
VACUUM refine_later;
SELECT lists, entries = (SELECT count(*) FROM refine_later) AS all_entries
FROM ivfpq_check('refine_later_fp');
SET enable_seqscan = off;
CREATE TEMP TABLE later_index AS SELECT q.qid, a.id FROM refine_query q,
    LATERAL (SELECT l.id FROM refine_later l ORDER BY l.fp <#> q.fp LIMIT 10) a;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT count(*) AS later_exact FROM later_index c JOIN refine_query q USING (qid)
WHERE c.id IN (SELECT l.id FROM refine_later l ORDER BY l.fp <#> q.fp LIMIT 10);
RESET enable_indexscan;

-- huge components: codes whose error bound overflows are scored from the heap
CREATE TABLE refine_huge (id int, fp fingerprint(2));
INSERT INTO refine_huge SELECT k, ARRAY[k * 1e18, (k % 7) * 1e17]::real[]::fingerprint FROM generate_series(1, 300) k;
CREATE INDEX ON refine_huge USING ivfpq (fp) WITH (lists = 2, m = 1, nbits = 4, refine = sq8);
SET enable_seqscan = off;
SELECT array_agg(id) AS nearest FROM (SELECT id FROM refine_huge ORDER BY fp <#> '[1e21,0]' LIMIT 5) s;
RESET enable_seqscan;
RESET ivfpq.probes;
RESET ivfpq.rerank;
