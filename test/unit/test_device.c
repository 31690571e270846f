/*
 * test_device.c - the device choice: cpu is always honoured, auto falls back
 * to the CPU with a reason when no GPU is usable, cuda without one is refused.
 */
#include <string.h>

#include "nn/sid_device.h"
#include "tap.h"

int
main(void)
{
	char		why[512];
	int			ngpu = sid_cuda_device_count(why, sizeof(why));
	int			device;

	CHECK(ngpu >= 0, "device count is never negative (%d)", ngpu);
	CHECK(ngpu > 0 || strlen(why) > 0, "no GPU comes with a reason: %s", why);
	if (!sid_built_with_cuda())
		CHECK(ngpu == 0 && strstr(why, "without CUDA") != NULL,
			  "a CPU-only build says so: %s", why);

	device = sid_device_resolve(SID_DEVICE_CPU, why, sizeof(why));
	CHECK(device == SID_DEVICE_CPU, "cpu resolves to the CPU (%s)", why);

	device = sid_device_resolve(SID_DEVICE_AUTO, why, sizeof(why));
	CHECK(device == (ngpu > 0 ? SID_DEVICE_CUDA : SID_DEVICE_CPU),
		  "auto resolves to %s (%s)", ngpu > 0 ? "cuda" : "cpu", why);

	device = sid_device_resolve(SID_DEVICE_CUDA, why, sizeof(why));
	if (ngpu > 0)
		CHECK(device == SID_DEVICE_CUDA, "cuda resolves to the GPU (%s)", why);
	else
		CHECK(device < 0 && strstr(why, "no usable CUDA device") != NULL,
			  "cuda without a GPU is refused: %s", why);
	return tap_done();
}
