/*
 * cmd_ingest.c - `sampleid ingest --dsn DSN [--model M] PATH...`: fingerprint
 * audio files on this machine and stream the fingerprints to a server's
 * catalogue tables with COPY BINARY.
 *
 * Worker threads read, hash, decode and embed whole files (one embedder
 * each); the main thread writes the results in input order, one recording
 * row and its segments at a time, committing every --batch recordings, so an
 * interruption (SIGINT, SIGTERM) loses nothing committed and the next run
 * skips what is already there (same path and content hash).  Workers run
 * at most a window of files ahead of the writer, which bounds memory.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_catalogue.h"
#include "cli_inputs.h"
#include "cli_model.h"
#include "cli_pq.h"
#include "audio/sid_audio.h"
#include "core/sid_clock.h"
#include "core/sid_progress.h"
#include "core/sid_sha256.h"
#include "model/sid_embed.h"
#include "model/sid_model_dir.h"

#define CMD "ingest"

typedef struct ingest_options
{
	const char *dsn;
	const char *model_spec;
	const char *model_dir;
	const char *recordings;
	const char *segments;
	const char *list_file;
	const char *artist;
	const char *rights_holder;
	int			create;
	int			distribute;
	int			replace;
	int			refingerprint;
	int			threads;
	int			batch;
	cli_columns columns;
} ingest_options;

/* One input file on its way through a worker to the writer. */
typedef struct ingest_job
{
	const cli_input *in;
	const char *known_sha256;	/* the catalogue's hash for this path, NULL if new */
	const char *known_model_sha256; /* and of the model that fingerprinted it */
	char		known_id[24];
	char		sha256[SID_SHA256_HEX_LEN + 1];
	int			ready;
	int			unchanged;		/* already in the catalogue with this content */
	double		seconds;
	sid_embed_result res;
	char		error[512];		/* not empty: the file failed */
} ingest_job;

typedef struct ingest_pool
{
	pthread_mutex_t mu;
	pthread_cond_t cv;
	ingest_job *jobs;
	size_t		n_jobs;
	size_t		next_take;
	size_t		next_write;
	size_t		window;
	int			stop;
	const sid_model *model;
	sid_audio_limits lim;
	int			replace;
} ingest_pool;

typedef struct ingest_worker
{
	ingest_pool *pool;
	sid_embedder *emb;
	pthread_t	thread;
} ingest_worker;

static int
decoding_interrupted(void *arg)
{
	(void) arg;
	return cli_stop_signal != 0;
}

static const struct option ingest_opts[] = {
	{"dsn", required_argument, NULL, 'd'},
	{"model", required_argument, NULL, 'm'},
	{"model-dir", required_argument, NULL, 'D'},
	{"recordings", required_argument, NULL, 'r'},
	{"segments", required_argument, NULL, 's'},
	{"list", required_argument, NULL, 'l'},
	{"artist", required_argument, NULL, 'a'},
	{"rights-holder", required_argument, NULL, 'R'},
	{"create", no_argument, NULL, 'c'},
	{"distribute", no_argument, NULL, 'u'},
	{"replace", no_argument, NULL, 'x'},
	{"refingerprint", no_argument, NULL, 'F'},
	{"column", required_argument, NULL, 'C'},
	{"threads", required_argument, NULL, 't'},
	{"batch", required_argument, NULL, 'b'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
ingest_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid ingest --dsn DSN [--model M] [--model-dir DIR]\n"
			"                       [--recordings TABLE] [--segments TABLE] [--create | --distribute]\n"
			"                       [--replace] [--threads N] [--batch N] [--list FILE] [--artist A]\n"
			"                       [--rights-holder R] [--column LOGICAL=ACTUAL]... PATH...\n"
			"Fingerprints audio files here and copies them into a catalogue: one row per file in\n"
			"TABLE recordings (default \"recordings\"), one per segment in \"segments\".\n"
			"PATH is a file, a folder (searched recursively for audio), a glob pattern, or \"-\"\n"
			"  for a list on stdin; --list FILE reads a list: \"path[TAB title[TAB artist[TAB\n"
			"  rights holder]]]\" a line.\n"
			"--create makes the tables (and an empty \"matches\" table for sampleid report);\n"
			"  an existing table's columns may have other names: --column audio_path=file ...\n"
			"  (LOGICAL: %s).\n"
			"--distribute: as --create, on a Citus coordinator: the tables are distributed by\n"
			"  recording id and co-located (audio_path is then not UNIQUE; docs/distributed.md).\n"
			"A file already ingested with the same content is skipped; one whose content changed\n"
			"  is refused unless --replace, which re-fingerprints it in one transaction.\n"
			"--refingerprint: after a model change, every recording of the table (and any\n"
			"  PATH) not yet fingerprinted by this model is re-fingerprinted in place, and the\n"
			"  segments table is registered with the new model; resumable like any run.\n"
			"--threads N files at once (default: every core); --batch N recordings per commit\n"
			"  (default 1).  SIGINT/SIGTERM stop after the recording being written; run again\n"
			"  to complete the rest.  The model must be the server's (same SHA-256); the\n"
			"  segments table is registered with sampleid_catalogue_register.\n"
			"Exit status: 0 every file ingested or skipped, 1 some failed, 2 usage,\n"
			"  128+N stopped by signal N.\n", cli_columns_list());
}

