/*
 * cmd_init_model.c - `sampleid init-model --out PATH [architecture options]`:
 * write a randomly initialised, UNTRAINED model file (for tests, and as the
 * trainer's starting point).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/sid_model.h"

/* What the options describe: the model to write and where. */
typedef struct init_model_options
{
	sid_encoder_config cfg;
	sid_feature_config features;
	const char *out;
	char		name[SID_MODEL_NAME_LEN];
	unsigned long long seed;
} init_model_options;

static const struct option init_model_opts[] = {
	{"out", required_argument, NULL, 'o'},
	{"name", required_argument, NULL, 'n'},
	{"seed", required_argument, NULL, 's'},
	{"channels", required_argument, NULL, 'c'},
	{"blocks", required_argument, NULL, 'b'},
	{"patch", required_argument, NULL, 'p'},
	{"k", required_argument, NULL, 'k'},
	{"merge", required_argument, NULL, 'm'},
	{"ffn-ratio", required_argument, NULL, 'f'},
	{"head-hidden", required_argument, NULL, 'H'},
	{"embed-dim", required_argument, NULL, 'd'},
	{"hop-length", required_argument, NULL, 'L'},
	{"n-mels", required_argument, NULL, 'M'},
	{"segment", required_argument, NULL, 'S'},
	{"segment-hop", required_argument, NULL, 'h'},
	{"help", no_argument, NULL, '?'},
	{NULL, 0, NULL, 0}
};

static void
init_model_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid init-model --out PATH [options]\n"
			"Writes a randomly initialised model file marked UNTRAINED.\n"
			"  --out PATH            file to write (NAME.sidm)\n"
			"  --name NAME           model name stored in the file (default: from PATH)\n"
			"  --seed N              random seed (default 1)\n"
			"  --channels C0,C1,..   channels per stage (default 32,64,128)\n"
			"  --blocks B0,B1,..     Grapher+FFN blocks per stage (default 1,2,1)\n"
			"  --patch F,T           patch size in mel bands, frames (default 8,4)\n"
			"  --k K                 neighbours per node (default 9)\n"
			"  --merge R             frequency merge between stages (default 2)\n"
			"  --ffn-ratio R         FFN hidden width / channels (default 2)\n"
			"  --head-hidden H       projection head width (default 256)\n"
			"  --embed-dim D         fingerprint dimensions (default 128)\n"
			"  --hop-length N        feature hop in samples (default 256)\n"
			"  --n-mels M            mel bands (default 64)\n"
			"  --segment S           window seconds (default 1.0)\n"
			"  --segment-hop S       window spacing seconds (default 0.5)\n");
}

/*
 * --channels (c), --blocks (b) or --patch (p): the options that take a list.
 * Returns 0, or 2 after saying what is wrong.
 */
static int
set_list_option(init_model_options *o, int c, const char *arg)
{
	int			vals[SID_MAX_STAGES];
	int			n;

	if (c == 'p')
	{
		if (cli_parse_int_list(arg, vals, 2) != 2)
		{
			fprintf(stderr, "sampleid init-model: --patch wants BANDS,FRAMES\n");
			return 2;
		}
		o->cfg.patch_freq = vals[0];
		o->cfg.patch_time = vals[1];
		return 0;
	}
	n = cli_parse_int_list(arg, vals, SID_MAX_STAGES);
	if (n < 1)
	{
		fprintf(stderr, "sampleid init-model: --%s wants 1 to %d comma-separated numbers\n",
				c == 'c' ? "channels" : "blocks", SID_MAX_STAGES);
		return 2;
	}
	o->cfg.n_stages = n;
	for (int i = 0; i < SID_MAX_STAGES; i++)
	{
		if (c == 'c')
			o->cfg.channels[i] = i < n ? vals[i] : 0;
		else
			o->cfg.blocks[i] = i < n ? vals[i] : 0;
	}
	return 0;
}

/*
 * The options that take one number; returns 0, 2 for a malformed number
 * (said), or -1 for any other option.  The ranges only refuse nonsense;
 * the encoder's configuration check says what the architecture allows.
 */
