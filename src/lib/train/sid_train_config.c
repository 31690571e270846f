/*
 * sid_train_config.c - the trainer's key = value configuration file: one
 * table of keys (name, type, where it lives, allowed range) drives parsing,
 * checking and printing, so a key cannot be parsed but not printed.
 */
#include "train/sid_train.h"

#include "augment/sid_music.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum key_type
{
	KEY_STR,
	KEY_INT,
	KEY_U64,
	KEY_FLOAT,
	KEY_INTLIST					/* comma-separated, SID_MAX_STAGES ints */
} key_type;

typedef struct key_def
{
	const char *name;
	key_type	type;
	size_t		offset;
	size_t		size;			/* KEY_STR: buffer size */
	double		lo, hi;			/* allowed range of numbers */
} key_def;

#define F(field) offsetof(sid_train_config, field)
#define S(field) F(field), sizeof(((sid_train_config *) 0)->field)

static const key_def keys[] = {
	{"manifest", KEY_STR, S(manifest), 0, 0},
	{"noise_manifest", KEY_STR, S(noise_manifest), 0, 0},
	{"data_dir", KEY_STR, S(data_dir), 0, 0},
	{"cache_dir", KEY_STR, S(cache_dir), 0, 0},
	{"train_split", KEY_STR, S(train_split), 0, 0},
	{"val_split", KEY_STR, S(val_split), 0, 0},
	{"seed", KEY_U64, F(seed), 0, 0, 0},
	{"pairs", KEY_INT, F(pairs), 0, 2, 4096},
	{"steps", KEY_INT, F(steps), 0, 1, 1e9},
	{"lr", KEY_FLOAT, F(lr), 0, 1e-7, 1},
	{"lr_min", KEY_FLOAT, F(lr_min), 0, 0, 1},
	{"warmup_steps", KEY_INT, F(warmup_steps), 0, 0, 1e9},
	{"weight_decay", KEY_FLOAT, F(weight_decay), 0, 0, 1},
	{"temperature", KEY_FLOAT, F(temperature), 0, 1e-3, 10},
	{"clip_norm", KEY_FLOAT, F(clip_norm), 0, 0, 1e6},
	{"max_offset_s", KEY_FLOAT, F(max_offset_s), 0, 0, 1},
	{"p_noise", KEY_FLOAT, F(p_noise), 0, 0, 1},
	{"p_synthetic", KEY_FLOAT, F(p_synthetic), 0, 0, 1},
	{"snr_min_db", KEY_FLOAT, F(snr_min_db), 0, -20, 60},
	{"snr_max_db", KEY_FLOAT, F(snr_max_db), 0, -20, 60},
	{"p_reverb", KEY_FLOAT, F(p_reverb), 0, 0, 1},
	{"p_eq", KEY_FLOAT, F(p_eq), 0, 0, 1},
	{"gain_min_db", KEY_FLOAT, F(gain_min_db), 0, -60, 20},
	{"gain_max_db", KEY_FLOAT, F(gain_max_db), 0, -60, 20},
	{"recipe", KEY_STR, S(recipe), 0, 0},
	{"overlay_manifest", KEY_STR, S(overlay_manifest), 0, 0},
	{"bank_dir", KEY_STR, S(bank_dir), 0, 0},
	{"p_track_overlay", KEY_FLOAT, F(p_track_overlay), 0, 0, 1},
	{"overlay_ratio_min_db", KEY_FLOAT, F(overlay_ratio_min_db), 0, -60, 60},
	{"overlay_ratio_max_db", KEY_FLOAT, F(overlay_ratio_max_db), 0, -60, 60},
	{"p_transform", KEY_FLOAT, F(p_transform), 0, 0, 1},
	{"p_pitch", KEY_FLOAT, F(p_pitch), 0, 0, 1},
	{"max_semitones", KEY_FLOAT, F(max_semitones), 0, 0, 24},
	{"stretch_min", KEY_FLOAT, F(stretch_min), 0, 0.25, 4},
	{"stretch_max", KEY_FLOAT, F(stretch_max), 0, 0.25, 4},
	{"p_music_eq", KEY_FLOAT, F(p_music_eq), 0, 0, 1},
	{"p_compress", KEY_FLOAT, F(p_compress), 0, 0, 1},
	{"p_distort", KEY_FLOAT, F(p_distort), 0, 0, 1},
	{"fp_model", KEY_STR, S(fp_model), 0, 0},
	{"exclude_package", KEY_STR, S(exclude_package), 0, 0},
	{"init_model", KEY_STR, S(init_model), 0, 0},
	{"catalogue_tracks", KEY_INT, F(catalogue_tracks), 0, 1, 10000},
	{"out_tracks", KEY_INT, F(out_tracks), 0, 1, 10000},
	{"val_catalogue_tracks", KEY_INT, F(val_catalogue_tracks), 0, 1, 10000},
	{"val_out_tracks", KEY_INT, F(val_out_tracks), 0, 1, 10000},
	{"catalogue_seconds", KEY_FLOAT, F(catalogue_seconds), 0, 12, 36000},
	{"queries_per_track", KEY_INT, F(queries_per_track), 0, 1, 10000},
	{"noise_queries_every", KEY_INT, F(noise_queries_every), 0, 0, 10000},
	{"query_recipe", KEY_STR, S(query_recipe), 0, 0},
	{"n_stages", KEY_INT, F(n_stages), 0, 1, SID_MAX_STAGES},
	{"channels", KEY_INTLIST, F(channels), 0, 1, 1024},
	{"blocks", KEY_INTLIST, F(blocks), 0, 0, SID_MAX_BLOCKS},
	{"knn_k", KEY_INT, F(knn_k), 0, 1, 64},
	{"checkpoint", KEY_STR, S(checkpoint), 0, 0},
	{"best_model", KEY_STR, S(best_model), 0, 0},
	{"final_model", KEY_STR, S(final_model), 0, 0},
	{"model_name", KEY_STR, S(model_name), 0, 0},
	{"checkpoint_every", KEY_INT, F(checkpoint_every), 0, 0, 1e9},
	{"val_every", KEY_INT, F(val_every), 0, 0, 1e9},
	{"val_tracks", KEY_INT, F(val_tracks), 0, 0, 1e6},
	{"val_seconds", KEY_FLOAT, F(val_seconds), 0, 2, 36000},
	{"val_queries", KEY_INT, F(val_queries), 0, 1, 1e6},
	{"log_every", KEY_INT, F(log_every), 0, 1, 1e9},
	{"threads", KEY_INT, F(threads), 0, 1, 2},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void
sid_train_config_default(sid_train_config *cfg)
{
	sid_encoder_config enc;
	sid_augment_config aug;
	sid_music_config music;

	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->manifest, "data/manifest.tsv");
	strcpy(cfg->noise_manifest, "data/noise.tsv");
	strcpy(cfg->data_dir, "/var/lib/sampleid-corpus");
	strcpy(cfg->train_split, "train");
	strcpy(cfg->val_split, "validation");
	strcpy(cfg->checkpoint, "fp.ckpt");
	strcpy(cfg->model_name, "fp");
	cfg->seed = 1;
	cfg->pairs = 64;
	cfg->steps = 10000;
	cfg->lr = 1e-3f;
	cfg->lr_min = 1e-5f;
	cfg->warmup_steps = 200;
	cfg->weight_decay = 0.0f;
	cfg->temperature = 0.05f;
	cfg->clip_norm = 1.0f;
	/* augmentation: the augmentation module's training defaults */
	sid_augment_config_default(&aug, 16000.0f, 16000);
	cfg->max_offset_s = aug.max_offset_s;
	cfg->p_noise = aug.p_noise;
	cfg->p_synthetic = aug.p_synthetic;
	cfg->snr_min_db = aug.snr_min_db;
	cfg->snr_max_db = aug.snr_max_db;
	cfg->p_reverb = aug.p_reverb;
	cfg->p_eq = aug.p_eq;
	cfg->gain_min_db = aug.gain_min_db;
	cfg->gain_max_db = aug.gain_max_db;
	/* the sample recipe: the musical chain's defaults */
	sid_music_config_default(&music, 16000.0f, 16000);
	strcpy(cfg->recipe, "fp");
	cfg->p_track_overlay = 0.5f;
	cfg->overlay_ratio_min_db = music.ratio_min_db;
	cfg->overlay_ratio_max_db = music.ratio_max_db;
	cfg->p_transform = music.p_transform;
	cfg->p_pitch = music.p_pitch;
	cfg->max_semitones = music.max_semitones;
	cfg->stretch_min = music.stretch_min;
	cfg->stretch_max = music.stretch_max;
	cfg->p_music_eq = music.p_eq;
	cfg->p_compress = music.p_compress;
	cfg->p_distort = music.p_distort;
	sid_encoder_default_config(&enc);
	cfg->n_stages = enc.n_stages;
	memcpy(cfg->channels, enc.channels, sizeof(cfg->channels));
	memcpy(cfg->blocks, enc.blocks, sizeof(cfg->blocks));
	cfg->knn_k = enc.knn_k;
	strcpy(cfg->fp_model, "models/fp.sidm");
	cfg->catalogue_tracks = 24;
	cfg->out_tracks = 12;
	cfg->val_catalogue_tracks = 8;
	cfg->val_out_tracks = 8;
	cfg->catalogue_seconds = 120.0f;
	cfg->queries_per_track = 24;
	strcpy(cfg->query_recipe, "fp");
	cfg->checkpoint_every = 200;
	cfg->val_every = 500;
	cfg->val_tracks = 0;
	cfg->val_seconds = 60.0f;
	cfg->val_queries = 500;
	cfg->log_every = 10;
	cfg->threads = 2;
}