/* Returns -1 to go on, else the exit status; the paths start at argv[optind]. */
static int
parse_ingest_options(int argc, char **argv, ingest_options *o)
{
	long		cores = sysconf(_SC_NPROCESSORS_ONLN);
	int			c;

	memset(o, 0, sizeof(*o));
	o->recordings = "recordings";
	o->segments = "segments";
	o->threads = cores < 1 ? 1 : cores > SID_EMBED_MAX_THREADS ? SID_EMBED_MAX_THREADS : (int) cores;
	o->batch = 1;
	cli_columns_default(&o->columns);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", ingest_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				o->dsn = optarg;
				break;
			case 'm':
				o->model_spec = optarg;
				break;
			case 'D':
				o->model_dir = optarg;
				break;
			case 'r':
				o->recordings = optarg;
				break;
			case 's':
				o->segments = optarg;
				break;
			case 'l':
				o->list_file = optarg;
				break;
			case 'a':
				o->artist = optarg;
				break;
			case 'R':
				o->rights_holder = optarg;
				break;
			case 'c':
				o->create = 1;
				break;
			case 'u':
				o->create = o->distribute = 1;
				break;
			case 'x':
				o->replace = 1;
				break;
			case 'F':
				o->refingerprint = o->replace = 1;
				break;
			case 'C':
				if (cli_columns_set(&o->columns, CMD, optarg) != 0)
					return 2;
				break;
			case 't':
				if (cli_int_option(CMD, "--threads", optarg, 1, SID_EMBED_MAX_THREADS, &o->threads))
					return 2;
				break;
			case 'b':
				if (cli_int_option(CMD, "--batch", optarg, 1, 10000, &o->batch))
					return 2;
				break;
			default:
				return cli_usage(ingest_usage, c == 'h');
		}
	}
	if (!o->dsn)
	{
		fprintf(stderr, "sampleid ingest: --dsn is required (see --help)\n");
		return 2;
	}
	if (o->create && o->columns.renamed)
	{
		fprintf(stderr, "sampleid ingest: --create makes the standard columns; --column is for existing tables\n");
		return 2;
	}
	if (optind >= argc && !o->list_file && !o->refingerprint)
	{
		fprintf(stderr, "sampleid ingest: no input files (see --help)\n");
		return 2;
	}
	return -1;
}

/* ---------- the workers ---------- */

