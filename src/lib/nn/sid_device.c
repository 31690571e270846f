/*
 * sid_device.c - choosing between the CPU and CUDA paths.
 */
#include "nn/sid_device.h"

#include <stdio.h>

#include "nn/sid_cuda_module.h"

int
sid_built_with_cuda(void)
{
#ifdef SAMPLEID_HAVE_CUDA
	return 1;
#else
	return 0;
#endif
}

int
sid_cuda_device_count(char *why, size_t why_len)
{
	const sid_cuda_api *api;

	/* a CPU server never loads the module (and CUDA) to learn it has no GPU */
	if (sid_built_with_cuda() && sid_cuda_module_loaded() == NULL && !sid_nvidia_driver_present())
	{
		snprintf(why, why_len, "no NVIDIA driver on this machine (no /dev/nvidiactl, no /proc/driver/nvidia)");
		return 0;
	}
	if ((api = sid_cuda_module(why, why_len)) == NULL)
		return 0;
	return api->probe(why, why_len);
}

int
sid_device_resolve(sid_device_kind requested, char *why, size_t why_len)
{
	char		probe[256];
	int			ngpu;

	if (requested == SID_DEVICE_CPU)
	{
		snprintf(why, why_len, "sampleid.device is cpu");
		return SID_DEVICE_CPU;
	}

	ngpu = sid_cuda_device_count(probe, sizeof(probe));
	if (ngpu > 0)
	{
		snprintf(why, why_len, "%s: %s",
				 requested == SID_DEVICE_CUDA ? "sampleid.device is cuda" : "auto",
				 probe);
		return SID_DEVICE_CUDA;
	}
	if (requested == SID_DEVICE_CUDA)
	{
		snprintf(why, why_len, "no usable CUDA device: %s", probe);
		return -1;
	}
	snprintf(why, why_len, "auto: no usable CUDA device (%s), using the CPU", probe);
	return SID_DEVICE_CPU;
}
