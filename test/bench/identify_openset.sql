-- The open-set figures from openset_queries / openset_answers (made by
-- identify_openset.sh).  A correct answer: the right recording ranked first
-- by the coarse stage (and, beside it, its offset within half a hop).  A
-- false accept: an out-of-catalogue query with an accepted first row.  The
-- rule "accept when coverage >= c and similarity >= s" is calibrated on the
-- calibration split (out-of-catalogue tracks of the train and validation
-- splits, even-numbered in-catalogue queries) and measured on the test split
-- (reference-split tracks, odd-numbered in-catalogue queries).
\pset footer off
CREATE TEMP VIEW top AS
SELECT q.*, CASE WHEN q.kind = 'in_catalogue' THEN CASE WHEN q.query % 2 = 0 THEN 'calibration' ELSE 'test' END
                 ELSE q.split END AS role,
       a.title, a.segments, a.coverage, a.similarity, a.ms,
       a.title IS NOT DISTINCT FROM q.truth AS correct,
       a.title IS NOT DISTINCT FROM q.truth AND abs(a.ref_start - a.query_start - q.truth_start) <= 0.25 AS exact
FROM openset_queries q JOIN openset_answers a ON a.query = q.query AND a.rank <= 1;

\echo '== coarse stage: top-1 of in-catalogue queries'
SELECT length, count(*) AS queries, round(100.0 * avg(correct::int), 1) AS "right recording %",
       round(100.0 * avg(exact::int), 1) AS "and offset within half a hop %"
FROM top WHERE kind = 'in_catalogue' GROUP BY 1 ORDER BY 1;

CREATE TEMP TABLE rule AS
WITH grid AS (
    SELECT c::real, s::real FROM unnest(ARRAY[0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]) c,
                                 generate_series(0.40, 0.99, 0.01) s
), scored AS (
    SELECT g.c, g.s,
           avg((t.coverage >= g.c AND t.similarity >= g.s)::int) FILTER (WHERE t.kind <> 'in_catalogue' AND t.role = 'calibration') AS fa,
           avg((t.coverage >= g.c AND t.similarity >= g.s)::int) FILTER (WHERE t.kind = 'in_catalogue' AND t.correct AND t.role = 'calibration') AS kept
    FROM grid g, top t GROUP BY 1, 2
)
SELECT DISTINCT ON (target) target, c, s, fa, kept
FROM scored, unnest(ARRAY[0.01, 0.001]) target WHERE fa <= target
ORDER BY target, kept DESC, fa, s;

\echo '== the rule calibrated on the calibration split'
SELECT target AS "false accepts <=", c AS min_coverage, s AS min_similarity,
       round(100 * fa, 2) AS "calibration false accepts %", round(100 * kept, 1) AS "calibration kept %"
FROM rule ORDER BY target DESC;

\echo '== measured on the test split: share of correct answers kept, false accepts'
SELECT r.target AS "calibrated for", t.length,
       round(100.0 * avg((t.coverage >= r.c AND t.similarity >= r.s)::int) FILTER (WHERE t.kind = 'in_catalogue' AND t.correct), 1) AS "correct kept %",
       round(100.0 * avg((t.coverage >= r.c AND t.similarity >= r.s)::int) FILTER (WHERE t.kind <> 'in_catalogue'), 2) AS "false accepts %",
       count(*) FILTER (WHERE t.kind <> 'in_catalogue') AS "out-of-catalogue queries"
FROM rule r, top t WHERE t.role = 'test' GROUP BY 1, 2 ORDER BY 1 DESC, 2;

\echo '== false accepts per kind (test split, the rule for 1 %)'
SELECT t.kind, t.length, count(*) AS queries,
       count(*) FILTER (WHERE t.coverage >= r.c AND t.similarity >= r.s) AS "false accepts"
FROM rule r, top t WHERE r.target = 0.01 AND t.role = 'test' AND t.kind <> 'in_catalogue'
GROUP BY 1, 2 ORDER BY 1, 2;

\echo '== ROC points (test split, min_coverage of the 1 % rule)'
SELECT thr AS min_similarity,
       round(100.0 * avg((t.coverage >= r.c AND t.similarity >= thr)::int) FILTER (WHERE t.kind = 'in_catalogue' AND t.correct), 1) AS "correct kept %",
       round(100.0 * avg((t.coverage >= r.c AND t.similarity >= thr)::int) FILTER (WHERE t.kind <> 'in_catalogue'), 2) AS "false accepts %"
FROM rule r, top t, unnest(ARRAY[0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]::real[]) thr
WHERE r.target = 0.01 AND t.role = 'test' GROUP BY 1 ORDER BY 1;

\echo '== latency of sampleid_identify (server, decode + embed + coarse + decision), ms'
SELECT length, count(*) AS queries,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS p50,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS p95
FROM top WHERE kind IN ('in_catalogue', 'other_music') GROUP BY 1 ORDER BY 1;

\echo '== the same split: decode + embed, coarse stage (index search, alignment, decision), ms'
SELECT q.length, count(*) AS queries,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s.embed_ms)::numeric, 1) AS "embed p50",
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY s.embed_ms)::numeric, 1) AS "embed p95",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s.coarse_ms)::numeric, 1) AS "coarse p50",
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY s.coarse_ms)::numeric, 1) AS "coarse p95"
FROM openset_queries q JOIN openset_split s USING (query)
WHERE q.kind IN ('in_catalogue', 'other_music') GROUP BY 1 ORDER BY 1;
