/*
 * cmd_device.c - `sampleid device`: which compute device the tool would use,
 * and why (sampleid.device = auto in the extension resolves the same way).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "nn/sid_device.h"

static void
device_usage(FILE *out)
{
	fprintf(out, "usage: sampleid device\n"
			"Prints the compute device the tool would use (cpu or cuda) and why.\n");
}

int
cmd_device(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	char		why[512];
	int			device,
				c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		return cli_usage(device_usage, c == 'h');
	if (cli_stray_arguments("device", argc, argv, optind) != 0)
		return 2;
	device = sid_device_resolve(SID_DEVICE_AUTO, why, sizeof(why));
	printf("%s\t%s\n", device == SID_DEVICE_CUDA ? "cuda" : "cpu", why);
	return 0;
}
