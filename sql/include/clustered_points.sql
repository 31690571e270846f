\set ECHO none
-- Shared by the ivfpq regression tests (\i sql/include/clustered_points.sql,
-- with psql variables centres and dims set, after setseed): clustered
-- synthetic fingerprints.  clustered_centre holds :centres random centres of
-- :dims dimensions; clustered_point(c) is centre c plus uniform noise of
-- width 0.6, normalised.
CREATE TABLE clustered_centre AS
    SELECT c, array_agg(random() - 0.5 ORDER BY i) AS v
    FROM generate_series(1, :centres) c, generate_series(1, :dims) i GROUP BY c;
CREATE FUNCTION clustered_point(centre int) RETURNS fingerprint LANGUAGE sql AS $$
    SELECT fingerprint_normalize(array_agg(v[i] + 0.6 * (random() - 0.5) ORDER BY i)::fingerprint)
    FROM clustered_centre, generate_series(1, array_length(v, 1)) i WHERE c = centre
$$;
\set ECHO all
