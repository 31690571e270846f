// cuda_device.cu - asks the CUDA runtime what GPUs this process can use.
#include <cstddef>
#include <cstdio>

#include <cuda_runtime.h>

extern "C" int
sid_cuda_probe(char *why, size_t why_len)
{
	int			count = 0;
	cudaError_t err = cudaGetDeviceCount(&count);

	if (err != cudaSuccess)
	{
		snprintf(why, why_len, "cudaGetDeviceCount failed: %s", cudaGetErrorString(err));
		return 0;
	}
	if (count == 0)
	{
		snprintf(why, why_len, "the CUDA runtime reports no devices");
		return 0;
	}

	cudaDeviceProp prop;

	if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
		snprintf(why, why_len, "%d CUDA device(s), device 0 is %s (compute %d.%d)",
				 count, prop.name, prop.major, prop.minor);
	else
		snprintf(why, why_len, "%d CUDA device(s)", count);
	return count;
}
