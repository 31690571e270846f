/*
 * test_device.c - the device choice: cpu is always honoured, auto falls back
 * to the CPU with a reason when no GPU is usable, cuda without one is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn/sid_cuda_module.h"
#include "nn/sid_device.h"
#include "tap.h"

/*
 * The CUDA module is dlopened from the build directory (this binary lives in
 * build/test/) and its probe answers; a module that is not there is refused
 * with its path named, and the refusal is remembered (run in a child, since
 * a process loads the module at most once).
 */
static void
test_module(const char *argv0)
{
	char		dir[4096],
				path[4200],
				why[1024];
	const sid_cuda_api *api;
	pid_t		pid;
	int			status = 0;

	snprintf(dir, sizeof(dir), "%s", argv0);
	*(strrchr(dir, '/') ? strrchr(dir, '/') : dir) = '\0';
	CHECK(sid_cuda_module_loaded() == NULL, "nothing has loaded the CUDA module yet");
	pid = fork();
	if (pid == 0)
	{
		sid_cuda_module_set_path("/nonexistent/sampleid_cuda.so");
		api = sid_cuda_module(why, sizeof(why));
		_exit(api == NULL && strstr(why, "/nonexistent/sampleid_cuda.so") != NULL &&
			  sid_cuda_module(why, sizeof(why)) == NULL ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "a missing CUDA module is refused by path, every time");
	snprintf(path, sizeof(path), "%s/../%s", dir[0] ? dir : ".", SID_CUDA_MODULE_FILE);
	sid_cuda_module_set_path(path);
	api = sid_cuda_module(why, sizeof(why));
	CHECK(api != NULL && api->version == SID_CUDA_API_VERSION && sid_cuda_module_loaded() == api,
		  "%s loads (%s)", path, api ? "its table is version 1" : why);
	if (api != NULL)
	{
		int			n = api->probe(why, sizeof(why));

		CHECK(n > 0 || why[0] != '\0', "the module's probe answers: %d GPU(s), %s", n, why);
	}
}

int
main(int argc, char **argv)
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
	if (sid_built_with_cuda())
		test_module(argc > 0 ? argv[0] : ".");
	else
		CHECK(sid_cuda_module(why, sizeof(why)) == NULL && strstr(why, "without CUDA") != NULL,
			  "a CPU-only build has no CUDA module to load: %s", why);
	return tap_done();
}
