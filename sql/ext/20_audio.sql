
-- Audio front end (src/pg/audio.c, src/lib/audio/sid_audio.c, src/lib/audio/sid_mel.c;
-- conventions in docs/audio.md).  STABLE, not IMMUTABLE: results depend on the
-- sampleid.max_* settings.

CREATE FUNCTION sampleid_audio_info(audio bytea,
    OUT duration_seconds double precision, OUT sample_rate integer,
    OUT channels integer, OUT format text, OUT encoding text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'sampleid_audio_info'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_audio_info(bytea) IS
    'duration, original sample rate, channels, container format and encoding of encoded audio';

CREATE FUNCTION sampleid_audio_segments(audio bytea,
    hop_length integer DEFAULT 256,
    window_seconds double precision DEFAULT 1.0,
    window_hop_seconds double precision DEFAULT 0.5,
    OUT seg integer, OUT t_start double precision, OUT mel real[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'sampleid_audio_segments'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_audio_segments(bytea, integer, double precision, double precision) IS
    'model windows of audio: number, start time (s) and log-mel frames (real[frames][64], dB) at 16 kHz, n_fft 1024';

CREATE FUNCTION sampleid_audio_file_info(path text,
    OUT duration_seconds double precision, OUT sample_rate integer,
    OUT channels integer, OUT format text, OUT encoding text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'sampleid_audio_file_info'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_audio_file_info(text) IS
    'sampleid_audio_info of a server file (superusers and pg_read_server_files members only)';

CREATE FUNCTION sampleid_audio_file_segments(path text,
    hop_length integer DEFAULT 256,
    window_seconds double precision DEFAULT 1.0,
    window_hop_seconds double precision DEFAULT 0.5,
    OUT seg integer, OUT t_start double precision, OUT mel real[])
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'sampleid_audio_file_segments'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sampleid_audio_file_segments(text, integer, double precision, double precision) IS
    'sampleid_audio_segments of a server file (superusers and pg_read_server_files members only)';