/* Reads the file whole (bounded by the input limit) and hashes it. */
static void *
read_and_hash(ingest_job *j, const sid_audio_limits *lim, size_t *len)
{
	struct stat st;
	FILE	   *fp;
	void	   *data;

	if (stat(j->in->path, &st) != 0)
	{
		snprintf(j->error, sizeof(j->error), "%s", strerror(errno));
		return NULL;
	}
	/* checked before opening: opening a FIFO would wait for a writer */
	if (!S_ISREG(st.st_mode) || st.st_size > lim->max_input_bytes)
	{
		snprintf(j->error, sizeof(j->error), S_ISREG(st.st_mode)
				 ? "the file is larger than the %lld-byte input limit" : "not a regular file",
				 (long long) lim->max_input_bytes);
		return NULL;
	}
	if (!(fp = fopen(j->in->path, "rb")))
	{
		snprintf(j->error, sizeof(j->error), "%s", strerror(errno));
		return NULL;
	}
	*len = (size_t) st.st_size;
	data = malloc(*len ? *len : 1);
	if (!data || fread(data, 1, *len, fp) != *len)
	{
		snprintf(j->error, sizeof(j->error), "%s", data ? "could not read the file" : "out of memory");
		free(data);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	sid_sha256_hex(data, *len, j->sha256);
	return data;
}

static void
process_job(ingest_job *j, ingest_pool *p, sid_embedder *emb)
{
	size_t		len;
	void	   *data;
	sid_pcm		pcm;
	sid_error	err;

	if (j->in->error)
	{
		snprintf(j->error, sizeof(j->error), "%s", j->in->error);
		return;
	}
	if (!(data = read_and_hash(j, &p->lim, &len)))
		return;
	if (j->known_sha256 && strcmp(j->known_sha256, j->sha256) == 0 &&
		strcmp(j->known_model_sha256, p->model->sha256) == 0)
		j->unchanged = 1;
	else if (j->known_sha256 && strcmp(j->known_sha256, j->sha256) == 0 && !p->replace)
		snprintf(j->error, sizeof(j->error),
				 "recording %s was fingerprinted by another model (sha256 %.12s); --refingerprint redoes it",
				 j->known_id, j->known_model_sha256);
	else if (j->known_sha256 && !p->replace)
		snprintf(j->error, sizeof(j->error),
				 "the content changed since it was ingested (recording %s); --replace re-fingerprints it",
				 j->known_id);
	else
	{
		memset(&pcm, 0, sizeof(pcm));
		if (sid_audio_decode_memory(data, len, p->model->features.sample_rate, &p->lim, NULL,
									&pcm, &err) != SID_OK ||
			sid_embed_pcm(emb, SID_DEVICE_CPU, pcm.samples, pcm.n_samples, &j->res, &err) != SID_OK)
			snprintf(j->error, sizeof(j->error), "%s", err.msg);
		else
			j->seconds = (double) pcm.n_samples / pcm.sample_rate;
		sid_pcm_free(&pcm);
	}
	free(data);
}

static void *
worker_main(void *arg)
{
	ingest_worker *w = arg;
	ingest_pool *p = w->pool;

	pthread_mutex_lock(&p->mu);
	for (;;)
	{
		size_t		i;

		while (!p->stop && p->next_take < p->n_jobs && p->next_take >= p->next_write + p->window)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop || p->next_take >= p->n_jobs)
			break;
		i = p->next_take++;
		pthread_mutex_unlock(&p->mu);
		process_job(&p->jobs[i], p, w->emb);
		pthread_mutex_lock(&p->mu);
		p->jobs[i].ready = 1;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* ---------- the catalogue ---------- */

/* What the writer needs to know about the server's tables. */
typedef struct catalogue
{
	PGconn	   *conn;
	char		recordings[300];	/* quoted identifiers */
	char		segments[300];
	char		model_name[256];
	const char *model_sha256;	/* the loaded model's */
	PGresult   *known;			/* audio_path, content_sha256, id, model_sha256; by path */
	cli_columns col;			/* quoted */
	int			dim;
} catalogue;

static const char *const create_sql =
"CREATE TABLE IF NOT EXISTS %1$s (\n"
"    id             bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n"
"    title          text,\n"
"    artist         text,\n"
"    rights_holder  text,\n"
"    audio_path     text NOT NULL%4$s,\n"
"    content_sha256 text NOT NULL,\n"
"    duration_s     real,\n"
"    model          text NOT NULL,\n"
"    model_sha256   text NOT NULL,\n"
"    ingested_at    timestamptz NOT NULL DEFAULT now());\n"
"CREATE TABLE IF NOT EXISTS %2$s (\n"
"    recording_id   bigint NOT NULL%5$s,\n"
"    seg            int NOT NULL,\n"
"    t_start        real NOT NULL,\n"
"    fp             fingerprint(%3$d) NOT NULL,\n"
"    PRIMARY KEY (recording_id, seg));\n"
"CREATE TABLE IF NOT EXISTS matches (\n"
"    work            text NOT NULL,\n"
"    recording_id    bigint NOT NULL%5$s,\n"
"    work_start      real NOT NULL,\n"
"    work_end        real NOT NULL,\n"
"    recording_start real NOT NULL,\n"
"    recording_end   real NOT NULL,\n"
"    confidence      real NOT NULL,\n"
"    model           text NOT NULL,\n"
"    semitones       real,\n"
"    tempo           real,\n"
"    matched_at      timestamptz NOT NULL DEFAULT now(),\n"
"    CHECK (work_end >= work_start AND recording_end >= recording_start));\n"
"CREATE INDEX IF NOT EXISTS matches_work ON matches (work);\n";

/*
 * --distribute: Citus places a recording's row, its segments and its uses on
 * one shard group, so the tables' foreign keys hold within a shard.  Citus
 * enforces only uniqueness that includes the distribution column, hence no
 * UNIQUE audio_path (create_sql's %4$s), and a foreign key is added only once
 * both its tables are distributed (%5$s).
 */
static int
distribute_catalogue(catalogue *cat)
{
	const char *const tables[3][2] = {
		{cat->recordings, "id"}, {cat->segments, "recording_id"}, {"matches", "recording_id"}};
	char		sql[1024];
	PGresult   *res;

	for (int i = 0; i < 3; i++)
	{
		const char *params[3] = {tables[i][0], tables[i][1], i == 0 ? "default" : cat->recordings};

		if (!(res = cli_pq_exec(cat->conn, CMD,
								"SELECT create_distributed_table($1::regclass, $2, colocate_with => $3) "
								"WHERE NOT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = $1::regclass)",
								3, params)))
			return -1;
		PQclear(res);
		if (i == 0)
			continue;
		if (!(res = cli_pq_exec(cat->conn, CMD, "SELECT FROM pg_constraint WHERE conrelid = $1::regclass "
								"AND contype = 'f'", 1, params)))
			return -1;
		if (PQntuples(res) == 0)
		{
			snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD FOREIGN KEY (recording_id) REFERENCES %s ON DELETE CASCADE",
					 tables[i][0], cat->recordings);
			if (cli_pq_run(cat->conn, CMD, sql) != 0)
			{
				PQclear(res);
				return -1;
			}
		}
		PQclear(res);
	}
	return 0;
}

/* Before --distribute creates anything: the server is a Citus node. */
static int
check_citus(catalogue *cat)
{
	PGresult   *res = cli_pq_exec(cat->conn, CMD, "SELECT FROM pg_extension WHERE extname = 'citus'", 0, NULL);
	int			found;

	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	PQclear(res);
	if (!found)
		fprintf(stderr, "sampleid ingest: --distribute needs Citus on the server (CREATE EXTENSION citus "
				"on a coordinator; docs/distributed.md)\n");
	return found ? 0 : -1;
}

/* The local model must be the file the server has under the same name. */
static int
check_server_model(catalogue *cat, const sid_model *model)
{
	const char *params[1] = {cat->model_name};
	PGresult   *res = cli_pq_exec(cat->conn, CMD,
								  "SELECT sha256 FROM sampleid_models() WHERE name = $1", 1, params);
	int			rc = -1;

	if (!res)
		return -1;
	if (PQntuples(res) == 0)
		fprintf(stderr, "sampleid ingest: the server has no model \"%s\" (see sampleid_models() there)\n",
				cat->model_name);
	else if (strcmp(PQgetvalue(res, 0, 0), model->sha256) != 0)
		fprintf(stderr, "sampleid ingest: the local model \"%s\" (sha256 %.12s) is not the server's "
				"(sha256 %.12s): install the same file on both\n",
				cat->model_name, model->sha256, PQgetvalue(res, 0, 0));
	else
		rc = 0;
	PQclear(res);
	return rc;
}

/* Every column the run writes exists: an error names the first missing one. */
static int
check_columns(catalogue *cat)
{
	char		seg_cols[CLI_COLUMNS_JOIN_LEN],
				rec_cols[CLI_COLUMNS_JOIN_LEN],
				sql[2 * CLI_COLUMNS_JOIN_LEN + 1024];

	cli_columns_join(&cat->col, CLI_COL_RECORDING_ID, CLI_COL_FP, 0, seg_cols, sizeof(seg_cols));
	cli_columns_join(&cat->col, CLI_COL_ID, CLI_COL_MODEL_SHA256, 0, rec_cols, sizeof(rec_cols));
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s LIMIT 0; SELECT %s FROM %s LIMIT 0",
			 seg_cols, cat->segments, rec_cols, cat->recordings);
	if (cli_pq_run(cat->conn, CMD, sql) == 0)
		return 0;
	fprintf(stderr, "hint: \"sampleid ingest --create\" makes the tables, and --column renames "
			"a column; docs/reference.md gives them\n");
	return -1;
}

