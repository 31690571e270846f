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
#include "cli_model.h"
#include "model/sid_model.h"

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

int
cmd_init_model(int argc, char **argv)
{
	static const struct option opts[] = {
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
	sid_encoder_config cfg;
	sid_feature_config f;
	const char *out = NULL;
	char		name[SID_MODEL_NAME_LEN] = "";
	unsigned long long seed = 1;
	int			c,
				n,
				vals[SID_MAX_STAGES];
	sid_error	err;
	sid_model  *m;

	sid_encoder_default_config(&cfg);
	sid_features_default(&f);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'o':
				out = optarg;
				break;
			case 'n':
				snprintf(name, sizeof(name), "%s", optarg);
				break;
			case 's':
				seed = strtoull(optarg, NULL, 10);
				break;
			case 'c':
			case 'b':
				n = cli_parse_int_list(optarg, vals, SID_MAX_STAGES);
				if (n < 1)
				{
					fprintf(stderr, "sampleid init-model: --%s wants 1 to %d comma-separated numbers\n",
							c == 'c' ? "channels" : "blocks", SID_MAX_STAGES);
					return 2;
				}
				cfg.n_stages = n;
				for (int i = 0; i < SID_MAX_STAGES; i++)
				{
					if (c == 'c')
						cfg.channels[i] = i < n ? vals[i] : 0;
					else
						cfg.blocks[i] = i < n ? vals[i] : 0;
				}
				break;
			case 'p':
				if (cli_parse_int_list(optarg, vals, 2) != 2)
				{
					fprintf(stderr, "sampleid init-model: --patch wants BANDS,FRAMES\n");
					return 2;
				}
				cfg.patch_freq = vals[0];
				cfg.patch_time = vals[1];
				break;
			case 'k':
				cfg.knn_k = atoi(optarg);
				break;
			case 'm':
				cfg.freq_merge = atoi(optarg);
				break;
			case 'f':
				cfg.ffn_ratio = atoi(optarg);
				break;
			case 'H':
				cfg.head_hidden = atoi(optarg);
				break;
			case 'd':
				cfg.embed_dim = atoi(optarg);
				break;
			case 'L':
				f.hop_length = atoi(optarg);
				break;
			case 'M':
				f.n_mels = atoi(optarg);
				break;
			case 'S':
				f.segment_seconds = strtof(optarg, NULL);
				break;
			case 'h':
				f.segment_hop_seconds = strtof(optarg, NULL);
				break;
			default:
				init_model_usage(c == '?' && optopt == 0 ? stdout : stderr);
				return c == '?' && optopt == 0 ? 0 : 2;
		}
	}
	if (!out)
	{
		init_model_usage(stderr);
		return 2;
	}
	for (int i = 0; i < cfg.n_stages; i++)
		if (cfg.channels[i] == 0)
		{
			fprintf(stderr, "sampleid init-model: --channels and --blocks need the same number of stages\n");
			return 2;
		}
	if (!name[0])
	{
		const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
		size_t		len = strcspn(base, ".");

		snprintf(name, sizeof(name), "%.*s", (int) (len < sizeof(name) ? len : sizeof(name) - 1), base);
	}
	m = sid_model_new_untrained(name, &cfg, &f, seed, &err);
	if (!m || sid_model_save(m, out, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid init-model: %s\n", err.msg);
		sid_model_free(m);
		return 1;
	}
	printf("wrote %s: model \"%s\", UNTRAINED, %zu parameters, %.2f MFLOPs per window\n",
		   out, m->name, m->enc->num_params, sid_encoder_flops(&m->enc->cfg) / 1e6);
	sid_model_free(m);
	return 0;
}
