-- The fingerprint type: I/O, type modifier, casts, functions, operators and
-- every kind of bad input.
SET client_min_messages = warning;
\i sql/include/expect_error.sql

-- text form round trip
SELECT '[1,2,3]'::fingerprint;
SELECT ' [ 1.5 , -2e-3,0.25 ] '::fingerprint;
SELECT '[0.1]'::fingerprint;
SELECT '[3.4028235e38,-1.1754944e-38]'::fingerprint;
SELECT '[1,2,3]'::fingerprint(3);
SELECT fingerprint_dims('[1,2,3,4]');

-- type modifier
CREATE TABLE fp_t (id int, fp fingerprint(3));
INSERT INTO fp_t VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.6,0.8,0]'), (4, NULL);
SELECT * FROM fp_t ORDER BY id;
\d fp_t
SELECT expect_error($$INSERT INTO fp_t VALUES (5, '[1,2]')$$);
SELECT expect_error($$INSERT INTO fp_t VALUES (5, '[1,2]'::fingerprint)$$);
SELECT expect_error($$SELECT '[1,2]'::fingerprint(3)$$);
SELECT expect_error($$SELECT '[1]'::fingerprint(0)$$);
SELECT expect_error($$SELECT '[1]'::fingerprint(16001)$$);
SELECT expect_error($$SELECT '[1]'::fingerprint(1, 2)$$);

-- binary send/receive round trip (COPY BINARY)
CREATE TABLE fp_copy (LIKE fp_t);
COPY fp_t TO '/tmp/sampleid_fp_regress.bin' WITH (FORMAT binary);
COPY fp_copy FROM '/tmp/sampleid_fp_regress.bin' WITH (FORMAT binary);
SELECT a.id, a.fp = b.fp AS same FROM fp_t a JOIN fp_copy b USING (id) ORDER BY id;
SELECT fingerprint_send('[1,-2.5]'::fingerprint);
-- malformed binary input: header, flags, extension length, then one tuple of
-- (id int4 = 1, fp) and the trailer; printf's octal escapes make the bytes.
CREATE TABLE fp_bin (id int, fp fingerprint);
\set copyhead 'PGCOPY\\n\\377\\r\\n\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\2\\0\\0\\0\\4\\0\\0\\0\\1'
-- 3 dimensions announced, one float follows
SELECT expect_error(format($$COPY fp_bin FROM PROGRAM 'printf "%s\0\0\0\10\0\3\0\0\77\200\0\0\377\377"' WITH (FORMAT binary)$$, :'copyhead'));
-- reserved field not zero
SELECT expect_error(format($$COPY fp_bin FROM PROGRAM 'printf "%s\0\0\0\10\0\1\0\7\77\200\0\0\377\377"' WITH (FORMAT binary)$$, :'copyhead'));
-- NaN component
SELECT expect_error(format($$COPY fp_bin FROM PROGRAM 'printf "%s\0\0\0\10\0\1\0\0\177\300\0\0\377\377"' WITH (FORMAT binary)$$, :'copyhead'));
-- a good one, to show the bytes above are laid out right
COPY fp_bin FROM PROGRAM 'printf "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0\0\2\0\0\0\4\0\0\0\1\0\0\0\10\0\1\0\0\77\200\0\0\377\377"' WITH (FORMAT binary);
SELECT * FROM fp_bin;
DROP TABLE fp_bin;

-- casts to and from arrays
SELECT ARRAY[1,2,3]::real[]::fingerprint;
SELECT ARRAY[1.5,2.5]::double precision[]::fingerprint;
SELECT ARRAY[1,2]::int[]::fingerprint;
SELECT ARRAY[0.5,0.25]::numeric[]::fingerprint;
SELECT '[1,2,3]'::fingerprint::real[];
SELECT ARRAY[1,2,3]::real[]::fingerprint(3);
SELECT expect_error($$SELECT ARRAY[1,2,3]::real[]::fingerprint(2)$$);
SELECT expect_error($$SELECT ARRAY[]::real[]::fingerprint$$);
SELECT expect_error($$SELECT ARRAY[1,NULL,3]::real[]::fingerprint$$);
SELECT expect_error($$SELECT ARRAY[[1,2],[3,4]]::real[]::fingerprint$$);
SELECT expect_error($$SELECT ARRAY['NaN']::real[]::fingerprint$$);
SELECT expect_error($$SELECT ARRAY['Infinity']::double precision[]::fingerprint$$);
SELECT expect_error($$SELECT ARRAY[1e300]::double precision[]::fingerprint$$);

-- norm, normalising
SELECT fingerprint_norm('[3,4]');
SELECT fingerprint_normalize('[3,4]');
SELECT fingerprint_norm(fingerprint_normalize('[1,2,3,4,5,6,7,8]')) BETWEEN 0.999999 AND 1.000001 AS unit;
SELECT expect_error($$SELECT fingerprint_normalize('[0,0,0]')$$);

-- distances
SELECT '[1,2,3]'::fingerprint <#> '[4,5,6]' AS neg_ip;
SELECT fingerprint_inner_product('[1,2,3]', '[4,5,6]') AS ip;
SELECT '[1,0]'::fingerprint <=> '[0,1]' AS cos_orthogonal,
       round(('[1,1]'::fingerprint <=> '[2,2]')::numeric, 12) AS cos_same,
       '[1,0]'::fingerprint <=> '[-3,0]' AS cos_opposite;
