/*
 * cmd_embed.c - `sampleid embed [--model M] [--hop S] [--out DIR] FILE...`:
 * fingerprints of every segment of every file, as TSV on stdout (file, seg,
 * t_start, fingerprint) or as .npy arrays per file.  Unreadable files are
 * reported and skipped; the exit status is then 1.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_model.h"
#include "audio/sid_audio.h"
#include "model/sid_embed.h"

/* What the options ask for. */
typedef struct embed_options
{
	const char *model_spec;		/* NULL: the default model */
	const char *dir_opt;
	const char *out_dir;		/* NULL: TSV on stdout */
	double		hop;			/* 0: the model's segment hop */
	int			batch;
	int			threads;
} embed_options;

static const struct option embed_opts[] = {
	{"model", required_argument, NULL, 'm'},
	{"model-dir", required_argument, NULL, 'D'},
	{"hop", required_argument, NULL, 'H'},
	{"batch", required_argument, NULL, 'b'},
	{"threads", required_argument, NULL, 't'},
	{"out", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
embed_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid embed [--model M] [--model-dir DIR] [--hop S] [--batch N]\n"
			"                      [--threads N] [--out DIR] FILE...\n"
			"Fingerprints every segment of each FILE.  Without --out: TSV lines\n"
			"  file, seg, t_start (s), fingerprint ([x1,...]).\n"
			"--threads N: N files at once, or one file's windows on N threads (default 1).\n"
			"With --out DIR (made when missing): DIR/BASENAME.npy (float32 [segments, dims])\n"
			"  and DIR/BASENAME.times.npy (float64 [segments], start seconds); two inputs with\n"
			"  the same BASENAME are refused rather than one overwriting the other.\n"
			"--model is a name in the model directory or a path; the default \"fp\"\n"
			"must be a trained model.  --hop overrides the model's segment hop.\n");
}

