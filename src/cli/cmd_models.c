/*
 * cmd_models.c - `sampleid models [--model-dir DIR]`: every model file the
 * tool can load, with its status, size, cost and configuration.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_model.h"
#include "core/sid_bytes.h"
#include "model/sid_model_dir.h"
#include "model/sid_verifier.h"

static void
models_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid models [--model-dir DIR]\n"
			"       sampleid models --stamp-verifier FILE.sidv --encoder MODEL.sidm\n"
			"Lists the model files (NAME.sidm) in the model directory: --model-dir,\n"
			"else $SAMPLEID_MODEL_DIR, else `pg_config --sharedir`/extension/sampleid_models.\n"
			"Columns: name, trained/UNTRAINED, parameters, MFLOPs per window, features,\n"
			"architecture, path.\n"
			"--stamp-verifier rewrites a version-1 verifier file as version 2, which\n"
			"records the SHA-256 of the encoder it was trained on: give the .sidm that\n"
			"its training log names (the weights are kept as they are).\n");
}

/* One line per model; the same facts sampleid_models() shows in SQL. */
static void
print_model(void *arg, const char *path, const char *name, const sid_model *m,
			const sid_error *load_err)
{
	int		   *bad = arg;

	if (!m)
	{
		printf("%s\tERROR\t%s\t%s\n", name, load_err->msg, path);
		(*bad)++;
		return;
	}
	{
		const sid_encoder_config *c = &m->enc->cfg;
		const sid_feature_config *f = &m->features;
		char		arch[256];
		int			n = 0;

		n += snprintf(arch + n, sizeof(arch) - n, "channels=");
		for (int s = 0; s < c->n_stages; s++)
			n += snprintf(arch + n, sizeof(arch) - n, "%s%d", s ? "," : "", c->channels[s]);
		n += snprintf(arch + n, sizeof(arch) - n, " blocks=");
		for (int s = 0; s < c->n_stages; s++)
			n += snprintf(arch + n, sizeof(arch) - n, "%s%d", s ? "," : "", c->blocks[s]);
		snprintf(arch + n, sizeof(arch) - n, " nodes=%d k=%d patch=%dx%d dim=%d",
				 sid_encoder_nodes(c, 0), c->knn_k, c->patch_freq, c->patch_time, c->embed_dim);
		printf("%s\t%s\t%zu params\t%.2f MFLOPs\t%d Hz n_fft=%d hop=%d mels=%d %g s/%g s\t%s\t%s\n",
			   name, sid_model_is_trained(m) ? "trained" : "UNTRAINED",
			   m->enc->num_params, sid_encoder_flops(c) / 1e6,
			   f->sample_rate, f->n_fft, f->hop_length, f->n_mels,
			   (double) f->segment_seconds, (double) f->segment_hop_seconds, arch, path);
	}
}

/* A version-1 verifier rewritten in place with its encoder's digest. */
static int
stamp_verifier(const char *path, const char *encoder_path)
{
	sid_error	err;
	sid_model  *m = sid_model_load(encoder_path, &err);
	sid_verifier *v = NULL;
	size_t		len;
	void	   *buf = NULL;
	int			status = 1;

	if (!m)
		fprintf(stderr, "sampleid models: %s\n", err.msg);
	else if (!(buf = sid_read_file(path, SID_VERIFIER_MAX_FILE_BYTES, &len, &err)) ||
			 !(v = sid_verifier_load_v1(buf, len, m->sha256, &err)) ||
			 sid_verifier_save(v, path, &err) != SID_OK)
		fprintf(stderr, "sampleid models: %s: %s\n", path, err.msg);
	else
	{
		printf("%s: version %d, encoder %s (sha256 %s)\n", path, SID_VERIFIER_VERSION, encoder_path,
			   m->sha256);
		status = 0;
	}
	sid_verifier_free(v);
	free(buf);
	sid_model_free(m);
	return status;
}

int
cmd_models(int argc, char **argv)
{
	static const struct option opts[] = {
		{"model-dir", required_argument, NULL, 'D'},
		{"stamp-verifier", required_argument, NULL, 'S'},
		{"encoder", required_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *dir_opt = NULL,
			   *stamp = NULL,
			   *encoder = NULL;
	char		dir[3200];
	int			c,
				bad = 0;
	sid_error	err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		if (c == 'D')
			dir_opt = optarg;
		else if (c == 'S')
			stamp = optarg;
		else if (c == 'E')
			encoder = optarg;
		else
			return cli_usage(models_usage, c == 'h');
	}
	if (cli_stray_arguments("models", argc, argv, optind) != 0)
		return 2;
	if (stamp || encoder)
		return stamp && encoder ? stamp_verifier(stamp, encoder) : cli_usage(models_usage, 0);
	if (cli_model_dir(dir_opt, dir, sizeof(dir)) != 0)
	{
		fprintf(stderr, "sampleid models: cannot find the model directory (give --model-dir)\n");
		return 1;
	}
	if (sid_model_dir_list(dir, print_model, &bad, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid models: %s\n", err.msg);
		return 1;
	}
	return bad ? 1 : 0;
}
