-- Ingestion in SQL, and the rights report behind `sampleid report`.

CREATE FUNCTION sampleid_embed_file(path text, model text DEFAULT 'fp')
    RETURNS TABLE(seg int, t_start real, fp fingerprint)
    AS 'MODULE_PATHNAME', 'sampleid_embed_file'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION sampleid_embed_file(text, text) IS
    'sampleid_embed of a file on the server; for superusers and roles with privileges of pg_read_server_files';

-- A failing file is a row with its error, not an aborted statement: the
-- exception block is a subtransaction per call, so one bad file among many
-- leaves the others' rows in the same INSERT.
CREATE FUNCTION sampleid_try_embed_file(path text, model text DEFAULT 'fp')
    RETURNS TABLE(seg int, t_start real, fp fingerprint, error text)
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE ROWS 100
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT e.seg, e.t_start, e.fp, NULL::text
                 FROM @extschema@.sampleid_embed_file(path, model) e;
EXCEPTION WHEN OTHERS THEN
    RETURN QUERY SELECT NULL::int, NULL::real, NULL::@extschema@.fingerprint,
                        SQLSTATE || ': ' || SQLERRM;
END
$$;
COMMENT ON FUNCTION sampleid_try_embed_file(text, text) IS
    'sampleid_embed_file, or one row whose error column says why the file could not be fingerprinted';

-- Every use of a catalogue recording in a new work (the matches table that
-- sampleid match fills; docs/reference.md gives its columns), with the
-- recording's title, artist and rights holder: what sampleid report prints.
-- The tables are named by text, not regclass: a regclass default would be
-- looked up when the extension is created, before any matches table exists.
CREATE FUNCTION sampleid_rights_report(matches text DEFAULT 'matches',
                                       recordings text DEFAULT 'recordings')
    RETURNS TABLE(work text, work_start real, work_end real, recording_id bigint, title text,
                  artist text, rights_holder text, recording_start real, recording_end real,
                  seconds real, confidence real, model text)
    LANGUAGE plpgsql STABLE STRICT
AS $$
BEGIN
    -- no SET search_path: the table names are the caller's, looked up in its path
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT m.work, m.work_start, m.work_end, m.recording_id, r.title, r.artist, r.rights_holder,
                m.recording_start, m.recording_end, m.work_end - m.work_start, m.confidence, m.model
         FROM %s m LEFT JOIN %s r ON r.id = m.recording_id
         ORDER BY m.work, m.work_start, m.recording_id', matches::regclass, recordings::regclass);
END
$$;
COMMENT ON FUNCTION sampleid_rights_report(text, text) IS
    'one row per detected use in the matches table, with the catalogue recording''s title, artist and rights holder';
