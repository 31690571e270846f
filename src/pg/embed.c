/*
 * embed.c - sampleid_embed(audio, model) and sampleid_models(): neural
 * inference in the backend.
 *
 * Models are NAME.sidm files in $sharedir/extension/sampleid_models, or in
 * the directory the superuser-only setting sampleid.model_dir names.  Each
 * backend loads a model once and keeps it (with its FFT plans and
 * activations) until the file's mtime, size or inode changes.  The default model
 * "fp" must be a trained model: an untrained file is refused under that
 * name, while other untrained models (tests, experiments) may be used when
 * named explicitly.  OpenBLAS runs one thread per backend.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg/fingerprint.h"
#include "pg/sampleid.h"
#include "audio/sid_audio.h"
#include "model/sid_embed.h"
#include "model/sid_model_dir.h"
#include "model/sid_verifier.h"

#define MODEL_CACHE_SIZE 8

static char *sampleid_model_dir = NULL;
static int	sampleid_embed_batch = 16;

typedef struct cached_model
{
	char		path[MAXPGPATH];
	struct timespec mtime;		/* file identity when loaded: mtime, size, inode */
	off_t		size;
	ino_t		inode;
	sid_model  *model;			/* malloc'd by the library, kept for the backend's life */
	sid_embedder *embedder;
	int			batch;
	uint64		last_used;
} cached_model;

static cached_model model_cache[MODEL_CACHE_SIZE];
static uint64 model_cache_clock = 0;

void
sampleid_embed_init(void)
{
	DefineCustomStringVariable("sampleid.model_dir",
							   "Directory holding the fingerprint models (NAME.sidm).",
							   "Empty means $sharedir/extension/sampleid_models.",
							   &sampleid_model_dir,
							   "",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("sampleid.embed_batch",
							"Segments run through the encoder together by sampleid_embed.",
							"Each window of the default model needs about 0.3 MB of activations, kept "
							"with the cached model; larger batches gain little on a CPU.",
							&sampleid_embed_batch,
							16, 1, 256,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}

static void
model_directory(char *out)
{
	if (sampleid_model_dir && sampleid_model_dir[0])
		strlcpy(out, sampleid_model_dir, MAXPGPATH);
	else
	{
		char		share[MAXPGPATH];

		get_share_path(my_exec_path, share);
		snprintf(out, MAXPGPATH, "%s/extension/sampleid_models", share);
	}
}

static char *shown(const char *msg);
static sid_verifier *verifier_cache = NULL;
static char verifier_cache_path[MAXPGPATH];
static struct stat verifier_cache_stat;

/*
 * The verifier of a model is NAME.sidv beside NAME.sidm: it was trained on
 * that encoder's fingerprints and means nothing with another's.  Reloaded
 * when the file changes, like the models.
 */
const sid_verifier *
sampleid_verifier(const char *model_name)
{
	char		dir[MAXPGPATH],
				path[MAXPGPATH];
	struct stat st;
	sid_error	err;
	sid_verifier *v;

	model_directory(dir);
	if (sid_model_name_check(model_name, &err) != SID_OK)
		ereport(ERROR,
				(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_ARGUMENT)),
				 errmsg("invalid model name: %s", err.msg)));
	snprintf(path, sizeof(path), "%s/%s%s", dir, model_name, SID_VERIFIER_SUFFIX);
	if (stat(path, &st) != 0)
		return NULL;
	if (!(verifier_cache && strcmp(path, verifier_cache_path) == 0 &&
		  st.st_mtime == verifier_cache_stat.st_mtime && st.st_size == verifier_cache_stat.st_size &&
		  st.st_ino == verifier_cache_stat.st_ino))
	{
		v = sid_verifier_load(path, &err);
		if (!v)
			ereport(ERROR,
					(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_MODEL)),
					 errmsg("could not load the verifier of model \"%s\": %s", model_name, shown(err.msg))));
		sid_verifier_free(verifier_cache);
		verifier_cache = v;
		strlcpy(verifier_cache_path, path, sizeof(verifier_cache_path));
		verifier_cache_stat = st;
	}
	/* either file may have been replaced since the other was loaded */
	if (sid_verifier_check_encoder(verifier_cache, sampleid_embedder(model_name)->model->sha256,
								   &err) != SID_OK)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the verifier of model \"%s\" belongs to another encoder", model_name),
				 errdetail("%s", err.msg),
				 errhint("Train %s%s on this %s%s (sampleid train, recipe verify), or remove it.",
						 model_name, SID_VERIFIER_SUFFIX, model_name, SID_MODEL_SUFFIX)));
	return verifier_cache;
}

