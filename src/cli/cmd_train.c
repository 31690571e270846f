/*
 * cmd_train.c - `sampleid train CONFIG`: train the fingerprint encoder
 * (sid_train.h; docs/training.md).  SIGINT / SIGTERM finish the current
 * step, write a checkpoint and exit; --resume continues from it.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "train/sid_train.h"

static volatile sig_atomic_t train_stop = 0;

static void
on_signal(int sig)
{
	(void) sig;
	train_stop = 1;
}

static void
train_log(void *arg, const char *msg)
{
	time_t		now = time(NULL);
	struct tm	tm;
	char		stamp[32];

	(void) arg;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	printf("[%s] %s\n", stamp, msg);
	fflush(stdout);
}

static void
train_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid train [--resume] [--set KEY=VALUE]... CONFIG\n"
			"\n"
			"Trains the fingerprint encoder contrastively on the manifest's train split\n"
			"as CONFIG (key = value lines, docs/training.md) says, printing step, loss,\n"
			"steps/s and time left, validating and checkpointing periodically.\n"
			"SIGINT or SIGTERM writes a checkpoint and stops.\n"
			"\n"
			"  --resume            continue from the configuration's checkpoint file\n"
			"  --set KEY=VALUE     override one configuration key (repeatable)\n"
			"  --print-config      print the resulting configuration and exit\n");
}

int
cmd_train(int argc, char **argv)
{
	static const struct option opts[] = {
		{"resume", no_argument, NULL, 'r'},
		{"set", required_argument, NULL, 's'},
		{"print-config", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	sid_train_config cfg;
	sid_train_hooks hooks;
	sid_error	err = {0};
	struct sigaction sa;
	char	   *sets[64];
	int			nsets = 0,
				resume = 0,
				print = 0,
				c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'r':
				resume = 1;
				break;
			case 's':
				if (nsets == 64)
				{
					fprintf(stderr, "sampleid train: too many --set options\n");
					return 2;
				}
				sets[nsets++] = optarg;
				break;
			case 'p':
				print = 1;
				break;
			case 'h':
				train_usage(stdout);
				return 0;
			default:
				train_usage(stderr);
				return 2;
		}
	}
	if (optind != argc - 1)
	{
		train_usage(stderr);
		return 2;
	}
	sid_train_config_default(&cfg);
	if (sid_train_config_read(argv[optind], &cfg, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid train: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < nsets; i++)
	{
		char		key[128];
		const char *eq = strchr(sets[i], '=');

		if (!eq || eq - sets[i] >= (long) sizeof(key))
		{
			fprintf(stderr, "sampleid train: --set expects KEY=VALUE, got \"%s\"\n", sets[i]);
			return 2;
		}
		memcpy(key, sets[i], eq - sets[i]);
		key[eq - sets[i]] = '\0';
		if (sid_train_config_set(&cfg, key, eq + 1, &err) != SID_OK ||
			sid_train_config_check(&cfg, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid train: --set %s: %s\n", sets[i], err.msg);
			return 2;
		}
	}
	if (print)
	{
		sid_train_config_write(stdout, &cfg);
		return 0;
	}
	printf("# sampleid train%s %s\n", resume ? " --resume" : "", argv[optind]);
	sid_train_config_write(stdout, &cfg);
	fflush(stdout);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&hooks, 0, sizeof(hooks));
	hooks.log = train_log;
	hooks.stop = &train_stop;
	if (sid_train_run(&cfg, resume, &hooks, NULL, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid train: %s\n", err.msg);
		return 1;
	}
	return 0;
}
