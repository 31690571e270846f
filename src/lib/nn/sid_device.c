/*
 * sid_device.c - choosing between the CPU and CUDA paths.
 */
#include "nn/sid_device.h"

#include <stdio.h>

#ifdef SAMPLEID_HAVE_CUDA
/* cuda/cuda_device.cu */
extern int	sid_cuda_probe(char *why, size_t why_len);
#endif

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
#ifdef SAMPLEID_HAVE_CUDA
	return sid_cuda_probe(why, why_len);
#else
	snprintf(why, why_len, "built without CUDA (nvcc was not found at build time)");
	return 0;
#endif
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