/*
 * msg as the current role may see it: roles that cannot read server files
 * see the model directory as "$model_dir", not where the server keeps it.
 */
static char *
shown(const char *msg)
{
	char		dir[MAXPGPATH];

	model_directory(dir);
	return sampleid_hide_dir(msg, dir, "$model_dir");
}

static void
drop_cached(cached_model *c)
{
	sid_embedder_free(c->embedder);
	sid_model_free(c->model);
	memset(c, 0, sizeof(*c));
}

/*
 * The file of the model called name, in path, and its identity in *st;
 * ERRORs when the name is invalid or there is no such file.
 */
static void
find_model_file(const char *name, bool is_default, char *path, struct stat *st)
{
	char		dir[MAXPGPATH];
	sid_error	err;
	int			stat_errno;

	model_directory(dir);
	if (sid_model_path(path, MAXPGPATH, dir, name, &err) != SID_OK)
		ereport(ERROR,
				(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_ARGUMENT)),
				 errmsg("invalid model name: %s", err.msg)));
	if (stat(path, st) == 0)
		return;
	stat_errno = errno;
	if (stat_errno == ENOENT && is_default)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("no trained fingerprint model \"%s\" is installed", name),
				 errdetail("There is no file \"%s\".", shown(path)),
				 errhint("Train one with \"sampleid train\" and install it as %s%s in that directory, "
						 "or name another model in the second argument.", name, SID_MODEL_SUFFIX)));
	ereport(ERROR,
			(errcode(stat_errno == ENOENT ? ERRCODE_UNDEFINED_FILE : ERRCODE_IO_ERROR),
			 errmsg("model \"%s\" is not available: %s", name, strerror(stat_errno)),
			 errdetail("Looked for \"%s\".", shown(path)),
			 errhint("sampleid_models() lists the installed models.")));
}

/*
 * The cache entry holding the model in path as the file is now (st): kept
 * from an earlier call, or loaded in place of the least recently used entry.
 */
static cached_model *
cached_model_for(const char *name, const char *path, const struct stat *st)
{
	cached_model *c = NULL,
			   *victim = &model_cache[0];
	sid_error	err;
	sid_model  *m;

	for (int i = 0; i < MODEL_CACHE_SIZE; i++)
	{
		if (model_cache[i].model && strcmp(model_cache[i].path, path) == 0)
			c = &model_cache[i];
		if (model_cache[i].last_used < victim->last_used)
			victim = &model_cache[i];
	}
	if (c && (c->mtime.tv_sec != st->st_mtim.tv_sec || c->mtime.tv_nsec != st->st_mtim.tv_nsec ||
			  c->size != st->st_size || c->inode != st->st_ino))
		drop_cached(c);			/* the file changed (or was replaced by a rename): reload */
	if (!c)
	{
		c = victim;
		drop_cached(c);
	}
	if (!c->model)
	{
		m = sid_model_load(path, &err);
		if (!m)
			ereport(ERROR,
					(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_MODEL)),
					 errmsg("could not load model \"%s\"", name),
					 errdetail("%s", shown(err.msg))));
		strlcpy(c->path, path, sizeof(c->path));
		c->mtime = st->st_mtim;
		c->size = st->st_size;
		c->inode = st->st_ino;
		c->model = m;
		sid_nn_set_threads(1);	/* one core per backend */
	}
	c->last_used = ++model_cache_clock;
	return c;
}

/*
 * The model called name, loaded and checked, with an embedder for the
 * current batch size.  ERRORs name the problem.
 */
