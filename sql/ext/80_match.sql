-- Batch matching: every use of a catalogue recording in a new work.
-- sampleid_identify decides about a clip as a whole (min_coverage of its
-- segments must agree), so a long work that uses an excerpt somewhere would
-- never be accepted; a window slides over the work instead, each window is
-- identified, and accepted windows of one recording at one alignment are
-- merged into one use.  No SET search_path: the table names are the
-- caller's, looked up in its path.  Identification's "no content" notices
-- (one per silent window) are not wanted here, hence client_min_messages.

-- The registered row of a catalogue named as text, or a clear error: what
-- the functions below need first (its model, its hop).
CREATE FUNCTION sampleid_catalogue(catalogue text) RETURNS sampleid_catalogues
    LANGUAGE plpgsql STABLE STRICT
AS $$
DECLARE
    c @extschema@.sampleid_catalogues;
BEGIN
    SELECT * INTO c FROM @extschema@.sampleid_catalogues r
    WHERE r.catalogue = sampleid_catalogue.catalogue::regclass;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'catalogue "%" is not registered', sampleid_catalogue.catalogue
            USING ERRCODE = 'undefined_object',
                  HINT = 'sampleid_catalogue_register records the model that fingerprinted it.';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION sampleid_catalogue(text) IS
    'the sampleid_catalogues row of a catalogue table (model, hop), or an error when it is not registered';

-- Sample mode (a sample-kind model, or shifts given): the work comes as
-- transposed copies, copy after copy, shifts giving each row's (in semitones); a
-- window is a span of time, and sampleid_identify gets every copy's rows in
-- it.  A use found under a tempo change keeps identification's reference
-- range (the offset drifts along it); otherwise its edges are refined on the
-- rows of the copy that matched.
CREATE FUNCTION sampleid_match_uses(
    fingerprints fingerprint[], t_start real[], catalogue text DEFAULT 'segments',
    model text DEFAULT NULL, window_seconds real DEFAULT 8, step_seconds real DEFAULT 2,
    content boolean[] DEFAULT NULL, min_similarity real DEFAULT NULL,
    recording_column text DEFAULT 'recording_id', time_column text DEFAULT 't_start',
    fingerprint_column text DEFAULT 'fp', shifts int[] DEFAULT NULL)
    RETURNS TABLE(recording_id bigint, work_start real, work_end real,
                  recording_start real, recording_end real, confidence real,
                  semitones real, tempo real)
    LANGUAGE plpgsql VOLATILE
    SET client_min_messages = warning
AS $$
DECLARE
    n     int := coalesce(pg_catalog.cardinality(fingerprints), 0);
    cat   @extschema@.sampleid_catalogues;
    win   int;
    step  int;
    -- the start times of the first copy's rows: the windows' grid
    grid  real[];
    ng    int;
    u     record;
    edge  record;
    shift int;
    -- the edges' threshold: the caller's, else the model's coarse rule
    edge_similarity real;