static int
set_number_option(init_model_options *o, int c, const char *arg)
{
	const char *cmd = "init-model";
	char	   *end;
	double		v;
	int			bad;

	switch (c)
	{
		case 's':
			o->seed = strtoull(arg, &end, 10);
			if (end != arg && *end == '\0')
				return 0;
			fprintf(stderr, "sampleid init-model: --seed wants an unsigned integer, not \"%s\"\n", arg);
			return 2;
		case 'k':
			return cli_int_option(cmd, "--k", arg, 1, 1 << 20, &o->cfg.knn_k) ? 2 : 0;
		case 'm':
			return cli_int_option(cmd, "--merge", arg, 1, 1 << 20, &o->cfg.freq_merge) ? 2 : 0;
		case 'f':
			return cli_int_option(cmd, "--ffn-ratio", arg, 1, 1 << 20, &o->cfg.ffn_ratio) ? 2 : 0;
		case 'H':
			return cli_int_option(cmd, "--head-hidden", arg, 1, 1 << 20, &o->cfg.head_hidden) ? 2 : 0;
		case 'd':
			return cli_int_option(cmd, "--embed-dim", arg, 1, 1 << 20, &o->cfg.embed_dim) ? 2 : 0;
		case 'L':
			return cli_int_option(cmd, "--hop-length", arg, 1, 1 << 20, &o->features.hop_length) ? 2 : 0;
		case 'M':
			return cli_int_option(cmd, "--n-mels", arg, 1, 1 << 20, &o->features.n_mels) ? 2 : 0;
		case 'S':
		case 'h':
			bad = cli_double_option(cmd, c == 'S' ? "--segment" : "--segment-hop", arg, 0, 3600, &v);
			if (!bad && c == 'S')
				o->features.segment_seconds = (float) v;
			else if (!bad)
				o->features.segment_hop_seconds = (float) v;
			return bad ? 2 : 0;
	}
	return -1;
}

/* Returns -1 to go on, else the exit status. */
static int
parse_init_model_options(int argc, char **argv, init_model_options *o)
{
	int			c;

	memset(o, 0, sizeof(*o));
	sid_encoder_default_config(&o->cfg);
	sid_features_default(&o->features);
	o->seed = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", init_model_opts, NULL)) != -1)
	{
		int			status;

		if (c == 'o')
			o->out = optarg;
		else if (c == 'n')
			snprintf(o->name, sizeof(o->name), "%s", optarg);
		else if (c == 'c' || c == 'b' || c == 'p')
		{
			if ((status = set_list_option(o, c, optarg)) != 0)
				return status;
		}
		else if ((status = set_number_option(o, c, optarg)) > 0)
			return status;
		else if (status < 0)
			/* --help comes as '?' with no optopt, like an unknown long option */
			return cli_usage(init_model_usage, c == '?' && optopt == 0);
	}
	if (cli_stray_arguments("init-model", argc, argv, optind) != 0)
		return 2;
	if (!o->out)
		return cli_usage(init_model_usage, 0);
	for (int i = 0; i < o->cfg.n_stages; i++)
		if (o->cfg.channels[i] == 0)
		{
			fprintf(stderr, "sampleid init-model: --channels and --blocks need the same number of stages\n");
			return 2;
		}
	return -1;
}

/* Without --name, the file name up to its first dot. */
static void
name_from_path(char *name, size_t len, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t		stem = strcspn(base, ".");

	snprintf(name, len, "%.*s", (int) (stem < len ? stem : len - 1), base);
}

int
cmd_init_model(int argc, char **argv)
{
	init_model_options o;
	int			status = parse_init_model_options(argc, argv, &o);
	sid_error	err;
	sid_model  *m;

	if (status >= 0)
		return status;
	if (!o.name[0])
		name_from_path(o.name, sizeof(o.name), o.out);
	m = sid_model_new_untrained(o.name, &o.cfg, &o.features, o.seed, &err);
	if (!m || sid_model_save(m, o.out, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid init-model: %s\n", err.msg);
		sid_model_free(m);
		return 1;
	}
	printf("wrote %s: model \"%s\", UNTRAINED, %zu parameters, %.2f MFLOPs per window\n",
		   o.out, m->name, m->enc->num_params, sid_encoder_flops(&m->enc->cfg) / 1e6);
	sid_model_free(m);
	return 0;
}