static cached_model *
get_model(const char *name)
{
	char		path[MAXPGPATH];
	struct stat st;
	sid_error	err;
	cached_model *c;
	bool		is_default = strcmp(name, SID_DEFAULT_MODEL) == 0;

	find_model_file(name, is_default, path, &st);
	c = cached_model_for(name, path, &st);
	if (!sid_model_is_trained(c->model) && is_default)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the installed model \"%s\" is untrained", name),
				 errdetail("\"%s\" says: %s", shown(path), c->model->note),
				 errhint("An untrained model is never used as the default; install a trained %s%s, "
						 "or name an untrained model explicitly for testing.", name, SID_MODEL_SUFFIX)));

	if (!c->embedder || c->batch != sampleid_embed_batch)
	{
		sid_embedder_free(c->embedder);
		c->embedder = sid_embedder_create(c->model, 0.0, sampleid_embed_batch, &err);
		if (!c->embedder)
			ereport(ERROR,
					(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_MODEL)),
					 errmsg("could not prepare model \"%s\"", name),
					 errdetail("%s", err.msg)));
		c->batch = sampleid_embed_batch;
	}
	return c;
}

/* The cached embedder of the model called name (its model in ->model). */
sid_embedder *
sampleid_embedder(const char *name)
{
	return get_model(name)->embedder;
}

/*
 * One row per segment of the decoded pcm into the SRF's tuplestore, a batch
 * of windows at a time; frees pcm whatever happens.
 */
static void
emit_fingerprints(FunctionCallInfo fcinfo, const char *name, sid_pcm *pcm)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	cached_model *c = get_model(name);
	sid_embedder *e = c->embedder;
	int			device = sampleid_current_device();
	int			D = c->model->enc->cfg.embed_dim;
	sid_error	err;
	int64		S;
	float	   *fp;
	double	   *t;
	sid_status	st;

	fingerprint_check_dim(D);
	fp = palloc(sizeof(float) * (Size) e->batch * D);
	t = palloc(sizeof(double) * e->batch);
	S = sid_embed_count(e, pcm->n_samples);
	PG_TRY();
	{
		for (int64 first = 0; first < S; first += e->batch)
		{
			int			n = (int) Min(S - first, (int64) e->batch);

			CHECK_FOR_INTERRUPTS();
			st = sid_embed_batch(e, (sid_device_kind) device, pcm->samples, pcm->n_samples,
								 first, n, fp, t, &err);
			if (st != SID_OK)
				ereport(ERROR,
						(errcode(sampleid_sqlstate(st, SAMPLEID_SUBJECT_MODEL)),
						 errmsg("could not embed audio with model \"%s\": %s", name, err.msg)));
			for (int i = 0; i < n; i++)
			{
				Fingerprint *f = fingerprint_new(D);
				Datum		values[3];
				bool		nulls[3] = {false, false, false};

				memcpy(f->x, fp + (Size) i * D, sizeof(float) * D);
				values[0] = Int32GetDatum((int32) (first + i));
				values[1] = Float4GetDatum((float4) t[i]);
				values[2] = PointerGetDatum(f);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
				pfree(f);
			}
		}
	}
	PG_FINALLY();
	{
		sid_pcm_free(pcm);
	}
	PG_END_TRY();
}

/* The model's sample rate, so that audio is decoded straight to it. */
static int32
model_sample_rate(const char *name)
{
	return get_model(name)->model->features.sample_rate;
}

PG_FUNCTION_INFO_V1(sampleid_embed);
Datum
sampleid_embed(PG_FUNCTION_ARGS)
{
	bytea	   *audio = PG_GETARG_BYTEA_PP(0);
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;
	sid_status	st;

	InitMaterializedSRF(fcinfo, 0);
	sampleid_audio_limits(&lim);
	memset(&pcm, 0, sizeof(pcm));
	st = sid_audio_decode_memory(VARDATA_ANY(audio), VARSIZE_ANY_EXHDR(audio),
								 model_sample_rate(name), &lim, NULL, &pcm, &err);
	if (st != SID_OK)
		sampleid_report_audio_error(st, &err);	/* the library freed what it had */
	emit_fingerprints(fcinfo, name, &pcm);
	return (Datum) 0;
}

static void
embed_file_context(void *arg)
{
	errcontext("fingerprinting server file \"%s\"", (const char *) arg);
}

/*
 * sampleid_embed_file(path, model): sampleid_embed of a server file, read by
 * the library (no bytea copy of the whole file), for roles that may read
 * server files: pg_read_binary_file needs its own EXECUTE grant besides
 * pg_read_server_files, this needs only the role.
 */
