/*
 * cmd_embed.c - `sampleid embed [--model M] [--hop S] [--out DIR] FILE...`:
 * fingerprints of every segment of every file, as TSV on stdout (file, seg,
 * t_start, fingerprint) or as .npy arrays per file.  Unreadable files are
 * reported and skipped; the exit status is then 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_model.h"
#include "audio/sid_audio.h"
#include "model/sid_embed.h"

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

static int
write_outputs(const char *dir, const char *file, const sid_embed_result *r)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
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

int
cmd_embed(int argc, char **argv)
{
	static const struct option opts[] = {
		{"model", required_argument, NULL, 'm'},
		{"model-dir", required_argument, NULL, 'D'},
		{"hop", required_argument, NULL, 'H'},
		{"batch", required_argument, NULL, 'b'},
		{"threads", required_argument, NULL, 't'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *model_spec = NULL,
			   *dir_opt = NULL,
			   *out_dir = NULL;
	double		hop = 0.0;
	int			batch = 64,
				threads = 1,
				c,
				failures = 0;
	sid_model  *model;
	sid_embedder *emb[SID_EMBED_MAX_THREADS] = {NULL};
	sid_audio_limits lim;
	sid_error	err;
	char		why[256];
	int			device;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'm':
				model_spec = optarg;
				break;
			case 'D':
				dir_opt = optarg;
				break;
			case 'H':
				hop = strtod(optarg, NULL);
				if (!(hop > 0))
				{
					fprintf(stderr, "sampleid embed: --hop wants a positive number of seconds\n");
					return 2;
				}
				break;
			case 'b':
				batch = atoi(optarg);
				break;
			case 't':
				threads = atoi(optarg);
				break;
			case 'o':
				out_dir = optarg;
				break;
			default:
				fprintf(c == 'h' ? stdout : stderr,
						"usage: sampleid embed [--model M] [--model-dir DIR] [--hop S] [--batch N]\n"
						"                      [--threads N] [--out DIR] FILE...\n"
						"Fingerprints every segment of each FILE.  Without --out: TSV lines\n"
						"  file, seg, t_start (s), fingerprint ([x1,...]).\n"
						"--threads N embeds each file's windows on N threads (default 1).\n"
						"With --out DIR: DIR/BASENAME.npy (float32 [segments, dims]) and\n"
						"  DIR/BASENAME.times.npy (float64 [segments], start seconds).\n"
						"--model is a name in the model directory or a path; the default \"fp\"\n"
						"must be a trained model.  --hop overrides the model's segment hop.\n");
				return c == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc)
	{
		fprintf(stderr, "sampleid embed: no input files (see --help)\n");
		return 2;
	}
	if (threads < 1 || threads > SID_EMBED_MAX_THREADS)
	{
		fprintf(stderr, "sampleid embed: --threads wants 1 to %d\n", SID_EMBED_MAX_THREADS);
		return 2;
	}
	device = sid_device_resolve(SID_DEVICE_AUTO, why, sizeof(why));
	if (device == SID_DEVICE_CUDA)
		threads = 1;			/* one GPU context, one thread */
	sid_nn_set_threads(1);		/* the embedding threads are the parallelism */
	model = cli_load_model(model_spec, dir_opt);
	if (!model)
		return 1;
	for (int t = 0; t < threads; t++)
		if (!(emb[t] = sid_embedder_create(model, hop, batch, &err)))
		{
			fprintf(stderr, "sampleid embed: %s\n", err.msg);
			for (int u = 0; u < t; u++)
				sid_embedder_free(emb[u]);
			sid_model_free(model);
			return 1;
		}
	sid_audio_limits_default(&lim);
	for (int i = optind; i < argc; i++)
	{
		sid_pcm		pcm;
		sid_embed_result res;

		memset(&pcm, 0, sizeof(pcm));
		if (sid_audio_decode_file(argv[i], model->features.sample_rate, &lim, NULL, &pcm, &err) != SID_OK ||
			sid_embed_pcm_parallel(emb, threads, (sid_device_kind) device, pcm.samples, pcm.n_samples,
								   &res, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid embed: skipping \"%s\": %s\n", argv[i], err.msg);
			sid_pcm_free(&pcm);
			failures++;
			continue;
		}
		sid_pcm_free(&pcm);
		if (out_dir)
		{
			if (write_outputs(out_dir, argv[i], &res) != 0)
				failures++;
		}
		else
			print_tsv(argv[i], &res);
		sid_embed_result_free(&res);
	}
	fflush(stdout);
	for (int t = 0; t < threads; t++)
		sid_embedder_free(emb[t]);
	sid_model_free(model);
	if (failures)
		fprintf(stderr, "sampleid embed: %d of %d files failed\n", failures, argc - optind);
	return failures ? 1 : 0;
}
