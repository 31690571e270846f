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
#include "audio/sid_stretch.h"
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

int
cli_semitones_option(const char *cmd, const char *s, const sid_model *m, int *lo, int *hi)
{
	char		end;

	if (!s)
	{
		*lo = *hi = 0;
		if (sid_model_is_sample_kind(m))
			*lo = -SID_SAMPLE_MODE_SEMITONES, *hi = SID_SAMPLE_MODE_SEMITONES;
		return 0;
	}
	if (sscanf(s, "%d:%d%c", lo, hi, &end) != 2 || *lo > 0 || *hi < 0 ||
		*hi - *lo + 1 > SID_TRANSPOSE_MAX_COPIES)
	{
		fprintf(stderr, "sampleid %s: --semitones wants LO:HI with LO <= 0 <= HI and at most %d copies, not \"%s\"\n",
				cmd, SID_TRANSPOSE_MAX_COPIES, s);
		return -1;
	}
	return 0;
}

int
cli_embed_pcm_copies(const char *cmd, sid_embedder *e, const char *what, const float *samples,
					 int64_t n_samples, int lo, int hi, sid_embed_result *q, uint8_t **content,
					 int **semitones)
{
	sid_error	err;
	sid_status	st;
	float	   *copies[SID_TRANSPOSE_MAX_COPIES];
	int			count = hi - lo + 1;
	int64_t		per_copy = 0;
	int			made;

	memset(q, 0, sizeof(*q));
	*content = NULL;
	*semitones = NULL;
	st = sid_transpose_copies(samples, (size_t) n_samples, e->features.sample_rate, lo, hi,
							  SID_STRETCH_FASTER, copies, &err);
	made = st == SID_OK;
	for (int c = 0; st == SID_OK && c < count; c++)
	{
		sid_embed_result one;
		uint8_t    *has = NULL;

		st = sid_content_embed_pcm(e, SID_DEVICE_CPU, copies[c], n_samples, &one, &has, &err);
		if (st != SID_OK)
			break;
		if (c == 0)
		{
			per_copy = one.n_segments;
			q->dim = one.dim;
			q->fp = malloc(sizeof(float) * (size_t) (per_copy * count) * one.dim + 1);
			q->t_start = malloc(sizeof(double) * (size_t) (per_copy * count) + 1);
			*content = malloc((size_t) (per_copy * count) + 1);
			*semitones = malloc(sizeof(int) * (size_t) (per_copy * count) + 1);
			if (!q->fp || !q->t_start || !*content || !*semitones)
				st = sid_fail(&err, SID_ENOMEM, "out of memory for %d copies", count);
		}
		if (st == SID_OK)
		{
			memcpy(q->fp + (size_t) (c * per_copy) * q->dim, one.fp,
				   sizeof(float) * (size_t) per_copy * q->dim);
			memcpy(q->t_start + c * per_copy, one.t_start, sizeof(double) * (size_t) per_copy);
			memcpy(*content + c * per_copy, has, (size_t) per_copy);
			for (int64_t i = 0; i < per_copy; i++)
				(*semitones)[c * per_copy + i] = lo + c;
			q->n_segments += per_copy;
		}
		sid_embed_result_free(&one);
		free(has);
	}
	if (made)
		sid_transpose_copies_free(copies, count);
	if (st == SID_OK && q->n_segments == 0)
		st = sid_fail(&err, SID_EINVAL, "shorter than one segment");
	if (st != SID_OK)
	{
		fprintf(stderr, "sampleid %s: %s: %s\n", cmd, what, err.msg);
		sid_embed_result_free(q);
		free(*content), free(*semitones);
		*content = NULL, *semitones = NULL;
		return -1;
	}
	return 0;
}

int
cli_embed_file_copies(const char *cmd, sid_embedder *e, const char *file, int lo, int hi,
					  sid_embed_result *q, uint8_t **content, int **semitones)
{
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;
	int			rc;

	memset(q, 0, sizeof(*q));
	*content = NULL;
	*semitones = NULL;
	sid_audio_limits_default(&lim);
	if (sid_audio_decode_file(file, e->features.sample_rate, &lim, NULL, &pcm, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid %s: %s: %s\n", cmd, file, err.msg);
		return -1;
	}
	rc = cli_embed_pcm_copies(cmd, e, file, pcm.samples, pcm.n_samples, lo, hi, q, content, semitones);
	sid_pcm_free(&pcm);
	return rc;
}