BEGIN
    IF window_seconds IS NULL OR step_seconds IS NULL OR NOT window_seconds > 0
       OR NOT step_seconds > 0 OR step_seconds > window_seconds THEN
        RAISE EXCEPTION 'window_seconds and step_seconds must be positive, the step at most the window (%, %)',
            window_seconds, step_seconds USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF n <> coalesce(pg_catalog.cardinality(sampleid_match_uses.t_start), 0)
       OR (content IS NOT NULL AND pg_catalog.cardinality(content) <> n)
       OR (sampleid_match_uses.shifts IS NOT NULL
           AND pg_catalog.cardinality(sampleid_match_uses.shifts) <> n) THEN
        RAISE EXCEPTION 'fingerprints, t_start, content and shifts must have one element per segment'
            USING ERRCODE = 'array_subscript_error';
    END IF;
    cat := @extschema@.sampleid_catalogue(sampleid_match_uses.catalogue);
    win := greatest(2, round(window_seconds / cat.segment_hop_seconds)::int);
    step := greatest(1, round(step_seconds / cat.segment_hop_seconds)::int);
    SELECT pg_catalog.array_agg(x.t ORDER BY x.k) INTO grid
    FROM unnest(sampleid_match_uses.t_start, sampleid_match_uses.shifts) WITH ORDINALITY AS x(t, s, k)
    WHERE x.s IS NOT DISTINCT FROM sampleid_match_uses.shifts[1];
    ng := coalesce(pg_catalog.cardinality(grid), 0);
    edge_similarity := coalesce(sampleid_match_uses.min_similarity,
        (SELECT m.min_similarity FROM @extschema@.sampleid_models() m
         WHERE m.name = coalesce(sampleid_match_uses.model, cat.model)));
    FOR u IN
        WITH windows AS (
            SELECT w.first, grid[w.first] AS t0, grid[least(ng, w.first + win - 1)] AS t1
            FROM pg_catalog.generate_series(1, greatest(1, ng - win + step), step) AS w(first)
            WHERE ng > 0),
        window_hits AS (
            SELECT w.first, i.recording_id AS rec, i.query_start AS qs, i.query_end AS qe,
                   i.ref_start AS rs, i.ref_end AS re,
                   i.ref_start - i.query_start AS off, coalesce(i.probability, i.similarity) AS conf,
                   i.similarity AS sim, i.semitones AS st, i.tempo AS tp
            FROM windows w
            CROSS JOIN LATERAL (
                SELECT pg_catalog.array_agg(x.f ORDER BY x.k) AS f, pg_catalog.array_agg(x.t ORDER BY x.k) AS t,
                       pg_catalog.array_agg(x.c ORDER BY x.k) AS c, pg_catalog.array_agg(x.s ORDER BY x.k) AS s
                FROM unnest(fingerprints, sampleid_match_uses.t_start, content, sampleid_match_uses.shifts)
                     WITH ORDINALITY AS x(f, t, c, s, k)
                WHERE x.t >= w.t0 AND x.t <= w.t1) sel
            CROSS JOIN LATERAL @extschema@.sampleid_identify(
                sel.f, sel.t, sampleid_match_uses.catalogue, sampleid_match_uses.model,
                min_similarity => sampleid_match_uses.min_similarity,
                recording_column => recording_column, time_column => time_column,
                fingerprint_column => fingerprint_column,
                content => CASE WHEN content IS NULL THEN NULL ELSE sel.c END,
                semitones => CASE WHEN sampleid_match_uses.shifts IS NULL THEN NULL ELSE sel.s END) i),
        -- one alignment per recording and window, the best: a recording that
        -- repeats a passage also matches the window at the repeat, and those
        -- weaker rows would cut the use in pieces (or stand as uses of their own)
        hits AS (
            SELECT DISTINCT ON (h.first, h.rec) h.*
            FROM window_hits h ORDER BY h.first, h.rec, h.conf DESC),
        -- a new use starts where the previous window of the recording ended
        -- more than two hops earlier or aligned more than two hops apart (a
        -- tempo change moves the offset by (tempo - 1) x step per window, well
        -- within that up to the tempo range identification fits)
        marked AS (
            SELECT h.*, CASE WHEN h.qs <= lag(h.qe) OVER w + 2 * cat.segment_hop_seconds
                              AND abs(h.off - lag(h.off) OVER w) <= 2 * cat.segment_hop_seconds
                             THEN 0 ELSE 1 END AS starts
            FROM hits h WINDOW w AS (PARTITION BY h.rec ORDER BY h.qs, h.qe)),
        islands AS (
            SELECT m.*, sum(m.starts) OVER (PARTITION BY m.rec ORDER BY m.qs, m.qe) AS island
            FROM marked m)
        SELECT s.rec, min(s.qs) AS qs, max(s.qe) AS qe, min(s.rs) AS rs, max(s.re) AS re,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY s.off) AS off,
               least(1, greatest(0, avg(s.conf)))::real AS conf,
               min(s.sim) AS sim, mode() WITHIN GROUP (ORDER BY s.st) AS st,
               avg(s.tp)::real AS tp
        FROM islands s GROUP BY s.rec, s.island ORDER BY 2, 1
    LOOP
        recording_id := u.rec;
        confidence := u.conf;
        semitones := u.st;
        tempo := u.tp;
        IF u.tp IS NOT NULL AND abs(u.tp - 1) > 0.05 THEN
            -- the offset is not constant: identification's ranges stand
            work_start := u.qs;
            work_end := u.qe;
            recording_start := u.rs;
            recording_end := u.re;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- the use's edges: the run of segments (of the copy that matched: the
        -- query is the recording transposed by -shift) that match the aligned
        -- catalogue segment at min_similarity (NULL: the model's coarse
        -- rule, sampleid_models()), with gaps of at most two hops, that overlaps the
        -- accepted windows' span; it may reach a window beyond that span on
        -- either side, as a window that holds the use's first seconds and
        -- other audio is rightly rejected, and it moves in where a window
        -- reaches past the use it agrees with
        shift := coalesce(-round(u.st)::int, 0);
        EXECUTE pg_catalog.format(
            'WITH m AS (
                 SELECT q.t
                 FROM unnest($1::@extschema@.fingerprint[], $2::real[], $9::int[]) AS q(fp, t, s)
                 CROSS JOIN LATERAL (SELECT -(s.%3$I OPERATOR(@extschema@.<#>) q.fp) AS sim FROM %1$s s
                                     WHERE s.%2$I = $3 AND abs(s.%4$I - (q.t + $4)) <= $8
                                     ORDER BY abs(s.%4$I - (q.t + $4)) LIMIT 1) r
                 WHERE coalesce(q.s, 0) = $10 AND q.t >= $5 - $11 AND q.t <= $6 + $11 AND r.sim >= $7),
             gaps AS (
                 SELECT m.t, CASE WHEN m.t - lag(m.t) OVER (ORDER BY m.t) > 2 * $8 THEN 1 ELSE 0 END AS starts
                 FROM m),
             runs AS (SELECT g.t, sum(g.starts) OVER (ORDER BY g.t) AS run FROM gaps g)
             SELECT min(t) AS first, max(t) AS last FROM runs
             WHERE run IN (SELECT run FROM runs WHERE t >= $5 AND t <= $6)',
            sampleid_match_uses.catalogue::regclass, recording_column, fingerprint_column, time_column)
            INTO edge USING fingerprints, sampleid_match_uses.t_start, u.rec, u.off, u.qs,
                            u.qe - cat.segment_seconds,
                            coalesce(edge_similarity, u.sim),
                            cat.segment_hop_seconds, sampleid_match_uses.shifts, shift,
                            window_seconds;
        work_start := coalesce(edge.first, u.qs);
        work_end := coalesce(edge.last + cat.segment_seconds, u.qe);
        recording_start := work_start + u.off;
        recording_end := work_end + u.off;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sampleid_match_uses(fingerprint[], real[], text, text, real, real, boolean[], real, text, text, text, int[]) IS
    'every use of a catalogue recording in a fingerprinted work (in sample mode, its transposed copies): sampleid_identify over a sliding window, accepted windows merged per recording and alignment';

-- The works already in a table: audio as bytea, or as a path on the server
-- (text; sampleid_embed_file's privileges apply).  Each work's rows in the
-- matches table are replaced, so a re-run leaves the same uses.
CREATE FUNCTION sampleid_match(
    works text, matches text DEFAULT 'matches', catalogue text DEFAULT 'segments',
    work_column text DEFAULT 'work', audio_column text DEFAULT 'audio',
    window_seconds real DEFAULT 8, step_seconds real DEFAULT 2)
    RETURNS TABLE(work text, uses int)
    LANGUAGE plpgsql VOLATILE STRICT
AS $$
DECLARE
    m          text;
    audio_type regtype;
    embed      text;
    w          record;
BEGIN
    m := (@extschema@.sampleid_catalogue(sampleid_match.catalogue)).model;
    SELECT a.atttypid::regtype INTO audio_type FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = works::regclass AND a.attname = audio_column AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of "%" does not exist', audio_column, works
            USING ERRCODE = 'undefined_column';
    END IF;
    -- audio: sample mode's copies when the model is sample-kind (sampleid_embed_copies
    -- makes none for another); a path: the file as it is
    IF audio_type = 'bytea'::regtype THEN
        embed := 'SELECT array_agg(e.fp ORDER BY e.shift, e.seg) AS f,
                         array_agg(e.t_start ORDER BY e.shift, e.seg) AS t,
                         array_agg(e.content ORDER BY e.shift, e.seg) AS c,
                         array_agg(e.shift ORDER BY e.shift, e.seg) AS s
                  FROM @extschema@.sampleid_embed_copies($2, $3) e';
    ELSIF audio_type = 'text'::regtype THEN
        embed := 'SELECT array_agg(e.fp ORDER BY e.seg) AS f, array_agg(e.t_start ORDER BY e.seg) AS t,
                         NULL::boolean[] AS c, NULL::int[] AS s
                  FROM @extschema@.sampleid_embed_file($2, $3) e';
    ELSE
        RAISE EXCEPTION 'column "%" is %, not bytea (audio) or text (a path on the server)',
            audio_column, audio_type USING ERRCODE = 'datatype_mismatch';
    END IF;
    FOR w IN EXECUTE pg_catalog.format('SELECT %I::text AS work, %I AS audio FROM %s ORDER BY 1',
                                       work_column, audio_column, works::regclass) LOOP
        EXECUTE pg_catalog.format('DELETE FROM %s WHERE work = $1', matches::regclass) USING w.work;
        EXECUTE pg_catalog.format(
            'INSERT INTO %s (work, recording_id, work_start, work_end, recording_start,
                             recording_end, confidence, model, semitones, tempo)
             SELECT $1, u.recording_id, u.work_start, u.work_end, u.recording_start,
                    u.recording_end, u.confidence, $3, u.semitones, u.tempo
             FROM (%s) q,
                  LATERAL @extschema@.sampleid_match_uses(q.f, q.t, $4, $3, $5, $6, q.c, shifts => q.s) u',
            matches::regclass, embed)
            USING w.work, w.audio, m, catalogue, window_seconds, step_seconds;
        GET DIAGNOSTICS uses = ROW_COUNT;
        work := w.work;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sampleid_match(text, text, text, text, text, real, real) IS
    'matches every work of a table (audio as bytea, or a server path as text) against a catalogue, replacing its rows in the matches table';

