/*
 * sid_model_dir.h - installed models: a directory of NAME.sidm files.
 *
 * The extension looks in $sharedir/extension/sampleid_models (or the
 * directory in the superuser-only setting sampleid.model_dir); the CLI in
 * --model-dir, $SAMPLEID_MODEL_DIR, or `pg_config --sharedir`'s directory.
 * Model names are 1-63 characters of [A-Za-z0-9_.-] not starting with a dot,
 * so a name can never leave its directory.
 */
#ifndef SID_MODEL_DIR_H
#define SID_MODEL_DIR_H

#include <stddef.h>

#include "core/sid_error.h"
#include "model/sid_model.h"

/* The name of the default fingerprint model; it must be trained to be used. */
#define SID_DEFAULT_MODEL "fp"

sid_status	sid_model_name_check(const char *name, sid_error *err);
/* dir/NAME.sidm into out (out_len bytes). */
sid_status	sid_model_path(char *out, size_t out_len, const char *dir, const char *name,
						   sid_error *err);

/*
 * Calls fn for each NAME.sidm in dir, in name order, with the file's path,
 * its name, and the loaded model or NULL with the load error.  Returns
 * SID_EIO when dir cannot be read.
 */
typedef void (*sid_model_visit_fn) (void *arg, const char *path, const char *name,
									const sid_model *model, const sid_error *load_err);
sid_status	sid_model_dir_list(const char *dir, sid_model_visit_fn fn, void *arg,
							   sid_error *err);

#endif