/* Creates the tables when asked, checks their columns, registers the model. */
static int
prepare_catalogue(catalogue *cat, const ingest_options *o, const sid_model *model)
{
	char		sql[4096],
				references[400];
	const char *params[3];
	PGresult   *res;

	cat->col = o->columns;
	if (cli_pq_quote_name(cat->conn, o->recordings, cat->recordings, sizeof(cat->recordings)) ||
		cli_pq_quote_name(cat->conn, o->segments, cat->segments, sizeof(cat->segments)) ||
		cli_columns_quote(&cat->col, cat->conn) != 0)
	{
		fprintf(stderr, "sampleid ingest: table or column names too long\n");
		return -1;
	}
	if (check_server_model(cat, model) != 0 || (o->distribute && check_citus(cat) != 0))
		return -1;
	snprintf(references, sizeof(references), " REFERENCES %s ON DELETE CASCADE", cat->recordings);
	snprintf(sql, sizeof(sql), create_sql, cat->recordings, cat->segments, cat->dim,
			 o->distribute ? "" : " UNIQUE", o->distribute ? "" : references);
	if (o->create && cli_pq_run(cat->conn, CMD, sql) != 0)
		return -1;
	if (o->distribute && distribute_catalogue(cat) != 0)
		return -1;
	if (check_columns(cat) != 0)
		return -1;
	params[0] = o->segments;
	params[1] = cat->model_name;
	params[2] = o->refingerprint ? "true" : "false";
	if (!(res = cli_pq_exec(cat->conn, CMD, "SELECT sampleid_catalogue_register($1::regclass, $2, $3)",
							3, params)))
		return -1;
	PQclear(res);
	snprintf(sql, sizeof(sql), "SELECT %1$s, %2$s, %3$s, %4$s FROM %5$s ORDER BY %1$s COLLATE \"C\"",
			 cat->col.quoted[CLI_COL_AUDIO_PATH], cat->col.quoted[CLI_COL_CONTENT_SHA256],
			 cat->col.quoted[CLI_COL_ID], cat->col.quoted[CLI_COL_MODEL_SHA256], cat->recordings);
	cat->known = cli_pq_exec(cat->conn, CMD, sql, 0, NULL);
	return cat->known ? 0 : -1;
}

