/*
 * sampleid.h - module-wide declarations of the extension (PostgreSQL side).
 */
#ifndef SAMPLEID_H
#define SAMPLEID_H

#include "audio/sid_audio.h"

/* Each part of the extension registers its settings from _PG_init. */
extern void sampleid_device_init(void);
extern void sampleid_embed_init(void);
extern void sampleid_audio_init(void);
extern void sampleid_identify_init(void);

/* What a failing library call was working on; it decides some SQLSTATEs. */
typedef enum sampleid_subject
{
	SAMPLEID_SUBJECT_AUDIO,		/* audio the caller passed: a bytea or a server file */
	SAMPLEID_SUBJECT_ARGUMENT,	/* an argument or setting: features, a model name */
	SAMPLEID_SUBJECT_MODEL		/* an installed model file: loading, preparing, running it */
} sampleid_subject;

/* src/pg/errcodes.c: the SQLSTATE of every library failure the extension raises. */
extern int	sampleid_sqlstate(sid_status st, sampleid_subject subject);

/* src/pg/audio.c: audio limits from the settings; raise a decoding error. */
extern void sampleid_audio_limits(sid_audio_limits *lim);
extern void sampleid_report_audio_error(sid_status st, const sid_error *err);
/* A server file's path as a C string; ERROR unless the role may read server files. */
extern char *sampleid_checked_path(text *path_text);
/*
 * src/pg/audio.c: whether the current role may read server files (superuser
 * or pg_read_server_files), and so see server paths in results and errors;
 * and msg with every occurrence of dir shown as placeholder for other roles.
 */
extern bool sampleid_may_read_server_files(void);
extern char *sampleid_hide_dir(const char *msg, const char *dir, const char *placeholder);
extern void ivfpq_init(void);	/* src/ivfpq/ivfpqhandler.c */

/* src/pg/embed.c: the model called name, loaded, checked and cached, with an
 * embedder at the current batch size; ERRORs name the problem. */
struct sid_embedder;
extern struct sid_embedder *sampleid_embedder(const char *name);

/* src/pg/embed.c: the verifier installed beside model name (NAME.sidv in the
 * model directory), loaded and cached; NULL when there is none. */
struct sid_verifier;
extern const struct sid_verifier *sampleid_verifier(const char *model_name);

/* The device inference runs on (a sid_device_kind); ERROR if none fits. */
extern int	sampleid_current_device(void);

#endif
