-- Audio front end: sampleid_audio_info and sampleid_audio_segments.
-- Every input is made here: WAV files assembled byte by byte.

CREATE FUNCTION le16(v integer) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT set_byte(set_byte('\x0000'::bytea, 0, v & 255), 1, (v >> 8) & 255) $$;
CREATE FUNCTION le32(v bigint) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT le16((v & 65535)::integer) || le16(((v >> 16) & 65535)::integer) $$;

-- RIFF/WAVE around sample bytes; declared overrides the data chunk size,
-- fmt 1 = integer PCM, 3 = IEEE float.
CREATE FUNCTION wav(rate integer, channels integer, data bytea,
                    declared bigint DEFAULT NULL, fmt integer DEFAULT 1, bits integer DEFAULT 16)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT 'RIFF'::bytea || le32(36 + coalesce(declared, length(data))) || 'WAVEfmt '::bytea
        || le32(16) || le16(fmt) || le16(channels) || le32(rate)
        || le32(rate::bigint * channels * bits / 8) || le16(channels * bits / 8) || le16(bits)
        || 'data'::bytea || le32(coalesce(declared, length(data))) || data $$;

CREATE FUNCTION repeat_bytes(b bytea, n integer) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(b, ''::bytea) FROM generate_series(1, n) $$;
-- 16-bit samples of a sine (every channel identical), amplitude 0.5
CREATE FUNCTION sine16(hz double precision, rate integer, seconds double precision,
                       channels integer DEFAULT 1) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(repeat_bytes(le16(round(16383 * sin(2 * pi() * hz * i / rate))::integer & 65535), channels), ''::bytea ORDER BY i)
    FROM generate_series(0, (rate * seconds)::integer - 1) AS i $$;

\i sql/include/expect_error.sql
-- segment count, or the error as "SQLSTATE: message"
CREATE FUNCTION try_segments(a bytea, hop integer DEFAULT 256,
                             win double precision DEFAULT 1.0, whop double precision DEFAULT 0.5)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM sampleid_audio_segments(a, hop, win, whop);
    RETURN n || ' segments';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TABLE clip (name text PRIMARY KEY, audio bytea);
INSERT INTO clip VALUES
    ('1k_16k_mono', wav(16000, 1, sine16(1000, 16000, 2.5))),
    ('1k_44k_stereo', wav(44100, 2, sine16(1000, 44100, 2.5, 2))),
    ('1k_44k_mono', wav(44100, 1, sine16(1000, 44100, 2.5))),
    ('3k_22k_mono', wav(22050, 1, sine16(3000, 22050, 1.0))),
    ('silence', wav(16000, 1, repeat_bytes('\x0000', 8000)));

-- facts from the header
SELECT name, (sampleid_audio_info(audio)).* FROM clip ORDER BY name;

-- segments: 2.5 s gives 4 windows of 1 s every 0.5 s, each [63 frames][64 mels]
SELECT seg, t_start, array_dims(mel) FROM sampleid_audio_segments(
    (SELECT audio FROM clip WHERE name = '1k_16k_mono'));

-- 4.08 s windows every 0.512 s with hop 512: [128][64]; one window for 2.5 s
SELECT seg, t_start, array_dims(mel) FROM sampleid_audio_segments(
    (SELECT audio FROM clip WHERE name = '1k_16k_mono'), 512, 4.08, 0.512);

-- the loudest mel band (0-based) of each clip: 1 kHz -> 21, 3 kHz -> 43
SELECT name, band, round(level::numeric, 1) AS mean_db
FROM clip, LATERAL (
    SELECT (k - 1) % 64 AS band, avg(v) AS level
    FROM sampleid_audio_segments(clip.audio), unnest(mel) WITH ORDINALITY AS u(v, k)
    GROUP BY 1 ORDER BY 2 DESC LIMIT 1) AS peak
WHERE name <> 'silence' ORDER BY name;