/* The row of cat->known for path, or -1. */
static int
find_known(const catalogue *cat, const char *path)
{
	int			lo = 0,
				hi = PQntuples(cat->known) - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(PQgetvalue(cat->known, mid, 0), path);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* The title a file gets without one from a list: its name without folder and extension. */
static void
default_title(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');

	snprintf(out, len, "%.*s", (int) (dot && dot > base ? dot - base : (long) strlen(base)), base);
}

/* The recording's row, inserted or (--replace) updated with its segments dropped: its id. */
static int
write_recording_row(catalogue *cat, const ingest_job *j, const ingest_options *o, char *id, size_t id_len)
{
	char		title[512],
				secs[32],
				cols[CLI_COLUMNS_JOIN_LEN],
				sql[CLI_COLUMNS_JOIN_LEN + 1024];
	const char *params[9];
	const char *id_col = cat->col.quoted[CLI_COL_ID];
	PGresult   *res;

	default_title(j->in->path, title, sizeof(title));
	snprintf(secs, sizeof(secs), "%.3f", j->seconds);
	params[0] = j->in->title ? j->in->title : title;
	params[1] = j->in->artist ? j->in->artist : o->artist;
	params[2] = j->in->rights_holder ? j->in->rights_holder : o->rights_holder;
	params[3] = j->in->path;
	params[4] = j->sha256;
	params[5] = secs;
	params[6] = cat->model_name;
	params[7] = cat->model_sha256;
	params[8] = j->known_id;
	if (j->known_sha256)
	{
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s = $1", cat->segments,
				 cat->col.quoted[CLI_COL_RECORDING_ID]);
		if (!(res = cli_pq_exec(cat->conn, CMD, sql, 1, params + 8)))
			return -1;
		PQclear(res);
		cli_columns_join(&cat->col, CLI_COL_TITLE, CLI_COL_MODEL_SHA256, 1, cols, sizeof(cols));
		snprintf(sql, sizeof(sql), "UPDATE %s SET %s WHERE %s = $9 RETURNING %s",
				 cat->recordings, cols, id_col, id_col);
	}
	else
	{
		/* the columns in the order of params */
		cli_columns_join(&cat->col, CLI_COL_TITLE, CLI_COL_MODEL_SHA256, 0, cols, sizeof(cols));
		snprintf(sql, sizeof(sql),
				 "INSERT INTO %s (%s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING %s",
				 cat->recordings, cols, id_col);
	}
	if (!(res = cli_pq_exec(cat->conn, CMD, sql, j->known_sha256 ? 9 : 8, params)))
		return -1;
	snprintf(id, id_len, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return id[0] ? 0 : -1;
}

/* One recording and its segments; the caller's transaction is open. */
static int
write_recording(catalogue *cat, const ingest_job *j, const ingest_options *o, cli_copy_buf *b)
{
	char		id[24],
				cols[CLI_COLUMNS_JOIN_LEN],
				sql[CLI_COLUMNS_JOIN_LEN + 512];
	int64_t		rid;

	if (write_recording_row(cat, j, o, id, sizeof(id)) != 0)
		return -1;
	rid = strtoll(id, NULL, 10);
	cli_copy_reset(b);
	for (int64_t s = 0; s < j->res.n_segments; s++)
	{
		cli_copy_row(b, 4);
		cli_copy_int8(b, rid);
		cli_copy_int4(b, (int32_t) s);
		cli_copy_float4(b, (float) j->res.t_start[s]);
		cli_copy_fingerprint(b, j->res.fp + (size_t) s * j->res.dim, j->res.dim);
	}
	cli_columns_join(&cat->col, CLI_COL_RECORDING_ID, CLI_COL_FP, 0, cols, sizeof(cols));
	snprintf(sql, sizeof(sql), "COPY %s (%s) FROM STDIN (FORMAT binary)", cat->segments, cols);
	return cli_pq_copy(cat->conn, CMD, sql, b) == j->res.n_segments ? 0 : -1;
}

/* ---------- the writer ---------- */

typedef struct ingest_tally
{
	long		ingested;
	long		unchanged;
	long		failed;
	int			tty;			/* stderr is a terminal: a progress bar, else log lines */
	sid_progress_meter meter;
} ingest_tally;

/* One line about a file (always for failures, per file without a terminal), then the bar. */
static void
report_job(ingest_tally *t, const ingest_job *j)
{
	char		bar[256];

	sid_progress_meter_add(&t->meter, j->seconds);
	if (t->tty)
		fputs("\r\033[K", stderr);
	if (j->error[0])
		fprintf(stderr, "sampleid ingest: failed \"%s\": %s\n", j->in->path, j->error);
	else if (!t->tty && j->unchanged)
		fprintf(stderr, "sampleid ingest: unchanged \"%s\" (already ingested)\n", j->in->path);
	else if (!t->tty)
		fprintf(stderr, "sampleid ingest: ok \"%s\" (%.1f s, %lld segments)\n", j->in->path,
				j->seconds, (long long) j->res.n_segments);
	t->failed += j->error[0] != 0;
	t->unchanged += !j->error[0] && j->unchanged;
	t->ingested += !j->error[0] && !j->unchanged;
	if (t->tty)
	{
		sid_progress_meter_format(&t->meter, 30, bar, sizeof(bar));
		fputs(bar, stderr);
	}
	fflush(stderr);
}

/* Waits for job i; tells the workers when the writer is done with it. */
static void
wait_for_job(ingest_pool *p, size_t i)
{
	pthread_mutex_lock(&p->mu);
	while (!p->jobs[i].ready)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static void
release_job(ingest_pool *p, size_t i)
{
	sid_embed_result_free(&p->jobs[i].res);
	pthread_mutex_lock(&p->mu);
	p->next_write = i + 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Writes every job in order; -1 on a server error (the open batch is rolled back). */
static int
write_all(catalogue *cat, ingest_pool *p, const ingest_options *o, ingest_tally *t)
{
	cli_copy_buf b;
	int			in_batch = 0,
				rc = 0;

	cli_copy_init(&b);
	for (size_t i = 0; i < p->n_jobs && rc == 0 && !cli_stop_signal; i++)
	{
		ingest_job *j = &p->jobs[i];

		wait_for_job(p, i);
		/* its decoding may have been cut short by the stop: the next run redoes it */
		if (cli_stop_signal && j->error[0])
			break;
		if (!j->error[0] && !j->unchanged)
		{
			if ((in_batch == 0 && cli_pq_run(cat->conn, CMD, "BEGIN") != 0) ||
				write_recording(cat, j, o, &b) != 0)
				rc = -1;
			in_batch++;
		}
		if (rc == 0)
			report_job(t, j);
		release_job(p, i);
		/* a stop request ends the batch early: what is written is kept */
		if (rc == 0 && in_batch > 0 &&
			(in_batch >= o->batch || cli_stop_signal || i + 1 == p->n_jobs))
		{
			rc = cli_pq_run(cat->conn, CMD, "COMMIT");
			in_batch = 0;
		}
	}
	if (rc != 0 && in_batch > 0)
	{
		fprintf(stderr, "sampleid ingest: the last %d recording(s), not committed, are rolled back\n",
				in_batch);
		PQclear(PQexec(cat->conn, "ROLLBACK"));
	}
	cli_copy_free(&b);
	return rc;
}

/* ---------- the run ---------- */

static void
model_name_of(const char *spec, char *out, size_t len)
{
	const char *base;

	if (!spec)
	{
		snprintf(out, len, "%s", SID_DEFAULT_MODEL);
		return;
	}
	base = strrchr(spec, '/') ? strrchr(spec, '/') + 1 : spec;
	snprintf(out, len, "%s", base);
	if (strlen(out) > strlen(SID_MODEL_SUFFIX) &&
		strcmp(out + strlen(out) - strlen(SID_MODEL_SUFFIX), SID_MODEL_SUFFIX) == 0)
		out[strlen(out) - strlen(SID_MODEL_SUFFIX)] = '\0';
}

/* Starts one worker per embedder; returns how many started. */
static int
start_workers(ingest_pool *p, ingest_worker *w, int n, double hop)
{
	sid_error	err;
	int			started = 0;

	for (; started < n; started++)
	{
		w[started].pool = p;
		if (!(w[started].emb = sid_embedder_create(p->model, hop, 16, &err)))
		{
			fprintf(stderr, "sampleid ingest: %s\n", err.msg);
			break;
		}
		if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0)
		{
			fprintf(stderr, "sampleid ingest: cannot start a worker thread\n");
			sid_embedder_free(w[started].emb);
			break;
		}
	}
	return started;
}

static void
stop_workers(ingest_pool *p, ingest_worker *w, int n)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < n; i++)
	{
		pthread_join(w[i].thread, NULL);
		sid_embedder_free(w[i].emb);
	}
}

