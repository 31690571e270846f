/*
 * sid_device.h - which compute device the library can use, and why.
 *
 * Plain C, no PostgreSQL headers: linked by the extension, the CLI and tests.
 */
#ifndef SID_DEVICE_H
#define SID_DEVICE_H

#include <stddef.h>

typedef enum sid_device_kind
{
	SID_DEVICE_AUTO = 0,		/* CUDA when a usable GPU exists, else CPU */
	SID_DEVICE_CPU,
	SID_DEVICE_CUDA
} sid_device_kind;

/* True when this build contains the CUDA code (nvcc was found at build time). */
int			sid_built_with_cuda(void);

/*
 * Number of usable CUDA devices; 0 when none, with the reason written to
 * why (a NUL-terminated message of at most why_len bytes).
 */
int			sid_cuda_device_count(char *why, size_t why_len);

/*
 * Resolve a requested device to the one that will be used.  For
 * SID_DEVICE_CUDA with no usable GPU returns -1 and explains in why.
 * Otherwise returns SID_DEVICE_CPU or SID_DEVICE_CUDA and explains the choice.
 */
int			sid_device_resolve(sid_device_kind requested, char *why, size_t why_len);

#endif
