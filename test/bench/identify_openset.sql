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
FROM openset_queries q JOIN LATERAL (
    -- the coarse stage's order, whatever order the verifier gave the rows
    SELECT * FROM openset_answers a WHERE a.query = q.query
    ORDER BY a.segments DESC, a.similarity DESC NULLS LAST LIMIT 1) a ON true;

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
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY s.coarse_ms)::numeric, 1) AS "coarse p95",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s.verifier_ms)::numeric, 2) AS "verifier p50",
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY s.verifier_ms)::numeric, 2) AS "verifier p95",
       round(100 * (percentile_cont(0.5) WITHIN GROUP (ORDER BY s.verifier_ms) /
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY s.coarse_ms))::numeric, 1) AS "verifier / coarse p50 %",
       round(100 * (sum(s.verifier_ms) / sum(s.coarse_ms))::numeric, 1) AS "verifier / coarse, sums %"
FROM openset_queries q JOIN openset_split s USING (query)
WHERE q.kind IN ('in_catalogue', 'other_music') GROUP BY 1 ORDER BY 1;

-- ---- the verifier (second stage), from the same answers ------------------
-- Its answer is the row of highest probability; a query is accepted when that
-- probability reaches p (and, optionally, the row passes coarse pre-filters
-- coverage >= c, similarity >= s).  Calibrated on the calibration split like
-- the coarse rule, measured on the test split.
CREATE TEMP VIEW vtop AS
SELECT t.query, t.kind, t.role, t.length, t.correct AS coarse_correct,
       coalesce(v.title IS NOT DISTINCT FROM t.truth, false) AS v_correct,
       coalesce(v.probability, 0) AS probability, coalesce(v.coverage, 0) AS coverage,
       coalesce(v.similarity, 0) AS similarity
FROM top t LEFT JOIN LATERAL (
    SELECT a.title, a.probability, a.coverage, a.similarity FROM openset_answers a
    WHERE a.query = t.query AND a.probability IS NOT NULL
    ORDER BY a.probability DESC LIMIT 1) v ON true;

\echo '== verifier: top-1 of in-catalogue queries, coarse order and reranked by probability'
SELECT length, count(*) AS queries, round(100.0 * avg(coarse_correct::int), 1) AS "coarse top-1 %",
       round(100.0 * avg(v_correct::int), 1) AS "reranked top-1 %"
FROM vtop WHERE kind = 'in_catalogue' GROUP BY 1 ORDER BY 1;

CREATE TEMP TABLE vrule AS
WITH grid AS (
    SELECT c::real, s::real, p::real
    FROM unnest(ARRAY[0, 0.4, 0.7]) c, unnest(ARRAY[0, 0.6, 0.7, 0.78]) s,
         (SELECT generate_series(0.0, 0.99, 0.01) UNION SELECT generate_series(0.991, 0.9999, 0.0005)) g(p)
), scored AS (
    SELECT g.c, g.s, g.p,
           avg((v.probability >= g.p AND v.coverage >= g.c AND v.similarity >= g.s)::int)
               FILTER (WHERE v.kind <> 'in_catalogue' AND v.role = 'calibration') AS fa,
           avg((v.v_correct AND v.probability >= g.p AND v.coverage >= g.c AND v.similarity >= g.s)::int)
               FILTER (WHERE v.kind = 'in_catalogue' AND v.coarse_correct AND v.role = 'calibration') AS kept
    FROM grid g, vtop v GROUP BY 1, 2, 3
)
SELECT DISTINCT ON (target, prefilter) target, prefilter, c, s, p, fa, kept
FROM scored, unnest(ARRAY[0.01, 0.001]) target, unnest(ARRAY[false, true]) prefilter
WHERE fa <= target AND (prefilter OR (c = 0 AND s = 0))
ORDER BY target, prefilter, kept DESC, fa, p;

\echo '== verifier rule calibrated on the calibration split (prefilter: coarse coverage and similarity as well)'
SELECT target AS "false accepts <=", prefilter, c AS min_coverage, s AS min_similarity, p AS min_probability,
       round(100 * fa, 2) AS "calibration false accepts %", round(100 * kept, 1) AS "calibration kept %"
FROM vrule ORDER BY target DESC, prefilter;