static int
summarise(const ingest_tally *t, size_t n_files, int server_failed)
{
	double		elapsed = sid_clock_seconds(CLOCK_MONOTONIC) - t->meter.started;

	if (t->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "sampleid ingest: %ld ingested, %ld unchanged, %ld failed of %zu files; "
			"%.2f h of audio in %.1f s (%.1fx real time)\n",
			t->ingested, t->unchanged, t->failed, n_files, t->meter.audio_seconds / 3600.0,
			elapsed, elapsed > 0 ? t->meter.audio_seconds / elapsed : 0.0);
	if (cli_stop_signal)
	{
		fprintf(stderr, "sampleid ingest: stopped by signal %d; what was committed is kept: "
				"run the same command again to complete the rest\n", (int) cli_stop_signal);
		return 128 + cli_stop_signal;
	}
	return server_failed || t->failed ? 1 : 0;
}

/* The jobs for the inputs, each told what the catalogue already holds for its path. */
static ingest_job *
make_jobs(const cli_inputs *in, const catalogue *cat)
{
	ingest_job *jobs = calloc(in->n ? in->n : 1, sizeof(ingest_job));

	for (size_t i = 0; jobs && i < in->n; i++)
	{
		int			k = find_known(cat, in->v[i].path);

		jobs[i].in = &in->v[i];
		if (k >= 0)
		{
			jobs[i].known_sha256 = PQgetvalue(cat->known, k, 1);
			jobs[i].known_model_sha256 = PQgetvalue(cat->known, k, 3);
			snprintf(jobs[i].known_id, sizeof(jobs[i].known_id), "%s", PQgetvalue(cat->known, k, 2));
		}
	}
	return jobs;
}

