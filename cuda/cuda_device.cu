// cuda_device.cu - asks the CUDA runtime which GPUs this process can use.
//
// A GPU counts as usable only when this build carries code it can run:
// nvcc's __CUDA_ARCH_LIST__ names the architectures compiled in (750,800,...),
// and a device older than the lowest of them (say a V100, compute 7.0, under
// CUDA 13) would fail at the first kernel launch.  Leaving it out lets
// sampleid.device = auto fall back to the CPU instead of failing.
// cudaGetDeviceProperties needs no context, so probing costs no GPU memory.
#include <cstddef>
#include <cstdio>

#include <cuda_runtime.h>

static int
lowest_built_arch(void)
{
	static const int built[] = {__CUDA_ARCH_LIST__};
	int			lowest = built[0];

	for (size_t i = 1; i < sizeof(built) / sizeof(built[0]); i++)
		if (built[i] < lowest)
			lowest = built[i];
	return lowest;
}

// Number of usable devices; *first receives the lowest usable index (or -1).
static int
scan(int *first, char *why, size_t why_len)
{
	int			count = 0,
				usable = 0,
				lowest = lowest_built_arch();
	cudaError_t err = cudaGetDeviceCount(&count);
	cudaDeviceProp prop,
				first_prop;

	*first = -1;
	if (err != cudaSuccess)
	{
		(void) cudaGetLastError();
		snprintf(why, why_len, "cudaGetDeviceCount failed: %s", cudaGetErrorString(err));
		return 0;
	}
	if (count == 0)
	{
		snprintf(why, why_len, "the CUDA runtime reports no devices");
		return 0;
	}
	for (int i = 0; i < count; i++)
	{
		if (cudaGetDeviceProperties(&prop, i) != cudaSuccess)
		{
			(void) cudaGetLastError();
			continue;
		}
		if (prop.major * 100 + prop.minor * 10 < lowest)
			continue;
		if (usable++ == 0)
		{
			*first = i;
			first_prop = prop;
		}
	}
	if (usable == 0)
		snprintf(why, why_len,
				 "%d CUDA device(s), none of compute capability %d.%d or newer, the oldest this build has code for",
				 count, lowest / 100, lowest / 10 % 10);
	else
		snprintf(why, why_len, "%d usable CUDA device(s) of %d, using device %d: %s (compute %d.%d)",
				 usable, count, *first, first_prop.name, first_prop.major, first_prop.minor);
	return usable;
}

extern "C" int
sid_cuda_probe(char *why, size_t why_len)
{
	int			first;

	return scan(&first, why, why_len);
}

extern "C" int
sid_cuda_pick_device(char *why, size_t why_len)
{
	int			first;

	scan(&first, why, why_len);
	return first;
}