SELECT '[0,0]'::fingerprint <-> '[3,4]' AS l2;
SELECT fingerprint_l2_squared_distance('[0,0]', '[3,4]') AS l2sq;
SELECT id, fp <#> '[1,0,0]' AS d FROM fp_t WHERE fp IS NOT NULL ORDER BY fp <#> '[1,0,0]', id;
SELECT id FROM fp_t WHERE fp IS NOT NULL ORDER BY fp <=> '[0,1,0]', id LIMIT 2;
SELECT id FROM fp_t WHERE fp IS NOT NULL ORDER BY fp <-> '[0.5,0.5,0]', id LIMIT 1;
SELECT expect_error($$SELECT '[1,2]'::fingerprint <#> '[1,2,3]'$$);
SELECT expect_error($$SELECT '[1,2]'::fingerprint <=> '[1,2,3]'$$);
SELECT expect_error($$SELECT '[1,2]'::fingerprint <-> '[1,2,3]'$$);
SELECT expect_error($$SELECT '[0,0]'::fingerprint <=> '[1,2]'$$);
SELECT expect_error($$SELECT '[1,2]'::fingerprint <=> '[0,0]'$$);

-- comparison, DISTINCT, GROUP BY
SELECT '[1,2]'::fingerprint = '[1,2]', '[1,2]'::fingerprint < '[1,3]', '[1,2]'::fingerprint < '[1,2,0]';
SELECT count(DISTINCT fp) FROM (VALUES ('[1,2]'::fingerprint), ('[1,2]'), ('[2,1]')) v(fp);

-- malformed text
SELECT expect_error($$SELECT ''::fingerprint$$);
SELECT expect_error($$SELECT '1,2,3'::fingerprint$$);
SELECT expect_error($$SELECT '[1,2,3'::fingerprint$$);
SELECT expect_error($$SELECT '[1,,3]'::fingerprint$$);
SELECT expect_error($$SELECT '[1,2,]'::fingerprint$$);
SELECT expect_error($$SELECT '[,1]'::fingerprint$$);
SELECT expect_error($$SELECT '[1 2]'::fingerprint$$);
SELECT expect_error($$SELECT '[1,2] x'::fingerprint$$);
SELECT expect_error($$SELECT '[a]'::fingerprint$$);
SELECT expect_error($$SELECT '[1,2]]'::fingerprint$$);
-- empty
SELECT expect_error($$SELECT '[]'::fingerprint$$);
SELECT expect_error($$SELECT '[ ]'::fingerprint$$);
-- NaN and infinity
SELECT expect_error($$SELECT '[NaN]'::fingerprint$$);
SELECT expect_error($$SELECT '[1,Infinity]'::fingerprint$$);
SELECT expect_error($$SELECT '[-inf,1]'::fingerprint$$);
SELECT expect_error($$SELECT '[1e39]'::fingerprint$$);
-- too many dimensions
SET sampleid.max_dimensions = 4;
SELECT '[1,2,3,4]'::fingerprint;
SELECT expect_error($$SELECT ARRAY[1,2,3,4,5]::real[]::fingerprint$$);
-- the type's text input is not limited by the setting (see below)
SELECT fingerprint_dims('[1,2,3,4,5]'::fingerprint) AS text_input_5;
RESET sampleid.max_dimensions;
SELECT fingerprint_dims(array_fill(0.5::real, ARRAY[2048])::fingerprint);
SELECT expect_error($$SELECT array_fill(0.5::real, ARRAY[2049])::fingerprint$$);
-- the type's input (text and binary: COPY, pg_restore) takes any value the type can
-- hold, so a value stored under a raised limit restores under the default (issue 15);
-- the ceiling is 16000 dimensions
SELECT fingerprint_dims(('[' || repeat('0.5,', 2999) || '0.5]')::fingerprint) AS text_3000;
CREATE TABLE fp_wide AS SELECT ('[' || repeat('0.5,', 2999) || '0.5]')::fingerprint AS fp;
COPY fp_wide TO '/tmp/sampleid_fp_wide.bin' WITH (FORMAT binary);
COPY fp_wide FROM '/tmp/sampleid_fp_wide.bin' WITH (FORMAT binary);
SELECT count(*), min(fingerprint_dims(fp)) AS binary_3000 FROM fp_wide;
DROP TABLE fp_wide;
SELECT fingerprint_dims(('[' || repeat('1,', 15999) || '1]')::fingerprint) AS text_16000;
SELECT expect_error(format('SELECT %L::fingerprint', '[' || repeat('1,', 16000) || '1]')) AS text_16001;
SELECT expect_error(format('SELECT %L::fingerprint(3)', '[1,2,3,4]')) AS typmod_3_of_4;
-- a nonzero component that float4 would round to 0 is out of range, from text and from
-- every array type alike, as float4 input refuses it; subnormals and zeros are kept
SELECT expect_error($$SELECT '[1e-50]'::fingerprint$$) AS text_underflow;
SELECT expect_error($$SELECT ARRAY[1e-50]::float8[]::fingerprint$$) AS float8_underflow;
SELECT expect_error($$SELECT ARRAY[1e-50]::numeric[]::fingerprint$$) AS numeric_underflow;
SELECT '[1e-40, 0, -0]'::fingerprint AS kept, ARRAY[1e-40]::float8[]::fingerprint AS float8_kept;
-- an array with another lower bound would come back renumbered: refused
SELECT expect_error($$SELECT '[5:6]={1,2}'::real[]::fingerprint$$) AS lower_bound_5;
SELECT expect_error($$SELECT '[0:1]={1,2}'::float8[]::fingerprint$$) AS lower_bound_0;
-- only a superuser may raise the limit
CREATE ROLE fp_regress_user;
SET ROLE fp_regress_user;
SELECT expect_error($$SET sampleid.max_dimensions = 100$$);
RESET ROLE;
DROP ROLE fp_regress_user;

-- storage: 8 bytes of header plus 4 per dimension
SELECT pg_column_size(array_fill(0.1::real, ARRAY[128])::fingerprint) AS bytes_128d;

DROP TABLE fp_t, fp_copy;
