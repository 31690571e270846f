-- sampleid.device and what it resolves to.  The output is the same on a
-- machine with a usable GPU and on one without: rather than naming this
-- machine's device, the queries check that the settings agree with one another
-- and with the build (cuda either runs on CUDA or is refused with 0A000; auto
-- picks CUDA exactly when cuda is accepted).
\i sql/include/expect_error.sql
SET sampleid.device = cpu;
SELECT requested, device, reason FROM sampleid_device();
-- a backend on the CPU has sampleid.so mapped but no CUDA library: the CUDA
-- path is a module loaded only when a device resolves to cuda
SELECT pg_read_file('/proc/self/maps') ~ '/sampleid\.so' AS sampleid_is_loaded,
       pg_read_file('/proc/self/maps') !~ 'libcudart|libcublas|sampleid_cuda' AS no_cuda_library_is_loaded;
-- what cuda gives here: its row, or the error it raised
SET sampleid.device = cuda;
CREATE TEMP TABLE cuda_outcome (requested text, device text, built_with_cuda bool, reason text, error text);
DO $$
BEGIN
    INSERT INTO cuda_outcome (requested, device, built_with_cuda, reason)
        SELECT requested, device, built_with_cuda, reason FROM sampleid_device();
EXCEPTION WHEN OTHERS THEN
    INSERT INTO cuda_outcome (error) VALUES (SQLSTATE || ': ' || SQLERRM);
END
$$;
SELECT count(*) = 1 AND bool_and(
           CASE WHEN error IS NULL
                THEN requested = 'cuda' AND device = 'cuda' AND built_with_cuda
                     AND reason LIKE 'sampleid.device is cuda: %'
                ELSE error = '0A000: sampleid.device is "cuda" but no CUDA device can be used'
           END) AS cuda_runs_on_cuda_or_is_refused
FROM cuda_outcome;
RESET sampleid.device;
SHOW sampleid.device;
SELECT requested,
       device = CASE WHEN (SELECT error IS NULL FROM cuda_outcome) THEN 'cuda' ELSE 'cpu' END AS auto_uses_cuda_exactly_when_cuda_is_accepted,
       reason LIKE CASE WHEN device = 'cuda' THEN 'auto: %'
                   ELSE 'auto: no usable CUDA device (%), using the CPU' END AS reason_names_the_choice,
       built_with_cuda OR reason LIKE '%(built without CUDA %' AS reason_says_when_built_without_cuda
FROM sampleid_device();
SELECT expect_error($$SET sampleid.device = gpu$$);