static char *
trim(char *s)
{
	char	   *e;

	while (isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

static sid_status
parse_number(const key_def *k, const char *value, double *out, sid_error *err)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(value, &end);
	if (errno || end == value || *trim(end) != '\0' || !isfinite(v))
		return sid_fail(err, SID_EINVAL, "%s: \"%s\" is not a number", k->name, value);
	if (k->type != KEY_FLOAT && v != floor(v))
		return sid_fail(err, SID_EINVAL, "%s: \"%s\" is not an integer", k->name, value);
	if (k->type != KEY_U64 && (v < k->lo || v > k->hi))
		return sid_fail(err, SID_EINVAL, "%s: %s is outside [%g, %g]", k->name, value, k->lo, k->hi);
	if (k->type == KEY_U64 && v < 0)
		return sid_fail(err, SID_EINVAL, "%s: %s is negative", k->name, value);
	*out = v;
	return SID_OK;
}

sid_status
sid_train_config_set(sid_train_config *cfg, const char *key, const char *value, sid_error *err)
{
	char	   *base = (char *) cfg;

	for (size_t i = 0; i < NKEYS; i++)
	{
		const key_def *k = &keys[i];
		double		v;
		sid_status	rc;

		if (strcmp(k->name, key) != 0)
			continue;
		switch (k->type)
		{
			case KEY_STR:
				if (strlen(value) >= k->size)
					return sid_fail(err, SID_EINVAL, "%s: value longer than %zu bytes", key, k->size - 1);
				strcpy(base + k->offset, value);
				return SID_OK;
			case KEY_U64:
				{
					char	   *end;
					unsigned long long u;

					errno = 0;
					u = strtoull(value, &end, 10);
					if (errno || end == value || *end != '\0' || value[0] == '-')
						return sid_fail(err, SID_EINVAL, "%s: \"%s\" is not an unsigned integer", key, value);
					*(uint64_t *) (base + k->offset) = u;
					return SID_OK;
				}
			case KEY_INT:
				if ((rc = parse_number(k, value, &v, err)) != SID_OK)
					return rc;
				*(int32_t *) (base + k->offset) = (int32_t) v;
				return SID_OK;
			case KEY_FLOAT:
				if ((rc = parse_number(k, value, &v, err)) != SID_OK)
					return rc;
				*(float *) (base + k->offset) = (float) v;
				return SID_OK;
			case KEY_INTLIST:
				{
					int32_t    *dst = (int32_t *) (base + k->offset);
					char		buf[256];
					char	   *save = NULL,
							   *tok;
					int			n = 0;

					if (strlen(value) >= sizeof(buf))
						return sid_fail(err, SID_EINVAL, "%s: value too long", key);
					strcpy(buf, value);
					memset(dst, 0, sizeof(int32_t) * SID_MAX_STAGES);
					for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
					{
						if (n == SID_MAX_STAGES)
							return sid_fail(err, SID_EINVAL, "%s: more than %d values", key, SID_MAX_STAGES);
						if ((rc = parse_number(k, trim(tok), &v, err)) != SID_OK)
							return rc;
						dst[n++] = (int32_t) v;
					}
					if (n == 0)
						return sid_fail(err, SID_EINVAL, "%s: no values", key);
					return SID_OK;
				}
		}
	}
	return sid_fail(err, SID_EINVAL, "unknown key \"%s\"", key);
}

sid_status
sid_train_config_read(const char *path, sid_train_config *cfg, sid_error *err)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;

	if (!f)
		return sid_fail(err, SID_EIO, "cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
	{
		char	   *s,
				   *eq,
				   *hash;
		sid_status	rc;

		lineno++;
		if (!strchr(line, '\n') && !feof(f))
		{
			fclose(f);
			return sid_fail(err, SID_EINVAL, "%s:%d: line too long", path, lineno);
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		if ((eq = strchr(s, '=')) == NULL)
		{
			fclose(f);
			return sid_fail(err, SID_EINVAL, "%s:%d: expected key = value", path, lineno);
		}
		*eq = '\0';
		if ((rc = sid_train_config_set(cfg, trim(s), trim(eq + 1), err)) != SID_OK)
		{
			char		msg[sizeof(err->msg)];

			fclose(f);
			if (err)
			{
				memcpy(msg, err->msg, sizeof(msg));
				sid_fail(err, rc, "%.200s:%d: %.300s", path, lineno, msg);
			}
			return rc;
		}
	}
	fclose(f);
	return sid_train_config_check(cfg, err);
}

sid_status
sid_train_config_check(const sid_train_config *cfg, sid_error *err)
{
	if (cfg->manifest[0] == '\0' || cfg->checkpoint[0] == '\0')
		return sid_fail(err, SID_EINVAL, "manifest and checkpoint must be set");
	if (cfg->lr_min > cfg->lr)
		return sid_fail(err, SID_EINVAL, "lr_min (%g) exceeds lr (%g)", cfg->lr_min, cfg->lr);
	if (cfg->snr_min_db > cfg->snr_max_db || cfg->gain_min_db > cfg->gain_max_db)
		return sid_fail(err, SID_EINVAL, "a min_db exceeds its max_db");
	if (strcmp(cfg->recipe, "fp") != 0 && strcmp(cfg->recipe, "sample") != 0 &&
		strcmp(cfg->recipe, "verify") != 0)
		return sid_fail(err, SID_EINVAL, "recipe is \"fp\", \"sample\" or \"verify\", not \"%s\"", cfg->recipe);
	if (strcmp(cfg->query_recipe, "fp") != 0 && strcmp(cfg->query_recipe, "sample") != 0)
		return sid_fail(err, SID_EINVAL, "query_recipe is \"fp\" or \"sample\", not \"%s\"", cfg->query_recipe);
	if (cfg->overlay_ratio_min_db > cfg->overlay_ratio_max_db || cfg->stretch_min > cfg->stretch_max)
		return sid_fail(err, SID_EINVAL, "overlay_ratio_min_db or stretch_min exceeds its max");
	if (cfg->pairs % 2 != 0)
		return sid_fail(err, SID_EINVAL, "pairs must be even (the two workers take half each)");
	for (int s = 0; s < cfg->n_stages; s++)
		if (cfg->channels[s] < 1 || cfg->blocks[s] < 1)
			return sid_fail(err, SID_EINVAL, "stage %d needs channels and blocks (n_stages = %d)",
							s, cfg->n_stages);
	return SID_OK;
}

void
sid_train_config_write(FILE *out, const sid_train_config *cfg)
{
	const char *base = (const char *) cfg;

	for (size_t i = 0; i < NKEYS; i++)
	{
		const key_def *k = &keys[i];
		const void *p = base + k->offset;

		fprintf(out, "%s = ", k->name);
		switch (k->type)
		{
			case KEY_STR:
				fprintf(out, "%s", (const char *) p);
				break;
			case KEY_U64:
				fprintf(out, "%llu", (unsigned long long) *(const uint64_t *) p);
				break;
			case KEY_INT:
				fprintf(out, "%d", *(const int32_t *) p);
				break;
			case KEY_FLOAT:
				fprintf(out, "%g", *(const float *) p);
				break;
			case KEY_INTLIST:
				for (int j = 0; j < cfg->n_stages; j++)
					fprintf(out, "%s%d", j ? "," : "", ((const int32_t *) p)[j]);
				break;
		}
		fputc('\n', out);
	}
}