-- Recordings that are the same audio: the catalogue identified against
-- itself, each recording's own fingerprints as the query.  A row says that
-- coverage of the recording is heard in the duplicate at one alignment; a
-- recording wholly inside a longer one appears in one direction only.  Every
-- segment is a top-k search: a large catalogue wants its ivfpq index.
CREATE FUNCTION sampleid_duplicates(
    catalogue text DEFAULT 'segments', min_similarity real DEFAULT 0.78,
    min_coverage real DEFAULT 0.7, recording_column text DEFAULT 'recording_id',
    time_column text DEFAULT 't_start', fingerprint_column text DEFAULT 'fp')
    RETURNS TABLE(recording_id bigint, duplicate_id bigint, recording_start real,
                  recording_end real, duplicate_start real, duplicate_end real,
                  coverage real, similarity real)
    LANGUAGE plpgsql VOLATILE STRICT
    SET client_min_messages = warning
AS $$
DECLARE
    max_segments int;
BEGIN
    -- a recording longer than identification accepts is queried by its
    -- first sampleid.identify_max_segments segments; the setting exists once
    -- the module is loaded, which any of its C functions does
    PERFORM @extschema@.sampleid_device();
    max_segments := pg_catalog.current_setting('sampleid.identify_max_segments')::int;
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT r.id, i.recording_id, i.query_start, i.query_end, i.ref_start, i.ref_end,
                i.coverage, i.similarity
         FROM (SELECT %2$I::bigint AS id, array_agg(%4$I ORDER BY %3$I) AS f,
                      array_agg(%3$I::real ORDER BY %3$I) AS t
               FROM %1$s GROUP BY 1) r
         CROSS JOIN LATERAL @extschema@.sampleid_identify(r.f[1:$7], r.t[1:$7], $1, NULL, 20, $2, $3,
                                                          false, $4, $5, $6) i
         WHERE i.recording_id <> r.id ORDER BY 1, 2',
        catalogue::regclass, recording_column, time_column, fingerprint_column)
        USING catalogue, min_similarity, min_coverage, recording_column, time_column,
              fingerprint_column, max_segments;
END
$$;
COMMENT ON FUNCTION sampleid_duplicates(text, real, real, text, text, text) IS
    'pairs of catalogue recordings that are the same audio: each recording identified against the rest of its catalogue';