static int
run_ingest(catalogue *cat, const cli_inputs *in, const sid_model *model, const ingest_options *o)
{
	ingest_pool p;
	ingest_worker w[SID_EMBED_MAX_THREADS];
	ingest_tally t;
	int			started,
				rc;

	memset(&p, 0, sizeof(p));
	memset(&t, 0, sizeof(t));
	if (!(p.jobs = make_jobs(in, cat)))
		return 1;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	p.n_jobs = in->n;
	p.window = 2 * (size_t) o->threads;
	p.model = model;
	p.replace = o->replace;
	sid_audio_limits_default(&p.lim);
	p.lim.interrupted = decoding_interrupted;
	cli_catch_stop_signals(1);
	t.tty = isatty(STDERR_FILENO);
	sid_progress_meter_init(&t.meter, (long) in->n);
	started = start_workers(&p, w, o->threads, 0.0);
	rc = started == o->threads ? write_all(cat, &p, o, &t) : -1;
	stop_workers(&p, w, started);
	for (size_t i = 0; i < p.n_jobs; i++)
		sid_embed_result_free(&p.jobs[i].res);
	free(p.jobs);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	return summarise(&t, in->n, rc != 0);
}

/*
 * The inputs: the arguments and list, and with --refingerprint every path
 * the catalogue holds (the run skips those this model already did).
 */