-- the same tone at 44.1 kHz and 16 kHz: largest difference over the bands
-- within 40 dB of the top, segment 1 (away from the edges)
WITH a AS (SELECT k, v FROM sampleid_audio_segments((SELECT audio FROM clip WHERE name = '1k_16k_mono')),
               unnest(mel) WITH ORDINALITY AS u(v, k) WHERE seg = 1),
     b AS (SELECT k, v FROM sampleid_audio_segments((SELECT audio FROM clip WHERE name = '1k_44k_mono')),
               unnest(mel) WITH ORDINALITY AS u(v, k) WHERE seg = 1)
SELECT max(abs(a.v - b.v)) < 0.5 AS within_half_db
FROM a JOIN b USING (k) WHERE a.v > (SELECT max(v) FROM a) - 40;

-- stereo with identical channels gives exactly the mono features
SELECT bool_and(s.mel = m.mel) AS stereo_equals_mono, count(*)
FROM sampleid_audio_segments((SELECT audio FROM clip WHERE name = '1k_44k_stereo')) s
JOIN sampleid_audio_segments((SELECT audio FROM clip WHERE name = '1k_44k_mono')) m USING (seg);

-- silence is valid input: every value is the -100 dB floor
SELECT count(*) AS segments, min(v), max(v)
FROM sampleid_audio_segments((SELECT audio FROM clip WHERE name = 'silence')), unnest(mel) v;

-- bad input: each a clear error with its SQLSTATE
SELECT expect_error($$SELECT sampleid_audio_info('\x'::bytea)$$) AS empty;
SELECT expect_error($$SELECT sampleid_audio_info('not audio at all, just some text')$$) AS unsupported;
SELECT expect_error($$SELECT sampleid_audio_info(substr((SELECT audio FROM clip WHERE name = '3k_22k_mono'), 1, 30))$$) AS truncated_header;
SELECT expect_error($$SELECT sampleid_audio_info(wav(16000, 1, '\x01000200', 32000))$$) AS truncated_data;
SELECT try_segments(wav(16000, 1, '\x01000200', 32000)) AS truncated_data;
SELECT expect_error($$SELECT sampleid_audio_info('RIFF'::bytea || '\x00ffffff'::bytea || 'WAVEjunkjunkjunk'::bytea)$$) AS corrupt;
SELECT try_segments(wav(16000, 1, ''::bytea)) AS zero_length;
SELECT try_segments(wav(48000, 1, '\x0100')) AS too_short_to_resample;
SELECT expect_error($$SELECT sampleid_audio_info(wav(4, 1, sine16(1, 4, 1)))$$) AS rate_4_hz;
SELECT expect_error($$SELECT sampleid_audio_info(wav(2000000, 1, '\x0100'))$$) AS rate_2_mhz;
SELECT expect_error($$SELECT sampleid_audio_info(wav(16000, 100, repeat_bytes('\x0100', 100)))$$) AS channels_100;
SELECT expect_error($$SELECT sampleid_audio_info(wav(16000, 0, '\x0100'))$$) AS channels_0;
SELECT try_segments(wav(16000, 1, '\x0000c07f0000c07f', NULL, 3, 32)) AS float_nan;
SELECT try_segments((SELECT audio FROM clip WHERE name = '1k_16k_mono'), 0) AS hop_0;
SELECT try_segments((SELECT audio FROM clip WHERE name = '1k_16k_mono'), 256, -1) AS window_negative;
SELECT try_segments((SELECT audio FROM clip WHERE name = '1k_16k_mono'), 256, 1, 0) AS window_hop_0;
SELECT try_segments((SELECT audio FROM clip WHERE name = '1k_16k_mono'), 256, 'NaN') AS window_nan;

-- limits are settings
SET sampleid.max_audio_seconds = 2;
SELECT expect_error($$SELECT sampleid_audio_info(audio) FROM clip WHERE name = '1k_16k_mono'$$) AS too_long;
SELECT try_segments(audio) AS too_long FROM clip WHERE name = '1k_16k_mono';
RESET sampleid.max_audio_seconds;
SET sampleid.max_audio_bytes = '64kB';
SELECT expect_error($$SELECT sampleid_audio_info(audio) FROM clip WHERE name = '1k_16k_mono'$$) AS too_big;
RESET sampleid.max_audio_bytes;
SET sampleid.max_audio_sample_rate = 22050;
SELECT expect_error($$SELECT sampleid_audio_info(audio) FROM clip WHERE name = '1k_44k_mono'$$) AS rate_limit;
RESET sampleid.max_audio_sample_rate;
SET sampleid.max_audio_channels = 1;
SELECT expect_error($$SELECT sampleid_audio_info(audio) FROM clip WHERE name = '1k_44k_stereo'$$) AS channel_limit;
RESET sampleid.max_audio_channels;
-- results depend on the settings: STABLE, not IMMUTABLE
SELECT proname, provolatile FROM pg_proc WHERE proname LIKE 'sampleid_audio%' ORDER BY 1;

