-- pg_sampleid demonstration, fourth part: the catalogue fingerprinted with
-- the `sample` model, and the use `sampleid match --model sample` found in
-- the transposed work, which the `fp` model does not hear.  Run by
-- scripts/demo.sh.
\pset footer off

\echo
\echo '== The uses found in transposed.wav with the sample model (transposed copies -3 .. +3)'
SELECT regexp_replace(m.work, '^.*/', '') AS work,
       m.work_start || ' - ' || m.work_end AS "work seconds",
       r.title AS "catalogue recording",
       m.recording_start || ' - ' || m.recording_end AS "recording seconds",
       m.semitones, round(m.tempo::numeric, 2) AS tempo,
       round(m.confidence::numeric, 2) AS confidence
FROM matches m JOIN recordings r ON r.id = m.recording_id
ORDER BY 1, m.work_start;
\echo 'Put in: transposed.wav    revelation 20-32 s at 0-12 s, two semitones up'
