/*
 * cli_model.c - finding and loading models for the command-line tool, and
 * fingerprinting a file with one for the commands that send fingerprints.
 */
#include "cli_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "audio/sid_audio.h"
#include "model/sid_content_gate.h"
#include "model/sid_model_dir.h"

/* Collects the names of the installed models for a message. */
typedef struct model_names
{
	char		list[1024];
	int			n;
} model_names;

static void
add_model_name(void *arg, const char *path, const char *name, const sid_model *m,
			   const sid_error *load_err)
{
	model_names *names = arg;
	size_t		len = strlen(names->list);

	(void) path;
	(void) load_err;
	snprintf(names->list + len, sizeof(names->list) - len, "%s%s%s", names->n ? ", " : "", name,
			 m && !sid_model_is_trained(m) ? " (untrained)" : "");
	names->n++;
}

/* "no model NAME in DIR; installed: a, b" */
static void
report_unknown_model(const char *name, const char *dir)
{
	model_names names = {"", 0};
	sid_error	err;

	if (sid_model_dir_list(dir, add_model_name, &names, &err) != SID_OK)
		snprintf(names.list, sizeof(names.list), "none (%s)", err.msg);
	fprintf(stderr, "sampleid %s: no model \"%s\" in %s; installed: %s\n", cli_command_name, name, dir,
			names.n || names.list[0] ? names.list : "none");
	fprintf(stderr, "hint: `sampleid models` describes them; --model also takes a path to a .sidm file\n");
}

int
cli_model_dir(const char *option, char *out, size_t out_len)
{
	const char *env = getenv("SAMPLEID_MODEL_DIR");
	FILE	   *p;
	char		share[3000];

	if (option && *option)
		return snprintf(out, out_len, "%s", option) < (int) out_len ? 0 : -1;
	if (env && *env)
		return snprintf(out, out_len, "%s", env) < (int) out_len ? 0 : -1;
	p = popen("pg_config --sharedir 2>/dev/null", "r");
	if (!p)
		return -1;
	if (!fgets(share, sizeof(share), p))
	{
		pclose(p);
		return -1;
	}
	pclose(p);
	share[strcspn(share, "\r\n")] = '\0';
	return snprintf(out, out_len, "%s/extension/sampleid_models", share) < (int) out_len ? 0 : -1;
}

sid_model *
cli_load_model(const char *spec, const char *dir_option)
{
	const char *name = spec ? spec : SID_DEFAULT_MODEL;
	size_t		len = strlen(name);
	char		dir[3200];
	char		path[4096];
	sid_error	err;
	sid_model  *m;
	struct stat st;

	if (strchr(name, '/') || (len > 5 && strcmp(name + len - 5, SID_MODEL_SUFFIX) == 0))
		snprintf(path, sizeof(path), "%s", name);
	else
	{
		if (cli_model_dir(dir_option, dir, sizeof(dir)) != 0)
		{
			fprintf(stderr, "sampleid %s: cannot find the model directory: give --model-dir, "
					"set SAMPLEID_MODEL_DIR or put pg_config on PATH\n", cli_command_name);
			return NULL;
		}
		if (sid_model_path(path, sizeof(path), dir, name, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid %s: %s\n", cli_command_name, err.msg);
			return NULL;
		}
		if (spec && stat(path, &st) != 0)
		{
			report_unknown_model(name, dir);
			return NULL;
		}
	}
	m = sid_model_load(path, &err);
	if (!m)
	{
		if (!spec)
			fprintf(stderr, "sampleid %s: no usable default model \"%s\": %s\n"
					"hint: train one (sampleid train) or name a model with --model\n",
					cli_command_name, SID_DEFAULT_MODEL, err.msg);
		else
			fprintf(stderr, "sampleid %s: %s\n", cli_command_name, err.msg);
		return NULL;
	}
	if (!sid_model_is_trained(m))
	{
		if (!spec)
		{
			fprintf(stderr, "sampleid %s: the default model \"%s\" (%s) is untrained and is never used by default\n"
					"hint: train one (sampleid train), or name an untrained model explicitly with --model\n",
					cli_command_name, SID_DEFAULT_MODEL, path);
			sid_model_free(m);
			return NULL;
		}
		fprintf(stderr, "sampleid %s: warning: model \"%s\" is UNTRAINED (%s); its fingerprints identify nothing\n",
				cli_command_name, m->name, m->note);
	}
	return m;
}

int
cli_embed_pcm(const char *cmd, sid_embedder *e, const char *what, const float *samples,
			  int64_t n_samples, sid_embed_result *q, uint8_t **content)
{
	sid_error	err;

	if (sid_content_embed_pcm(e, SID_DEVICE_CPU, samples, n_samples, q, content, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid %s: %s: %s\n", cmd, what, err.msg);
		return -1;
	}
	if (q->n_segments == 0)
	{
		fprintf(stderr, "sampleid %s: %s: shorter than one segment\n", cmd, what);
		sid_embed_result_free(q);
		free(*content);
		*content = NULL;
		return -1;
	}
	return 0;
}

int
cli_embed_file(const char *cmd, sid_embedder *e, const char *file, sid_embed_result *q,
			   uint8_t **content)
{
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;
	int			rc;

	sid_audio_limits_default(&lim);
	if (sid_audio_decode_file(file, e->features.sample_rate, &lim, NULL, &pcm, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid %s: %s: %s\n", cmd, file, err.msg);
		return -1;
	}
	rc = cli_embed_pcm(cmd, e, file, pcm.samples, pcm.n_samples, q, content);
	sid_pcm_free(&pcm);
	return rc;
}