-- sizes from the caller are bounded before any feature is computed: frames per
-- window (sampleid.max_segment_frames) and data per call (sampleid.max_segment_output)
SELECT try_segments(audio, 16, 60.0, 1.0 / 16000) AS frames_60s_hop_16 FROM clip WHERE name = '1k_16k_mono';
SELECT try_segments(audio, 1, 300.0, 0.5) AS frames_300s_hop_1 FROM clip WHERE name = '1k_16k_mono';
SELECT try_segments(audio, 7, 600.0, 0.5) AS frames_600s_hop_7 FROM clip WHERE name = '1k_16k_mono';
SET sampleid.max_segment_frames = 62;
SELECT try_segments(audio) AS frames_63_of_62 FROM clip WHERE name = '1k_16k_mono';
SET sampleid.max_segment_frames = 63;
SELECT try_segments(audio) AS frames_63_of_63 FROM clip WHERE name = '1k_16k_mono';
RESET sampleid.max_segment_frames;
SET sampleid.max_segment_output = '63kB';  -- 4 segments of 63 x 64 values are 63 kB
SELECT try_segments(audio) AS output_63kB FROM clip WHERE name = '1k_16k_mono';
SET sampleid.max_segment_output = '62kB';
SELECT try_segments(audio) AS output_62kB FROM clip WHERE name = '1k_16k_mono';
RESET sampleid.max_segment_output;
-- the hint names the settings
SET sampleid.max_audio_seconds = 1;
SELECT * FROM sampleid_audio_info((SELECT audio FROM clip WHERE name = '1k_16k_mono'));
RESET sampleid.max_audio_seconds;
-- ordinary users cannot raise them
CREATE ROLE sampleid_audio_user;
SET ROLE sampleid_audio_user;
SET sampleid.max_audio_seconds = 100000;
SET sampleid.max_segment_frames = 100000;
SET sampleid.max_segment_output = '100GB';
RESET ROLE;

-- server files: superusers and pg_read_server_files members only
CREATE FUNCTION try_file(path text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r record; n bigint;
BEGIN
    SELECT * INTO r FROM sampleid_audio_file_info(path);
    SELECT count(*) INTO n FROM sampleid_audio_file_segments(path);
    RETURN format('%s s, %s Hz, %s ch, %s/%s, %s segments',
                  r.duration_seconds, r.sample_rate, r.channels, r.format, r.encoding, n);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
DO $$
DECLARE o oid := lo_from_bytea(0, (SELECT audio FROM clip WHERE name = '3k_22k_mono'));
BEGIN
    PERFORM lo_export(o, 'sampleid_audio_test.wav');  -- into the data directory
    PERFORM lo_unlink(o);
END $$;
SELECT try_file('sampleid_audio_test.wav') AS superuser;
SELECT seg, t_start, array_dims(mel) FROM sampleid_audio_file_segments('sampleid_audio_test.wav', 512, 0.5, 0.25);
SELECT try_file('no_such_file.wav') AS missing;
SELECT try_file('.') AS directory;
SET ROLE sampleid_audio_user;
SELECT try_file('sampleid_audio_test.wav') AS ordinary_user;
SELECT * FROM sampleid_audio_file_info('sampleid_audio_test.wav');
RESET ROLE;
CREATE ROLE sampleid_audio_reader IN ROLE pg_read_server_files;
SET ROLE sampleid_audio_reader;
SELECT try_file('sampleid_audio_test.wav') AS server_file_reader;
RESET ROLE;
DROP ROLE sampleid_audio_user;
DROP ROLE sampleid_audio_reader;
