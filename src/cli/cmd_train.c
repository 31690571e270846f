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
#include "model/sid_model.h"
#include "train/sid_checkpoint.h"
#include "train/sid_train.h"
#include "train/sid_verify_train.h"

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

#define MAX_SETS 64

/* What the options ask for. */
typedef struct train_options
{
	char	   *sets[MAX_SETS];	/* --set KEY=VALUE, in order */
	int			nsets;
	int			resume;
	int			print;
	const char *export_path;	/* --export FILE: the checkpoint's model */
	const char *config_path;
} train_options;

static const struct option train_opts[] = {
	{"resume", no_argument, NULL, 'r'},
	{"set", required_argument, NULL, 's'},
	{"print-config", no_argument, NULL, 'p'},
	{"export", required_argument, NULL, 'e'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
train_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid train [--resume] [--set KEY=VALUE]... CONFIG\n"
			"       sampleid train --export FILE CONFIG\n"
			"\n"
			"Trains the fingerprint encoder contrastively on the manifest's train split\n"
			"as CONFIG (key = value lines, docs/training.md) says, printing step, loss,\n"
			"steps/s and time left, validating and checkpointing periodically.\n"
			"SIGINT or SIGTERM writes a checkpoint and stops.\n"
			"\n"
			"  --resume            continue from the configuration's checkpoint file\n"
			"  --set KEY=VALUE     override one configuration key (repeatable)\n"
			"  --print-config      print the resulting configuration and exit\n"
			"  --export FILE       write the model of the configuration's checkpoint to FILE\n"
			"                      (.sidm) and exit: a run's state without waiting for its end\n");
}

/* Returns -1 to go on, else the exit status. */
static int
parse_train_options(int argc, char **argv, train_options *o)
{
	int			c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "", train_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'r':
				o->resume = 1;
				break;
			case 's':
				if (o->nsets == MAX_SETS)
				{
					fprintf(stderr, "sampleid train: too many --set options\n");
					return 2;
				}
				o->sets[o->nsets++] = optarg;
				break;
			case 'p':
				o->print = 1;
				break;
			case 'e':
				o->export_path = optarg;
				break;
			default:
				return cli_usage(train_usage, c == 'h');
		}
	}
	if (optind < argc - 1)
	{
		fprintf(stderr, "sampleid train: one CONFIG only; \"%s\" is one too many\n", argv[optind + 1]);
		return 2;
	}
	if (optind != argc - 1)
		return cli_usage(train_usage, 0);
	o->config_path = argv[optind];
	return -1;
}

/* The --set overrides, each checked; returns 0, or 2 having said why not. */
static int
apply_sets(const train_options *o, sid_train_config *cfg)
{
	sid_error	err = {0};

	for (int i = 0; i < o->nsets; i++)
	{
		char		key[128];
		const char *eq = strchr(o->sets[i], '=');

		if (!eq || eq - o->sets[i] >= (long) sizeof(key))
		{
			fprintf(stderr, "sampleid train: --set expects KEY=VALUE, got \"%s\"\n", o->sets[i]);
			return 2;
		}
		memcpy(key, o->sets[i], eq - o->sets[i]);
		key[eq - o->sets[i]] = '\0';
		if (sid_train_config_set(cfg, key, eq + 1, &err) != SID_OK ||
			sid_train_config_check(cfg, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid train: --set %s: %s\n", o->sets[i], err.msg);
			return 2;
		}
	}
	return 0;
}

/* The checkpoint's model, as a model file; returns the exit status. */
static int
export_checkpoint(const char *path, const sid_train_config *cfg)
{
	sid_model  *m = NULL;
	uint64_t	next;
	void	   *state = NULL;
	uint32_t	len = 0;
	sid_error	err = {0};
	int			status = 0;

	if (sid_checkpoint_load(cfg->checkpoint, &m, &next, &state, &len, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid train: %s\n", err.msg);
		return 1;
	}
	snprintf(m->note, sizeof(m->note), "sampleid train --export: the checkpoint before step %llu of %d",
			 (unsigned long long) next, cfg->steps);
	/* a checkpoint written before the flag existed says it by its recipe */
	if (strcmp(cfg->recipe, "sample") == 0)
		m->flags |= SID_MODEL_SAMPLE;
	if (sid_model_save(m, path, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid train: %s\n", err.msg);
		status = 1;
	}
	else
		printf("%s: %s at step %llu of %d\n", path, m->name, (unsigned long long) next, cfg->steps);
	free(state);
	sid_model_free(m);
	return status;
}

/* Trains until done or signalled; returns the exit status. */
static int
run_training(const train_options *o, const sid_train_config *cfg)
{
	sid_train_hooks hooks;
	sid_error	err = {0};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&hooks, 0, sizeof(hooks));
	hooks.log = train_log;
	hooks.stop = &train_stop;
	if (strcmp(cfg->recipe, "verify") == 0)
	{
		if (o->resume)
		{
			fprintf(stderr, "sampleid train: the verify recipe has no checkpoints to resume (a run takes minutes)\n");
			return 2;
		}
		if (sid_verify_train_run(cfg, &hooks, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid train: %s\n", err.msg);
			return 1;
		}
		return 0;
	}
	if (sid_train_run(cfg, o->resume, &hooks, NULL, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid train: %s\n", err.msg);
		return 1;
	}
	return 0;
}

int
cmd_train(int argc, char **argv)
{
	train_options o;
	sid_train_config cfg;
	sid_error	err = {0};
	int			status = parse_train_options(argc, argv, &o);

	if (status >= 0)
		return status;
	sid_train_config_default(&cfg);
	if (sid_train_config_read(o.config_path, &cfg, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid train: %s\n", err.msg);
		return 1;
	}
	if ((status = apply_sets(&o, &cfg)) != 0)
		return status;
	if (o.print)
	{
		sid_train_config_write(stdout, &cfg);
		return 0;
	}
	if (o.export_path)
		return export_checkpoint(o.export_path, &cfg);
	printf("# sampleid train%s %s\n", o.resume ? " --resume" : "", o.config_path);
	sid_train_config_write(stdout, &cfg);
	fflush(stdout);
	return run_training(&o, &cfg);
}
