-- sampleid.device and what it resolves to on this machine.  The expected
-- output assumes no usable GPU (our CI machines have none); on a machine with
-- one, expected/device_1.out applies.
\i sql/include/expect_error.sql
SELECT requested, device, built_with_cuda IS NOT NULL AS reported FROM sampleid_device();
SHOW sampleid.device;
SET sampleid.device = cpu;
SELECT requested, device, reason FROM sampleid_device();
SET sampleid.device = cuda;
SELECT expect_error($$SELECT * FROM sampleid_device()$$) LIKE '0A000: sampleid.device is "cuda" but no CUDA device can be used' AS cuda_refused;
SELECT expect_error($$SET sampleid.device = gpu$$);
RESET sampleid.device;
