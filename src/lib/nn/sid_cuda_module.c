/*
 * sid_cuda_module.c - finding and loading sampleid_cuda.so (sid_cuda_module.h).
 */
#include "nn/sid_cuda_module.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/sid_device.h"

/* Defined only where the CUDA objects are linked in (the CUDA unit tests). */
#pragma weak sid_cuda_module_api

static pthread_mutex_t module_lock = PTHREAD_MUTEX_INITIALIZER;
static char module_path[PATH_MAX];
static const sid_cuda_api *module_api;
static int	module_tried;
static char module_failure[768];

void
sid_cuda_module_set_path(const char *path)
{
	pthread_mutex_lock(&module_lock);
	snprintf(module_path, sizeof(module_path), "%s", path != NULL ? path : "");
	pthread_mutex_unlock(&module_lock);
}

int
sid_nvidia_driver_present(void)
{
	return access("/dev/nvidiactl", F_OK) == 0 || access("/proc/driver/nvidia/version", F_OK) == 0;
}

/* The n-th place to look (0, 1, ...) into out; 0 when there are no more. */
static int
candidate(int n, char *out, size_t out_len)
{
	char		exe[PATH_MAX];
	ssize_t		len;
	char	   *slash;

	if (module_path[0] != '\0')
		return n == 0 && snprintf(out, out_len, "%s", module_path) > 0;
	if (n == 0)
		return getenv("SAMPLEID_CUDA_MODULE") != NULL &&
			snprintf(out, out_len, "%s", getenv("SAMPLEID_CUDA_MODULE")) > 0;
	if (n == 1)
	{
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (len <= 0)
			return 0;
		exe[len] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		return snprintf(out, out_len, "%s/%s", exe, SID_CUDA_MODULE_FILE) > 0;
	}
#ifdef SID_CUDA_MODULE_DIR
	if (n == 2)
		return snprintf(out, out_len, "%s/%s", SID_CUDA_MODULE_DIR, SID_CUDA_MODULE_FILE) > 0;
#endif
	return 0;
}

/* dlopen the candidates in turn; called once, under module_lock. */
static const sid_cuda_api *
load_module(char *failure, size_t failure_len)
{
	char		path[PATH_MAX + 32];
	size_t		used = 0;

	failure[0] = '\0';
	for (int n = 0; n < 4; n++)
	{
		void	   *handle;
		const sid_cuda_api *(*entry) (void);
		const sid_cuda_api *api;

		if (!candidate(n, path, sizeof(path)))
			continue;
		if ((handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		{
			/* every place tried is named, as far as the message holds them */
			if (used + 1 < failure_len)
				used += snprintf(failure + used, failure_len - used, "%s%s",
								 used > 0 ? "; " : "", dlerror());
			continue;
		}
		*(void **) &entry = dlsym(handle, "sid_cuda_module_api");
		api = entry != NULL ? entry() : NULL;
		if (api != NULL && api->version == SID_CUDA_API_VERSION)
			return api;
		snprintf(failure, failure_len, "%.600s is not a sampleid CUDA module of version %d",
				 path, SID_CUDA_API_VERSION);
		dlclose(handle);
		return NULL;
	}
	if (failure[0] == '\0')
		snprintf(failure, failure_len, "no place to look for %s", SID_CUDA_MODULE_FILE);
	return NULL;
}

const sid_cuda_api *
sid_cuda_module(char *why, size_t why_len)
{
	const sid_cuda_api *api;

	if (!sid_built_with_cuda())
	{
		snprintf(why, why_len, "built without CUDA (nvcc was not found at build time)");
		return NULL;
	}
	if (sid_cuda_module_api)
		return sid_cuda_module_api();
	pthread_mutex_lock(&module_lock);
	if (!module_tried)
	{
		module_api = load_module(module_failure, sizeof(module_failure));
		module_tried = 1;
	}
	api = module_api;
	if (api == NULL)
		snprintf(why, why_len, "the CUDA module cannot be loaded: %s", module_failure);
	pthread_mutex_unlock(&module_lock);
	return api;
}

const sid_cuda_api *
sid_cuda_module_loaded(void)
{
	const sid_cuda_api *api;

	if (sid_cuda_module_api)
		return sid_cuda_module_api();
	pthread_mutex_lock(&module_lock);
	api = module_api;
	pthread_mutex_unlock(&module_lock);
	return api;
}
