/*
 * sid_model_dir.c - naming, locating and listing installed model files.
 */
#include "model/sid_model_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sid_status
sid_model_name_check(const char *name, sid_error *err)
{
	size_t		n = name ? strlen(name) : 0;

	if (n == 0 || n >= SID_MODEL_NAME_LEN || name[0] == '.')
		return sid_fail(err, SID_EINVAL, "model name \"%.80s\" must have 1 to %d characters and not start with a dot",
						name ? name : "", SID_MODEL_NAME_LEN - 1);
	for (size_t i = 0; i < n; i++)
	{
		char		c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '-' || c == '.'))
			return sid_fail(err, SID_EINVAL,
							"model name \"%.80s\" may contain only letters, digits, '_', '-' and '.'", name);
	}
	return SID_OK;
}

sid_status
sid_model_path(char *out, size_t out_len, const char *dir, const char *name, sid_error *err)
{
	sid_status	st;

	if ((st = sid_model_name_check(name, err)) != SID_OK)
		return st;
	if ((size_t) snprintf(out, out_len, "%s/%s%s", dir, name, SID_MODEL_SUFFIX) >= out_len)
		return sid_fail(err, SID_EINVAL, "model directory path is too long");
	return SID_OK;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

sid_status
sid_model_dir_list(const char *dir, sid_model_visit_fn fn, void *arg, sid_error *err)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	char	  **names = NULL;
	size_t		n = 0,
				cap = 0;
	size_t		suffix = strlen(SID_MODEL_SUFFIX);

	if (!d)
		return sid_fail(err, SID_EIO, "could not open model directory \"%s\": %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
	{
		size_t		len = strlen(de->d_name);
		char	   *name;

		if (len <= suffix || strcmp(de->d_name + len - suffix, SID_MODEL_SUFFIX) != 0)
			continue;
		name = strndup(de->d_name, len - suffix);
		if (!name || sid_model_name_check(name, NULL) != SID_OK)
		{
			free(name);
			continue;
		}
		if (n == cap)
		{
			char	  **grown = realloc(names, sizeof(char *) * (cap = cap ? 2 * cap : 16));

			if (!grown)
			{
				free(name);
				break;
			}
			names = grown;
		}
		names[n++] = name;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(char *), compare_names);
	for (size_t i = 0; i < n; i++)
	{
		char		path[4096];
		sid_error	lerr;
		sid_model  *m = NULL;

		memset(&lerr, 0, sizeof(lerr));
		if (sid_model_path(path, sizeof(path), dir, names[i], &lerr) == SID_OK)
			m = sid_model_load(path, &lerr);
		fn(arg, path, names[i], m, m ? NULL : &lerr);
		sid_model_free(m);
		free(names[i]);
	}
	free(names);
	return SID_OK;
}
