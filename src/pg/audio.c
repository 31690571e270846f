/*
 * audio.c - SQL access to the audio front end: sampleid_audio_info() and
 * sampleid_audio_segments() over bytea values and server-side files.
 *
 * The decoding and features live in the plain C library (sid_audio, sid_mel),
 * which allocates with malloc: every path frees that memory before raising an
 * error (PG_TRY/PG_FINALLY around anything that can ereport).
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"

#include "pg/sampleid.h"
#include "audio/sid_audio.h"
#include "audio/sid_features.h"
#include "audio/sid_mel.h"

/*
 * Segments computed per library call: at most SEGMENT_BATCH, and no more than
 * fit in SEGMENT_BATCH_BYTES (but always one), so the batch buffer stays small
 * and an interrupt is seen after a bounded amount of work.
 */
#define SEGMENT_BATCH 64
#define SEGMENT_BATCH_BYTES (4 * 1024 * 1024)

static int	max_audio_seconds = 3600;
static int	max_audio_sample_rate = 384000;
static int	max_audio_channels = 64;
static int	max_audio_kilobytes = 1024 * 1024;	/* 1 GB */
static int	max_segment_frames = 8192;
static int	max_segment_output_kilobytes = 256 * 1024;	/* 256 MB */

void
sampleid_audio_init(void)
{
	DefineCustomIntVariable("sampleid.max_audio_seconds",
							"Longest audio, in seconds, the audio functions decode.",
							NULL,
							&max_audio_seconds,
							3600, 1, 7 * 24 * 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("sampleid.max_audio_sample_rate",
							"Highest input sample rate, in Hz, the audio functions accept.",
							NULL,
							&max_audio_sample_rate,
							384000, SID_AUDIO_MIN_SAMPLE_RATE, 1536000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("sampleid.max_audio_channels",
							"Most input channels the audio functions accept.",
							NULL,
							&max_audio_channels,
							64, 1, 1024,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("sampleid.max_audio_bytes",
							"Largest encoded audio input (value or file) the audio functions accept.",
							NULL,
							&max_audio_kilobytes,
							1024 * 1024, 1, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("sampleid.max_segment_frames",
							"Most log-mel frames in one segment of sampleid_audio_segments.",
							"window_seconds * 16000 / hop_length + 1 frames of 64 values each.",
							&max_segment_frames,
							8192, 1, 1024 * 1024,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("sampleid.max_segment_output",
							"Most log-mel data one sampleid_audio_segments call returns.",
							"The rows are 4 bytes per value; a call over this is refused before any is computed.",
							&max_segment_output_kilobytes,
							256 * 1024, 1, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
}

/*
 * Stop decoding only for a cancel or a termination request.  InterruptPending
 * alone is also raised by harmless events (catch-up signals, barriers) that
 * CHECK_FOR_INTERRUPTS handles and returns from; stopping for those made a
 * long INSERT ... SELECT over many files fail with "decoding was interrupted".
 */
static int
backend_interrupted(void *arg)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

void
sampleid_audio_limits(sid_audio_limits *lim)
{
	sid_audio_limits_default(lim);
	lim->max_seconds = max_audio_seconds;
	lim->max_sample_rate = max_audio_sample_rate;
	lim->max_channels = max_audio_channels;
	lim->max_input_bytes = (int64) max_audio_kilobytes * 1024;
	lim->interrupted = backend_interrupted;
	lim->interrupted_arg = NULL;
}

/*
 * Raise a library error.  Call only after the library memory is freed.  A
 * decode stopped by a pending cancel raises the cancel itself.
 */
void
sampleid_report_audio_error(sid_status st, const sid_error *err)
{
	CHECK_FOR_INTERRUPTS();
	ereport(ERROR,
			(errcode(sampleid_sqlstate(st, SAMPLEID_SUBJECT_AUDIO)),
			 errmsg("%s", err->msg),
			 st == SID_ELIMIT ?
			 errhint("The limits are sampleid.max_audio_seconds, sampleid.max_audio_sample_rate, "
					 "sampleid.max_audio_channels and sampleid.max_audio_bytes.") : 0));
}

bool
sampleid_may_read_server_files(void)
{
	return has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES);
}

char *
sampleid_hide_dir(const char *msg, const char *dir, const char *placeholder)
{
	StringInfoData out;
	size_t		dir_len = strlen(dir);
	const char *hit;

	if (sampleid_may_read_server_files() || dir_len == 0)
		return pstrdup(msg);
	initStringInfo(&out);
	while ((hit = strstr(msg, dir)) != NULL)
	{
		appendBinaryStringInfo(&out, msg, (int) (hit - msg));
		appendStringInfoString(&out, placeholder);
		msg = hit + dir_len;
	}
	appendStringInfoString(&out, msg);
	return out.data;
}

/* Reading server files is for superusers and pg_read_server_files members. */
char *
sampleid_checked_path(text *path_text)
{
	if (!sampleid_may_read_server_files())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read audio files on the server"),
				 errdetail("Only roles with privileges of the \"pg_read_server_files\" role may read server files.")));
	return text_to_cstring(path_text);
}

/* ---- sampleid_audio_info ------------------------------------------------- */

static Datum
info_tuple(FunctionCallInfo fcinfo, const sid_audio_info *info)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Float8GetDatum(info->duration_seconds);
	values[1] = Int32GetDatum(info->sample_rate);
	values[2] = Int32GetDatum(info->channels);
	values[3] = CStringGetTextDatum(info->format);
	values[4] = CStringGetTextDatum(info->encoding);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

PG_FUNCTION_INFO_V1(sampleid_audio_info);
Datum
sampleid_audio_info(PG_FUNCTION_ARGS)
{
	bytea	   *audio = PG_GETARG_BYTEA_PP(0);
	sid_audio_limits lim;
	sid_audio_info info;
	sid_error	err;
	sid_status	st;

	sampleid_audio_limits(&lim);
	st = sid_audio_probe_memory(VARDATA_ANY(audio), VARSIZE_ANY_EXHDR(audio), &lim, &info, &err);
	if (st != SID_OK)
		sampleid_report_audio_error(st, &err);
	return info_tuple(fcinfo, &info);
}

PG_FUNCTION_INFO_V1(sampleid_audio_file_info);
Datum
sampleid_audio_file_info(PG_FUNCTION_ARGS)
{
	char	   *path = sampleid_checked_path(PG_GETARG_TEXT_PP(0));
	sid_audio_limits lim;
	sid_audio_info info;
	sid_error	err;
	sid_status	st;

	sampleid_audio_limits(&lim);
	st = sid_audio_probe_file(path, &lim, &info, &err);
	if (st != SID_OK)
		sampleid_report_audio_error(st, &err);
	return info_tuple(fcinfo, &info);
}

/* ---- sampleid_audio_segments --------------------------------------------- */

/* A 2-D real[] [frames][n_mels] holding one segment's log-mel rows. */
static ArrayType *
mel_array(const float *rows, int frames, int n_mels)
{
	Size		nbytes = sizeof(float4) * (Size) frames * n_mels;
	Size		size = ARR_OVERHEAD_NONULLS(2) + nbytes;
	ArrayType  *a = palloc0(size);

	SET_VARSIZE(a, size);
	a->ndim = 2;
	a->dataoffset = 0;
	a->elemtype = FLOAT4OID;
	ARR_DIMS(a)[0] = frames;
	ARR_DIMS(a)[1] = n_mels;
	ARR_LBOUND(a)[0] = 1;
	ARR_LBOUND(a)[1] = 1;
	memcpy((char *) a + ARR_OVERHEAD_NONULLS(2), rows, nbytes);
	return a;
}

/*
 * The feature configuration from the SQL arguments (hop, window, window hop),
 * refused when one window has more than sampleid.max_segment_frames frames.
 */
static sid_mel *
mel_from_args(FunctionCallInfo fcinfo)
{
	sid_feature_config cfg;
	sid_error	err;
	sid_mel    *mel;
	int			frames;

	sid_features_default(&cfg);
	cfg.hop_length = PG_GETARG_INT32(1);
	cfg.segment_seconds = (float) PG_GETARG_FLOAT8(2);
	cfg.segment_hop_seconds = (float) PG_GETARG_FLOAT8(3);
	mel = sid_mel_create(&cfg, &err);
	if (mel == NULL)
		ereport(ERROR,
				(errcode(sampleid_sqlstate(err.code, SAMPLEID_SUBJECT_ARGUMENT)),
				 errmsg("invalid feature configuration: %s", err.msg)));
	frames = sid_mel_frames_per_segment(mel);
	if (frames > max_segment_frames)
	{
		sid_mel_free(mel);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a window of %g s with hop_length %d has %d frames, more than sampleid.max_segment_frames (%d)",
						(double) cfg.segment_seconds, (int) cfg.hop_length, frames, max_segment_frames),
				 errhint("Use a larger hop_length or a shorter window.")));
	}
	return mel;
}

