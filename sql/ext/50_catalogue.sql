-- Catalogues: which model fingerprinted a table of segments, so that
-- identification uses the same model and hop, and ingestion never mixes two
-- models in one table.  One row per catalogue table; an ordinary role
-- registers the tables it owns (row-level security), everyone may read.

CREATE TABLE sampleid_catalogues (
    catalogue           regclass PRIMARY KEY,
    model               text NOT NULL,
    model_sha256        text NOT NULL,
    embed_dim           int NOT NULL,
    segment_seconds     real NOT NULL,
    segment_hop_seconds real NOT NULL,
    registered_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE sampleid_catalogues IS
    'the model (name and SHA-256 of its file) and segment hop that fingerprinted each catalogue table';
SELECT pg_catalog.pg_extension_config_dump('sampleid_catalogues', '');
ALTER TABLE sampleid_catalogues ENABLE ROW LEVEL SECURITY;
CREATE POLICY sampleid_catalogues_read ON sampleid_catalogues FOR SELECT USING (true);
CREATE POLICY sampleid_catalogues_owner ON sampleid_catalogues FOR ALL
    USING (pg_catalog.pg_has_role(
        (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = catalogue), 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role(
        (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = catalogue), 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON sampleid_catalogues TO PUBLIC;

CREATE FUNCTION sampleid_catalogue_register(catalogue regclass, model text DEFAULT 'fp',
                                            replace boolean DEFAULT false)
    RETURNS sampleid_catalogues
    LANGUAGE plpgsql VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m   record;
    cur @extschema@.sampleid_catalogues;
BEGIN
    SELECT * INTO m FROM @extschema@.sampleid_models() x WHERE x.name = model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" is not installed', model
            USING ERRCODE = 'undefined_object', HINT = 'sampleid_models() lists the installed models.';
    ELSIF m.error IS NOT NULL THEN
        RAISE EXCEPTION 'model "%" cannot be loaded: %', model, m.error
            USING ERRCODE = 'data_corrupted';
    ELSIF NOT m.trained THEN
        RAISE EXCEPTION 'model "%" is untrained', model
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A catalogue is fingerprinted with a trained model such as "fp".';
    END IF;
    IF NOT pg_has_role((SELECT c.relowner FROM pg_class c WHERE c.oid = catalogue), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table % to register it as a catalogue', catalogue
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    SELECT * INTO cur FROM @extschema@.sampleid_catalogues c WHERE c.catalogue = $1 FOR UPDATE;
    IF FOUND AND cur.model = m.name AND cur.model_sha256 = m.sha256 THEN
        RETURN cur;
    ELSIF FOUND AND NOT replace THEN
        RAISE EXCEPTION 'catalogue % is fingerprinted with model "%" (sha256 %), not "%" (sha256 %)',
            catalogue, cur.model, left(cur.model_sha256, 12), m.name, left(m.sha256, 12)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A catalogue table holds the fingerprints of one model: use another table, or re-fingerprint this one and register it with replace => true.';
    END IF;
    INSERT INTO @extschema@.sampleid_catalogues AS c
        (catalogue, model, model_sha256, embed_dim, segment_seconds, segment_hop_seconds)
    VALUES ($1, m.name, m.sha256, m.embed_dim, m.segment_seconds, m.segment_hop_seconds)
    ON CONFLICT ON CONSTRAINT sampleid_catalogues_pkey DO UPDATE
        SET model = excluded.model, model_sha256 = excluded.model_sha256,
            embed_dim = excluded.embed_dim, segment_seconds = excluded.segment_seconds,
            segment_hop_seconds = excluded.segment_hop_seconds, registered_at = now()
    RETURNING * INTO cur;
    RETURN cur;
END
$$;
COMMENT ON FUNCTION sampleid_catalogue_register(regclass, text, boolean) IS
    'records that the table holds fingerprints of the named installed model (its SHA-256 and hop); refuses another model unless replace';

-- A dropped table leaves no registration whose OID a new table could reuse.
CREATE FUNCTION sampleid_catalogues_forget_dropped() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM @extschema@.sampleid_catalogues c
    USING pg_event_trigger_dropped_objects() d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.catalogue::oid;
END
$$;
CREATE EVENT TRIGGER sampleid_catalogues_forget_dropped ON sql_drop
    EXECUTE FUNCTION sampleid_catalogues_forget_dropped();