\echo '== verifier, measured on the test split: share of the coarse stage''s correct answers kept, false accepts'
SELECT r.target AS "calibrated for", r.prefilter, v.length,
       round(100.0 * avg((v.v_correct AND v.probability >= r.p AND v.coverage >= r.c AND v.similarity >= r.s)::int)
             FILTER (WHERE v.kind = 'in_catalogue' AND v.coarse_correct), 1) AS "correct kept %",
       round(100.0 * avg((v.probability >= r.p AND v.coverage >= r.c AND v.similarity >= r.s)::int)
             FILTER (WHERE v.kind <> 'in_catalogue'), 2) AS "false accepts %",
       count(*) FILTER (WHERE v.kind <> 'in_catalogue' AND v.probability >= r.p AND v.coverage >= r.c AND v.similarity >= r.s) AS "false accepts",
       count(*) FILTER (WHERE v.kind <> 'in_catalogue') AS "out-of-catalogue queries"
FROM vrule r, vtop v WHERE v.role = 'test' GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2, 3;

\echo '== verifier with the threshold in its file (no pre-filter), test split'
SELECT v.length, :file_threshold::real AS min_probability,
       round(100.0 * avg((v.v_correct AND v.probability >= :file_threshold)::int)
             FILTER (WHERE v.kind = 'in_catalogue' AND v.coarse_correct), 1) AS "correct kept %",
       round(100.0 * avg((v.probability >= :file_threshold)::int) FILTER (WHERE v.kind <> 'in_catalogue'), 2) AS "false accepts %"
FROM vtop v WHERE v.role = 'test' GROUP BY 1 ORDER BY 1;

\echo '== verifier false accepts per kind (test split, the 1 % rule without pre-filter)'
SELECT v.kind, v.length, count(*) AS queries,
       count(*) FILTER (WHERE v.probability >= r.p AND v.coverage >= r.c AND v.similarity >= r.s) AS "false accepts"
FROM vrule r, vtop v WHERE r.target = 0.01 AND NOT r.prefilter AND v.role = 'test' AND v.kind <> 'in_catalogue'
GROUP BY 1, 2 ORDER BY 1, 2;

\echo '== verifier ROC points (test split, no pre-filter)'
SELECT p AS min_probability,
       round(100.0 * avg((v.v_correct AND v.probability >= p)::int) FILTER (WHERE v.kind = 'in_catalogue' AND v.coarse_correct), 1) AS "correct kept %",
       round(100.0 * avg((v.probability >= p)::int) FILTER (WHERE v.kind <> 'in_catalogue'), 2) AS "false accepts %"
FROM vtop v, unnest(ARRAY[0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]::real[]) p
WHERE v.role = 'test' GROUP BY 1 ORDER BY 1;

\echo '== the defaults of sampleid_identify: coarse pre-filter (0.7, 0.78), then probability >= the file''s threshold; coarse rule alone beside'
WITH acc AS (
    SELECT DISTINCT ON (a.query) a.query, a.title FROM openset_answers a
    WHERE a.coverage >= 0.7 AND a.similarity >= 0.78 AND a.segments >= 2 AND a.probability >= :file_threshold
    ORDER BY a.query, a.probability DESC
), coarse_acc AS (
    SELECT DISTINCT ON (a.query) a.query, a.title FROM openset_answers a
    WHERE a.coverage >= 0.7 AND a.similarity >= 0.78 AND a.segments >= 2
    ORDER BY a.query, a.segments DESC, a.similarity DESC
)
SELECT t.role, t.length,
       round(100.0 * avg((acc.title IS NOT DISTINCT FROM t.truth AND acc.query IS NOT NULL)::int)
             FILTER (WHERE t.kind = 'in_catalogue' AND t.correct), 1) AS "with verifier: kept %",
       round(100.0 * avg((acc.query IS NOT NULL)::int) FILTER (WHERE t.kind <> 'in_catalogue'), 2) AS "false accepts %",
       round(100.0 * avg((c.title IS NOT DISTINCT FROM t.truth AND c.query IS NOT NULL)::int)
             FILTER (WHERE t.kind = 'in_catalogue' AND t.correct), 1) AS "coarse alone: kept %",
       round(100.0 * avg((c.query IS NOT NULL)::int) FILTER (WHERE t.kind <> 'in_catalogue'), 2) AS "false accepts % "
FROM top t LEFT JOIN acc USING (query) LEFT JOIN coarse_acc c USING (query)
GROUP BY 1, 2 ORDER BY 1, 2;