/*
 * Refuse, before any feature is computed, a call whose rows would exceed
 * sampleid.max_segment_output in all (sampleid.max_segment_frames per segment
 * is checked in mel_from_args): both follow from the caller's arguments, and
 * hop_length = 1 with a long window makes gigabytes of a short clip.
 */
static void
check_segment_output(const sid_mel *mel, int64 n_seg)
{
	int64		per = (int64) sid_mel_frames_per_segment(mel) * sid_mel_config(mel)->n_mels;
	double		bytes = (double) n_seg * (double) per * sizeof(float4);

	if (bytes > (double) max_segment_output_kilobytes * 1024.0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%lld segments of %lld log-mel values are %.0f kB, more than sampleid.max_segment_output (%d kB)",
						(long long) n_seg, (long long) per, ceil(bytes / 1024.0),
						max_segment_output_kilobytes),
				 errhint("Use a larger hop_length or window_hop_seconds, or shorter audio.")));
}

/*
 * Compute the segments in batches and put one row per segment.  The batch is
 * palloc'd in the caller's context; the library's own scratch (the frame grid
 * in mel) grows only to one batch.
 */
static void
put_segment_rows(ReturnSetInfo *rsinfo, sid_mel *mel, const sid_pcm *pcm, int64 n_seg)
{
	int			frames = sid_mel_frames_per_segment(mel);
	int			n_mels = sid_mel_config(mel)->n_mels;
	int64		per = (int64) frames * n_mels;
	int64		batch_segs = Max(1, Min(SEGMENT_BATCH, SEGMENT_BATCH_BYTES / (per * (int64) sizeof(float))));
	float	   *batch = palloc(sizeof(float) * (Size) (per * Min(n_seg, batch_segs)));
	double		t_start[SEGMENT_BATCH];
	sid_error	err;
	sid_status	st;
	int64		first;

	for (first = 0; first < n_seg; first += batch_segs)
	{
		int64		count = Min(batch_segs, n_seg - first);
		int64		s;

		CHECK_FOR_INTERRUPTS();
		st = sid_mel_segments(mel, pcm->samples, pcm->n_samples, first, count, batch, t_start, &err);
		if (st != SID_OK)
			sampleid_report_audio_error(st, &err);	/* memory freed in PG_FINALLY */
		for (s = 0; s < count; s++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			CHECK_FOR_INTERRUPTS();
			values[0] = Int32GetDatum((int32) (first + s));
			values[1] = Float8GetDatum(t_start[s]);
			values[2] = PointerGetDatum(mel_array(batch + s * per, frames, n_mels));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			pfree(DatumGetPointer(values[2]));
		}
	}
	pfree(batch);
}

