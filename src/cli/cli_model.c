/*
 * cli_model.c - finding and loading models for the command-line tool.
 */
#include "cli_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/sid_model_dir.h"

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

	if (strchr(name, '/') || (len > 5 && strcmp(name + len - 5, SID_MODEL_SUFFIX) == 0))
		snprintf(path, sizeof(path), "%s", name);
	else
	{
		if (cli_model_dir(dir_option, dir, sizeof(dir)) != 0)
		{
			fprintf(stderr, "sampleid: cannot find the model directory: give --model-dir, "
					"set SAMPLEID_MODEL_DIR or put pg_config on PATH\n");
			return NULL;
		}
		if (sid_model_path(path, sizeof(path), dir, name, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid: %s\n", err.msg);
			return NULL;
		}
	}
	m = sid_model_load(path, &err);
	if (!m)
	{
		if (!spec)
			fprintf(stderr, "sampleid: no usable default model \"%s\": %s\n"
					"hint: train one (sampleid train) or name a model with --model\n",
					SID_DEFAULT_MODEL, err.msg);
		else
			fprintf(stderr, "sampleid: %s\n", err.msg);
		return NULL;
	}
	if (!sid_model_is_trained(m))
	{
		if (!spec)
		{
			fprintf(stderr, "sampleid: the default model \"%s\" (%s) is untrained and is never used by default\n"
					"hint: train one (sampleid train), or name an untrained model explicitly with --model\n",
					SID_DEFAULT_MODEL, path);
			sid_model_free(m);
			return NULL;
		}
		fprintf(stderr, "sampleid: warning: model \"%s\" is UNTRAINED (%s); its fingerprints identify nothing\n",
				m->name, m->note);
	}
	return m;
}
