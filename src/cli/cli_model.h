/*
 * cli_model.h - how the command-line tool finds and loads models, shared by
 * `sampleid embed`, `sampleid models` and the trainer.
 */
#ifndef SAMPLEID_CLI_MODEL_H
#define SAMPLEID_CLI_MODEL_H

#include <stddef.h>

#include "model/sid_embed.h"
#include "model/sid_model.h"

/*
 * The model directory: the --model-dir option when given, else
 * $SAMPLEID_MODEL_DIR, else `pg_config --sharedir`/extension/sampleid_models.
 */
int			cli_model_dir(const char *option, char *out, size_t out_len);

/*
 * Loads a model by name from the model directory, or by path when spec
 * contains '/' or ends in .sidm.  When spec is NULL the default model "fp"
 * is loaded and must be trained; an explicitly named untrained model is
 * loaded with a warning on stderr.  Prints the problem and returns NULL on
 * failure.
 */
sid_model  *cli_load_model(const char *spec, const char *dir_option);

/*
 * Decodes an audio file at the embedder's rate and fingerprints it on the
 * CPU with the audio test's verdict per segment in *content (malloc'd), as
 * the fingerprints form of sampleid_identify wants them.  0, or -1 having
 * printed "sampleid CMD: FILE: why" (also for a file shorter than a segment).
 */
int			cli_embed_file(const char *cmd, sid_embedder *e, const char *file,
						   sid_embed_result *q, uint8_t **content);
/* The same for PCM already at the embedder's rate; what names it in messages. */
int			cli_embed_pcm(const char *cmd, sid_embedder *e, const char *what, const float *samples,
						  int64_t n_samples, sid_embed_result *q, uint8_t **content);

/*
 * The same for the transposed copies of sample mode: the file shifted by
 * each of lo .. hi semitones (audio/sid_stretch, R2, pitch only; lo <= 0 <=
 * hi), fingerprinted copy after copy into one *q and *content, with each
 * row's shift in *semitones (malloc'd), as sampleid_identify's fingerprints
 * form takes them.
 */
/*
 * The copies --semitones LO:HI asks for (s; NULL: -3 .. +3 for a sample-kind
 * model, else 0 .. 0, none): 0, or -1 having said why.
 */
int			cli_semitones_option(const char *cmd, const char *s, const sid_model *m, int *lo,
								 int *hi);

int			cli_embed_file_copies(const char *cmd, sid_embedder *e, const char *file, int lo,
								  int hi, sid_embed_result *q, uint8_t **content,
								  int **semitones);
/* The same for PCM already at the embedder's rate; what names it in messages. */
int			cli_embed_pcm_copies(const char *cmd, sid_embedder *e, const char *what,
								 const float *samples, int64_t n_samples, int lo, int hi,
								 sid_embed_result *q, uint8_t **content, int **semitones);

#endif