/*
 * Decode (from bytes or a file), then emit one row per segment.  pcm and mel
 * are malloc'd by the library and freed on every path.
 */
static void
emit_segments(FunctionCallInfo fcinfo, const void *bytes, size_t len, const char *path)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	sid_mel    *volatile mel = NULL;
	sid_pcm		pcm = {NULL, 0, 0};
	sid_audio_limits lim;
	sid_error	err;
	sid_status	st;

	InitMaterializedSRF(fcinfo, 0);
	mel = mel_from_args(fcinfo);
	sampleid_audio_limits(&lim);
	if (path != NULL)
		st = sid_audio_decode_file(path, sid_mel_config(mel)->sample_rate, &lim, NULL, &pcm, &err);
	else
		st = sid_audio_decode_memory(bytes, len, sid_mel_config(mel)->sample_rate, &lim, NULL, &pcm, &err);
	if (st != SID_OK)
	{
		sid_mel_free(mel);
		sampleid_report_audio_error(st, &err);
	}

	PG_TRY();
	{
		int64		n_seg = sid_mel_n_segments(mel, pcm.n_samples);

		if (n_seg > INT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("audio gives %lld segments, more than %d", (long long) n_seg, INT_MAX)));
		check_segment_output(mel, n_seg);
		put_segment_rows(rsinfo, mel, &pcm, n_seg);
	}
	PG_FINALLY();
	{
		sid_pcm_free(&pcm);
		sid_mel_free(mel);
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(sampleid_audio_segments);
Datum
sampleid_audio_segments(PG_FUNCTION_ARGS)
{
	bytea	   *audio = PG_GETARG_BYTEA_PP(0);

	emit_segments(fcinfo, VARDATA_ANY(audio), VARSIZE_ANY_EXHDR(audio), NULL);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(sampleid_audio_file_segments);
Datum
sampleid_audio_file_segments(PG_FUNCTION_ARGS)
{
	char	   *path = sampleid_checked_path(PG_GETARG_TEXT_PP(0));

	emit_segments(fcinfo, NULL, 0, path);
	return (Datum) 0;
}
