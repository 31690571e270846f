/*
 * cmd_device.c - `sampleid device`: which compute device the tool would use,
 * and why (sampleid.device = auto in the extension resolves the same way).
 */
#include <stdio.h>

#include "cli.h"
#include "nn/sid_device.h"

int
cmd_device(int argc, char **argv)
{
	char		why[512];
	int			device;

	(void) argc;
	(void) argv;
	device = sid_device_resolve(SID_DEVICE_AUTO, why, sizeof(why));
	printf("%s\t%s\n", device == SID_DEVICE_CUDA ? "cuda" : "cpu", why);
	return 0;
}