static int
collect_inputs(const catalogue *cat, const ingest_options *o, char **args, int n_args,
			   cli_inputs *in)
{
	int			n_known = o->refingerprint ? PQntuples(cat->known) : 0;
	char	  **all = malloc(sizeof(char *) * (size_t) (n_args + n_known + 1));
	int			rc;

	if (!all)
		return -1;
	for (int i = 0; i < n_args; i++)
		all[i] = args[i];
	for (int k = 0; k < n_known; k++)
		all[n_args + k] = PQgetvalue(cat->known, k, 0);
	rc = cli_inputs_collect(CMD, all, n_args + n_known, o->list_file, in);
	free(all);
	return rc;
}

int
cmd_ingest(int argc, char **argv)
{
	ingest_options o;
	int			status = parse_ingest_options(argc, argv, &o);
	catalogue	cat;
	cli_inputs	in;
	sid_model  *model;

	if (status >= 0)
		return status;
	memset(&cat, 0, sizeof(cat));
	memset(&in, 0, sizeof(in));
	model_name_of(o.model_spec, cat.model_name, sizeof(cat.model_name));
	sid_nn_set_threads(1);		/* the worker threads are the parallelism */
	if (!(model = cli_load_model(o.model_spec, o.model_dir)))
		return 1;
	cat.dim = model->enc->cfg.embed_dim;
	cat.model_sha256 = model->sha256;
	status = 1;
	if ((cat.conn = cli_pq_connect(CMD, o.dsn)) && prepare_catalogue(&cat, &o, model) == 0 &&
		collect_inputs(&cat, &o, argv + optind, argc - optind, &in) == 0)
		status = run_ingest(&cat, &in, model, &o);
	PQclear(cat.known);
	PQfinish(cat.conn);
	cli_inputs_free(&in);
	sid_model_free(model);
	return status;
}