PG_FUNCTION_INFO_V1(sampleid_embed_file);
Datum
sampleid_embed_file(PG_FUNCTION_ARGS)
{
	char	   *path = sampleid_checked_path(PG_GETARG_TEXT_PP(0));
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ErrorContextCallback ctx;
	struct stat sb;
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;
	sid_status	st;

	InitMaterializedSRF(fcinfo, 0);
	ctx.callback = embed_file_context;
	ctx.arg = path;
	ctx.previous = error_context_stack;
	error_context_stack = &ctx;
	/* before the library opens it: opening a FIFO would wait, uninterruptibly, for a writer */
	if (stat(path, &sb) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	if (!S_ISREG(sb.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a regular file", path)));
	sampleid_audio_limits(&lim);
	memset(&pcm, 0, sizeof(pcm));
	st = sid_audio_decode_file(path, model_sample_rate(name), &lim, NULL, &pcm, &err);
	if (st != SID_OK)
		sampleid_report_audio_error(st, &err);
	emit_fingerprints(fcinfo, name, &pcm);
	error_context_stack = ctx.previous;
	return (Datum) 0;
}

typedef struct list_state
{
	ReturnSetInfo *rsinfo;
} list_state;

static void
emit_model_row(void *arg, const char *path, const char *name, const sid_model *m,
			   const sid_error *load_err)
{
	list_state *ls = arg;
	Datum		values[18];
	bool		nulls[18];
	int			k = 0;

	memset(nulls, 0, sizeof(nulls));
	values[k++] = CStringGetTextDatum(name);
	if (m)
	{
		const sid_encoder_config *c = &m->enc->cfg;
		const sid_feature_config *f = &m->features;
		StringInfoData arch;
		float		min_coverage,
					min_similarity;

		initStringInfo(&arch);
		appendStringInfo(&arch, "patch %dx%d, %d nodes, stages", c->patch_freq, c->patch_time,
						 sid_encoder_nodes(c, 0));
		for (int s = 0; s < c->n_stages; s++)
			appendStringInfo(&arch, "%s %dx%d@%d", s ? "," : "", c->blocks[s], c->channels[s],
							 sid_encoder_nodes(c, s));
		appendStringInfo(&arch, ", k %d, ffn x%d, head %d", c->knn_k, c->ffn_ratio, c->head_hidden);
		values[k++] = BoolGetDatum(sid_model_is_trained(m));
		values[k++] = Int64GetDatum((int64) m->enc->num_params);
		values[k++] = Float4GetDatum((float4) (sid_encoder_flops(c) / 1e6));
		values[k++] = Int32GetDatum(c->embed_dim);
		values[k++] = Int32GetDatum(f->sample_rate);
		values[k++] = Int32GetDatum(f->n_fft);
		values[k++] = Int32GetDatum(f->hop_length);
		values[k++] = Int32GetDatum(f->n_mels);
		values[k++] = Float4GetDatum(f->segment_seconds);
		values[k++] = Float4GetDatum(f->segment_hop_seconds);
		values[k++] = CStringGetTextDatum(arch.data);
		values[k++] = CStringGetTextDatum(m->note);
		values[k++] = CStringGetTextDatum(shown(path));
		nulls[k] = true;
		values[k++] = (Datum) 0;
		values[k++] = CStringGetTextDatum(m->sha256);
		sid_model_coarse_rule(m, &min_coverage, &min_similarity);
		values[k++] = Float4GetDatum(min_similarity);
		values[k++] = Float4GetDatum(min_coverage);
	}
	else
	{
		for (; k < 13; k++)
			nulls[k] = true;
		values[k++] = CStringGetTextDatum(shown(path));
		values[k++] = CStringGetTextDatum(shown(load_err->msg));
		nulls[k++] = true;
		nulls[k++] = true;
		nulls[k++] = true;
	}
	tuplestore_putvalues(ls->rsinfo->setResult, ls->rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(sampleid_models);
Datum
sampleid_models(PG_FUNCTION_ARGS)
{
	char		dir[MAXPGPATH];
	struct stat st;
	sid_error	err;
	list_state	ls;

	InitMaterializedSRF(fcinfo, 0);
	ls.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	model_directory(dir);
	if (stat(dir, &st) != 0 && errno == ENOENT)
		return (Datum) 0;		/* nothing installed */
	if (sid_model_dir_list(dir, emit_model_row, &ls, &err) != SID_OK)
		ereport(ERROR,
				(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_MODEL)),
				 errmsg("could not list models: %s", shown(err.msg))));
	return (Datum) 0;
}
