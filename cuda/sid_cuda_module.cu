// sid_cuda_module.cu - the one entry point of sampleid_cuda.so: the table the
// library's loader (src/lib/nn/sid_cuda_module.c) takes the CUDA path from.
#include "sid_cuda_internal.h"
#include "nn/sid_cuda_module.h"

static const sid_cuda_api cuda_api = {
	SID_CUDA_API_VERSION, sid_cuda_probe, sid_encoder_forward_cuda, sid_encoder_cuda_release
};

extern "C" const sid_cuda_api *
sid_cuda_module_api(void)
{
	return &cuda_api;
}
