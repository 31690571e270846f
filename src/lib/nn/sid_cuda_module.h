/*
 * sid_cuda_module.h - the CUDA path as a module loaded on first use.
 *
 * cuda/ builds sampleid_cuda.so, which links cuBLAS and the CUDA runtime;
 * nothing else does, so a process that never resolves its device to cuda
 * (every CPU server) neither needs those libraries nor pays their loading
 * (57-80 ms a backend, docs/benchmarks.md).  The module hands over one table.
 *
 *   sid_cuda_module_set_path(path)   before first use (the extension: $libdir)
 *   sid_cuda_module(why, len)        loads once (thread-safe); NULL + reason
 *   sid_cuda_module_loaded()         the table when loaded already, else NULL
 *
 * Without a set path the module is looked for at $SAMPLEID_CUDA_MODULE, next
 * to the executable, then in the directory the build was configured to install
 * to.  A binary that links the CUDA objects itself (the CUDA unit tests) uses
 * them directly.  A failed load is remembered: it is not retried.
 */
#ifndef SID_CUDA_MODULE_H
#define SID_CUDA_MODULE_H

#include <stddef.h>

#include "nn/sid_encoder.h"

#ifdef __cplusplus
extern "C"
{
#endif

#define SID_CUDA_MODULE_FILE "sampleid_cuda.so"
#define SID_CUDA_API_VERSION 1

typedef struct sid_cuda_api
{
	int			version;		/* SID_CUDA_API_VERSION */
	/* usable GPUs, 0 with the reason in why (cuda/cuda_device.cu) */
	int			(*probe) (char *why, size_t why_len);
	/* sid_encoder_forward on the GPU; weights kept in enc->device_state */
	sid_status	(*encoder_forward) (sid_encoder *enc, const float *input, int B,
									float *embed_out, float *nodes_out, sid_error *err);
	void		(*encoder_release) (sid_encoder *enc);
} sid_cuda_api;

/* The module's one exported entry point. */
const sid_cuda_api *sid_cuda_module_api(void);

void		sid_cuda_module_set_path(const char *path);
const sid_cuda_api *sid_cuda_module(char *why, size_t why_len);
const sid_cuda_api *sid_cuda_module_loaded(void);

/*
 * Whether this machine shows an NVIDIA kernel driver (/dev/nvidiactl or
 * /proc/driver/nvidia); without one no GPU can be usable, so the module is
 * not loaded to find that out.
 */
int			sid_nvidia_driver_present(void);

#ifdef __cplusplus
}
#endif

#endif