/* NumPy .npy version 1.0: magic, header length, a dict padded to 64 bytes. */
static int
write_npy(const char *path, const char *descr, const void *data, size_t elem, int64_t rows,
		  int64_t cols)
{
	char		header[256];
	int			n;
	FILE	   *fp;
	size_t		count = (size_t) rows * (cols > 0 ? (size_t) cols : 1);
	int			ok;

	if (cols > 0)
		n = snprintf(header, sizeof(header), "{'descr': '%s', 'fortran_order': False, 'shape': (%lld, %lld), }",
					 descr, (long long) rows, (long long) cols);
	else
		n = snprintf(header, sizeof(header), "{'descr': '%s', 'fortran_order': False, 'shape': (%lld,), }",
					 descr, (long long) rows);
	while ((10 + n + 1) % 64 != 0)
		header[n++] = ' ';
	header[n++] = '\n';
	fp = fopen(path, "wb");
	if (!fp)
		return -1;
	ok = fwrite("\x93NUMPY\x01\x00", 1, 8, fp) == 8 &&
		fputc(n & 0xff, fp) != EOF && fputc(n >> 8, fp) != EOF &&
		fwrite(header, 1, n, fp) == (size_t) n &&
		fwrite(data, elem, count, fp) == count;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

static const char *
base_name(const char *path)
{
	return strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

static int
write_outputs(const char *dir, const char *file, const sid_embed_result *r)
{
	const char *base = base_name(file);
	char		path[4096];

	snprintf(path, sizeof(path), "%s/%s.npy", dir, base);
	if (write_npy(path, "<f4", r->fp, sizeof(float), r->n_segments, r->dim) != 0)
	{
		fprintf(stderr, "sampleid embed: could not write \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s.times.npy", dir, base);
	if (write_npy(path, "<f8", r->t_start, sizeof(double), r->n_segments, 0) != 0)
	{
		fprintf(stderr, "sampleid embed: could not write \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
print_tsv(const char *file, const sid_embed_result *r)
{
	for (int64_t s = 0; s < r->n_segments; s++)
	{
		const float *v = r->fp + (size_t) s * r->dim;

		printf("%s\t%lld\t%.6f\t[", file, (long long) s, r->t_start[s]);
		for (int i = 0; i < r->dim; i++)
			printf(i ? ",%.9g" : "%.9g", (double) v[i]);
		printf("]\n");
	}
}

/* Returns -1 to go on, else the exit status; the files start at argv[optind]. */
static int
parse_embed_options(int argc, char **argv, embed_options *o)
{
	int			c;

	memset(o, 0, sizeof(*o));
	o->batch = 64;
	o->threads = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", embed_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'm':
				o->model_spec = optarg;
				break;
			case 'D':
				o->dir_opt = optarg;
				break;
			case 'H':
				if (cli_double_option("embed", "--hop", optarg, 0, 3600, &o->hop))
					return 2;
				break;
			case 'b':
				if (cli_int_option("embed", "--batch", optarg, 1, 4096, &o->batch))
					return 2;
				break;
			case 't':
				if (cli_int_option("embed", "--threads", optarg, 1, SID_EMBED_MAX_THREADS, &o->threads))
					return 2;
				break;
			case 'o':
				o->out_dir = optarg;
				break;
			default:
				return cli_usage(embed_usage, c == 'h');
		}
	}
	if (optind >= argc)
	{
		fprintf(stderr, "sampleid embed: no input files (see --help)\n");
		return 2;
	}
	return -1;
}

static int
by_base_name(const void *a, const void *b)
{
	return strcmp(base_name(*(char *const *) a), base_name(*(char *const *) b));
}

/*
 * --out DIR names outputs by the input's base name: refuses two inputs that
 * would write the same files, and makes DIR (and its parents) when missing.
 * Returns 0, or the exit status having said why.
 */
static int
prepare_out_dir(const char *dir, char **files, int n)
{
	char	  **sorted = malloc(sizeof(char *) * (size_t) n);
	char		path[4096];
	int			rc = 0;

	if (!sorted)
		return 1;
	memcpy(sorted, files, sizeof(char *) * (size_t) n);
	qsort(sorted, (size_t) n, sizeof(char *), by_base_name);
	for (int i = 1; i < n && rc == 0; i++)
		if (strcmp(base_name(sorted[i - 1]), base_name(sorted[i])) == 0)
		{
			fprintf(stderr, "sampleid embed: \"%s\" and \"%s\" would both write %s/%s.npy; "
					"embed them into different --out folders\n", sorted[i - 1], sorted[i], dir,
					base_name(sorted[i]));
			rc = 2;
		}
	free(sorted);
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; rc == 0 && *p; p++)
		if (*p == '/')
		{
			*p = '\0';
			if (mkdir(path, 0777) != 0 && errno != EEXIST)
				rc = 1;
			*p = '/';
		}
	if (rc == 0 && mkdir(path, 0777) != 0 && errno != EEXIST)
		rc = 1;
	if (rc == 1)
		fprintf(stderr, "sampleid embed: cannot make the folder \"%s\": %s\n", path, strerror(errno));
	return rc;
}

/* One embedder per thread; returns 0, or -1 having said why and freed them. */
static int
create_embedders(const sid_model *model, const embed_options *o, sid_embedder **emb)
{
	sid_error	err;

	for (int t = 0; t < o->threads; t++)
		if (!(emb[t] = sid_embedder_create(model, o->hop, o->batch, &err)))
		{
			fprintf(stderr, "sampleid embed: %s\n", err.msg);
			for (int u = 0; u < t; u++)
				sid_embedder_free(emb[u]);
			return -1;
		}
	return 0;
}

/* Decodes, embeds and writes one file; returns 0, or -1 having said why. */
static int
embed_file(const char *file, const sid_model *model, sid_embedder **emb, const embed_options *o,
		   sid_device_kind device, const sid_audio_limits *lim)
{
	sid_pcm		pcm;
	sid_embed_result res;
	sid_error	err;
	int			rc = 0;

	memset(&pcm, 0, sizeof(pcm));
	if (sid_audio_decode_file(file, model->features.sample_rate, lim, NULL, &pcm, &err) != SID_OK ||
		sid_embed_pcm_parallel(emb, o->threads, device, pcm.samples, pcm.n_samples,
							   &res, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid embed: skipping \"%s\": %s\n", file, err.msg);
		sid_pcm_free(&pcm);
		return -1;
	}
	sid_pcm_free(&pcm);
	if (o->out_dir)
		rc = write_outputs(o->out_dir, file, &res);
	else
		print_tsv(file, &res);
	sid_embed_result_free(&res);
	return rc;
}

/*
 * Several files on several threads: each thread takes the next file and
 * decodes and embeds it alone, on its own embedder.  Decoding is one thread
 * per file and most of a file's CPU time, so splitting only the embedding
 * (sid_embed_pcm_parallel, kept for a single file) left the second thread
 * idle.  Results equal sid_embed_pcm_parallel's and are written in the
 * order of the arguments; a thread starts no file more than FILES_AHEAD
 * past the one being written, so held results stay bounded.
 */
#define FILES_AHEAD 4

typedef struct file_job
{
	int			state;			/* 0 pending, 1 embedded, -1 failed */
	sid_embed_result res;
	char		msg[sizeof(((sid_error *) 0)->msg)];
} file_job;

typedef struct file_pool
{
	pthread_mutex_t lock;
	pthread_cond_t changed;
	char	  **files;
	int			n_files;
	int			next_file;		/* next to take */
	int			next_write;		/* next to write, by the main thread */
	int			ahead;			/* most files taken past next_write */
	file_job   *jobs;
	const sid_model *model;
	sid_device_kind device;
	const sid_audio_limits *lim;
} file_pool;

typedef struct pool_worker
{
	file_pool  *pool;
	sid_embedder *emb;
	pthread_t	thread;
} pool_worker;

static void *
pool_work(void *arg)
{
	pool_worker *w = arg;
	file_pool  *p = w->pool;

	for (;;)
	{
		file_job   *job;
		sid_pcm		pcm;
		sid_error	err;
		int			i,
					ok;

		pthread_mutex_lock(&p->lock);
		while (p->next_file < p->n_files && p->next_file >= p->next_write + p->ahead)
			pthread_cond_wait(&p->changed, &p->lock);
		i = p->next_file < p->n_files ? p->next_file++ : -1;
		pthread_mutex_unlock(&p->lock);
		if (i < 0)
			return NULL;
		job = &p->jobs[i];
		memset(&pcm, 0, sizeof(pcm));
		ok = sid_audio_decode_file(p->files[i], p->model->features.sample_rate, p->lim, NULL,
								   &pcm, &err) == SID_OK &&
			sid_embed_pcm(w->emb, p->device, pcm.samples, pcm.n_samples, &job->res, &err) == SID_OK;
		sid_pcm_free(&pcm);
		if (!ok)
			snprintf(job->msg, sizeof(job->msg), "%s", err.msg);
		pthread_mutex_lock(&p->lock);
		job->state = ok ? 1 : -1;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
	}
}

/* Embeds files[0 .. n) on n_threads threads; returns the number that failed. */
static int
embed_files_pooled(char **files, int n, const sid_model *model, sid_embedder **emb,
				   int n_threads, const embed_options *o, sid_device_kind device,
				   const sid_audio_limits *lim)
{
	file_pool	p = {.files = files, .n_files = n, .ahead = FILES_AHEAD, .model = model,
	.device = device, .lim = lim};
	pool_worker workers[SID_EMBED_MAX_THREADS];
	int			started = 0,
				failures = 0;

	if ((p.jobs = calloc((size_t) n, sizeof(file_job))) == NULL)
	{
		fprintf(stderr, "sampleid embed: out of memory\n");
		return n;
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.changed, NULL);
	for (int t = 0; t < n_threads; t++)
	{
		workers[t].pool = &p;
		workers[t].emb = emb[t];
		if (pthread_create(&workers[t].thread, NULL, pool_work, &workers[t]) != 0)
			break;
		started++;
	}
	if (started == 0)
	{
		/* no thread could start: all of it here, before writing */
		pool_worker here = {.pool = &p, .emb = emb[0]};

		p.ahead = n;
		pool_work(&here);
	}
	for (int i = 0; i < n; i++)
	{
		file_job   *job = &p.jobs[i];

		pthread_mutex_lock(&p.lock);
		while (job->state == 0)
			pthread_cond_wait(&p.changed, &p.lock);
		pthread_mutex_unlock(&p.lock);
		if (job->state < 0)
		{
			fprintf(stderr, "sampleid embed: skipping \"%s\": %s\n", files[i], job->msg);
			failures++;
		}
		else
		{
			if (!o->out_dir)
				print_tsv(files[i], &job->res);
			else if (write_outputs(o->out_dir, files[i], &job->res) != 0)
				failures++;
			sid_embed_result_free(&job->res);
		}
		pthread_mutex_lock(&p.lock);
		p.next_write = i + 1;
		pthread_cond_broadcast(&p.changed);
		pthread_mutex_unlock(&p.lock);
	}
	for (int t = 0; t < started; t++)
		pthread_join(workers[t].thread, NULL);
	pthread_cond_destroy(&p.changed);
	pthread_mutex_destroy(&p.lock);
	free(p.jobs);
	return failures;
}

int
cmd_embed(int argc, char **argv)
{
	embed_options o;
	int			status = parse_embed_options(argc, argv, &o);
	sid_model  *model;
	sid_embedder *emb[SID_EMBED_MAX_THREADS] = {NULL};
	sid_audio_limits lim;
	char		why[256];
	int			device,
				failures = 0;

	if (status >= 0)
		return status;
	if (o.out_dir && (status = prepare_out_dir(o.out_dir, argv + optind, argc - optind)) != 0)
		return status;
	device = sid_device_resolve(SID_DEVICE_AUTO, why, sizeof(why));
	if (device == SID_DEVICE_CUDA)
		o.threads = 1;			/* one GPU context, one thread */
	sid_nn_set_threads(1);		/* the embedding threads are the parallelism */
	model = cli_load_model(o.model_spec, o.dir_opt);
	if (!model)
		return 1;
	if (create_embedders(model, &o, emb) != 0)
	{
		sid_model_free(model);
		return 1;
	}
	sid_audio_limits_default(&lim);
	if (o.threads > 1 && argc - optind > 1)
		failures = embed_files_pooled(argv + optind, argc - optind, model, emb,
									  o.threads < argc - optind ? o.threads : argc - optind,
									  &o, (sid_device_kind) device, &lim);
	else
		for (int i = optind; i < argc; i++)
			if (embed_file(argv[i], model, emb, &o, (sid_device_kind) device, &lim) != 0)
				failures++;
	fflush(stdout);
	for (int t = 0; t < o.threads; t++)
		sid_embedder_free(emb[t]);
	sid_model_free(model);
	if (failures)
		fprintf(stderr, "sampleid embed: %d of %d files failed\n", failures, argc - optind);
	return failures ? 1 : 0;
}
