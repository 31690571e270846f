/*
 * cmd_eval.c - `sampleid eval`: the identification benchmark (sid_eval.h)
 * from the committed manifests, printed as Markdown hit-rate tables.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval/sid_eval.h"
#include "corpus/sid_manifest.h"
#include "model/sid_model.h"
#include "nn/sid_nn.h"

/* The right-track table: one rate per cell, the same tolerance at every hop. */
static void
print_track_table(const sid_hit_table *t, const char *title)
{
	printf("%s\n\n| query |", title);
	for (int c = 0; c < t->n_cols; c++)
		printf(" %g dB |", t->col_values[c]);
	printf("\n|---|");
	for (int c = 0; c < t->n_cols; c++)
		printf("---|");
	printf("\n");
	for (int r = 0; r < t->n_rows; r++)
	{
		printf("| %g s |", t->row_values[r]);
		for (int c = 0; c < t->n_cols; c++)
		{
			size_t		i = (size_t) r * t->n_cols + c;

			if (t->total[i] == 0)
				printf(" - |");
			else
				printf(" %.1f |", 100.0 * t->exact[i] / t->total[i]);
		}
		printf("\n");
	}
	printf("\ntop-1 right track in %%, offset not checked\n\n");
}

/* What the options ask for. */
typedef struct eval_options
{
	const char *model_path;
	const char *manifest_path;
	const char *noise_path;		/* "-": synthetic noise only */
	sid_eval_config cfg;
} eval_options;

static const struct option eval_opts[] = {
	{"model", required_argument, NULL, 'M'},
	{"manifest", required_argument, NULL, 'm'},
	{"noise", required_argument, NULL, 'n'},
	{"data", required_argument, NULL, 'd'},
	{"split", required_argument, NULL, 's'},
	{"hop", required_argument, NULL, 'h'},
	{"hop-ratio", required_argument, NULL, 'r'},
	{"k", required_argument, NULL, 'k'},
	{"queries", required_argument, NULL, 'q'},
	{"lengths", required_argument, NULL, 'L'},
	{"snrs", required_argument, NULL, 'S'},
	{"reverb", required_argument, NULL, 'R'},
	{"seed", required_argument, NULL, 'e'},
	{"max-tracks", required_argument, NULL, 't'},
	{"threads", required_argument, NULL, 'T'},
	{"quiet", no_argument, NULL, 'Q'},
	{"grid-starts", no_argument, NULL, 'G'},
	{"help", no_argument, NULL, 'H'},
	{NULL, 0, NULL, 0}
};

static void
eval_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid eval --model FILE [options]\n"
			"       sampleid eval --open-set --dsn DSN [options]   (options of its own)\n"
			"\n"
			"Builds a reference database from one split of the music manifest, cuts\n"
			"seeded queries from it, degrades them with test-part noise and rooms,\n"
			"searches them (exact top-k + offset-compensated alignment) and prints the\n"
			"top-1 hit rates (exact / near) per query length and SNR.\n"
			"\n"
			"  --model FILE        model file (.sidm)\n"
			"  --manifest FILE     music manifest (data/manifest.tsv)\n"
			"  --noise FILE        noise manifest (data/noise.tsv); \"-\" for synthetic noise only\n"
			"  --data DIR          corpus directory ($SAMPLEID_DATA, else /var/lib/sampleid-corpus)\n"
			"  --split NAME        split to search (reference)\n"
			"  --hop S             reference hop in seconds (the model's segment hop)\n"
			"  --hop-ratio N       query segment spacing in reference hops (1)\n"
			"  --k N               neighbours per query segment (20)\n"
			"  --queries N         excerpts per query length (100)\n"
			"  --lengths L,...     query lengths in seconds (1,2,3,5)\n"
			"  --snrs S,...        SNRs in dB, \"inf\" for no noise (0,5,10,15,20)\n"
			"  --reverb MODE       off, on or both (both)\n"
			"  --seed N            seed of excerpts and degradations (5)\n"
			"  --max-tracks N      only the first N tracks of the split (all)\n"
			"  --threads N         embed reference tracks on N threads (1)\n"
			"  --grid-starts       cut queries on the reference hop grid (an ablation:\n"
			"                      no offset between query and reference windows)\n"
			"  --quiet             no progress on stderr\n");
}

static int
parse_list(const char *s, double *out, int max)
{
	char	   *copy = strdup(s);
	int			n = 0;

	if (!copy)
		return -1;
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
	{
		char	   *end;

		if (n == max)
		{
			n = -1;
			break;
		}
		out[n] = strtod(tok, &end);
		if (*end || end == tok)
		{
			n = -1;
			break;
		}
		n++;
	}
	free(copy);
	return n;
}

static void
eval_progress(void *arg, const char *msg)
{
	(void) arg;
	fprintf(stderr, "sampleid eval: %s\n", msg);
}

/*
 * The options that set a number; *end is left after the number (the caller
 * refuses what follows it).  Returns 0, or -1 for any other option.
 */
static int
set_number_option(sid_eval_config *cfg, int c, const char *arg, char **end)
{
	switch (c)
	{
		case 'h':
			cfg->hop_seconds = strtod(arg, end);
			return 0;
		case 'r':
			cfg->hop_ratio = (int32_t) strtol(arg, end, 10);
			return 0;
		case 'k':
			cfg->k = (int32_t) strtol(arg, end, 10);
			return 0;
		case 'q':
			cfg->queries = (int32_t) strtol(arg, end, 10);
			return 0;
		case 'e':
			cfg->seed = strtoull(arg, end, 0);
			return 0;
		case 't':
			cfg->max_tracks = (int32_t) strtol(arg, end, 10);
			return 0;
		case 'T':
			cfg->threads = (int) strtol(arg, end, 10);
			return 0;
	}
	return -1;
}

/* The other options; returns 0, or -1 for --help and unknown options. */
static int
set_other_option(eval_options *o, int c, const char *arg)
{
	switch (c)
	{
		case 'M':
			o->model_path = arg;
			return 0;
		case 'm':
			o->manifest_path = arg;
			return 0;
		case 'n':
			o->noise_path = arg;
			return 0;
		case 'd':
			o->cfg.data_dir = arg;
			return 0;
		case 's':
			o->cfg.split = arg;
			return 0;
		case 'L':
			o->cfg.n_lengths = parse_list(arg, o->cfg.lengths, SID_EVAL_MAX_CONDITIONS);
			return 0;
		case 'S':
			o->cfg.n_snrs = parse_list(arg, o->cfg.snrs, SID_EVAL_MAX_CONDITIONS);
			return 0;
		case 'R':
			o->cfg.reverb_modes = strcmp(arg, "off") == 0 ? 1 : strcmp(arg, "on") == 0 ? 2 :
				strcmp(arg, "both") == 0 ? 3 : 0;
			return 0;
		case 'Q':
			o->cfg.progress = NULL;
			return 0;
		case 'G':
			o->cfg.align_starts = 1;
			return 0;
	}
	return -1;
}

/* Returns -1 to go on, else the exit status. */
static int
parse_eval_options(int argc, char **argv, eval_options *o)
{
	int			c;

	o->model_path = NULL;
	o->manifest_path = "data/manifest.tsv";
	o->noise_path = "data/noise.tsv";
	sid_eval_config_default(&o->cfg);
	o->cfg.data_dir = getenv("SAMPLEID_DATA");
	o->cfg.progress = eval_progress;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", eval_opts, NULL)) != -1)
	{
		char	   *end = NULL;

		if (set_number_option(&o->cfg, c, optarg, &end) != 0 &&
			set_other_option(o, c, optarg) != 0)
			return cli_usage(eval_usage, c == 'H');
		if (end && *end)
		{
			fprintf(stderr, "sampleid eval: bad number \"%s\"\n", optarg);
			return 2;
		}
	}
	if (!o->model_path || optind != argc || o->cfg.n_lengths < 1 || o->cfg.n_snrs < 1 ||
		o->cfg.reverb_modes == 0)
		return cli_usage(eval_usage, 0);
	if (!o->cfg.data_dir)
		o->cfg.data_dir = "/var/lib/sampleid-corpus";
	return -1;
}

static void
print_eval_result(const eval_options *o, const sid_model *model, const sid_eval_result *res)
{
	const sid_eval_config *cfg = &o->cfg;

	printf("model: %s (%s)%s\n", model->name, model->note,
		   sid_model_is_trained(model) ? "" : " UNTRAINED");
	printf("reference: split \"%s\" of %s, %d tracks, %.2f h, %lld segments at a %g s hop "
		   "(%d-d float32: %.2f MiB per hour of audio)\n",
		   cfg->split, o->manifest_path, res->ref_tracks, res->ref_seconds / 3600,
		   (long long) res->ref_segments, res->hop_seconds, res->dim,
		   sid_seqdb_bytes_per_hour(res->dim, res->hop_seconds) / (1 << 20));
	printf("queries: %d per length, seed %llu, %lld searched (%lld segments), k %d, "
		   "query hop %g s; encoder %.1f s, search %.1f s\n\n",
		   cfg->queries, (unsigned long long) cfg->seed, (long long) res->queries,
		   (long long) res->query_segments, cfg->k, res->hop_seconds * cfg->hop_ratio,
		   res->embed_seconds, res->search_seconds);
	if (res->has_table[0])
	{
		sid_hit_table_print(stdout, &res->table[0], "### background noise, no reverberation");
		printf("\n");
	}
	if (res->has_table[1])
	{
		sid_hit_table_print(stdout, &res->table[1], "### background noise and room reverberation");
		printf("\n");
	}
	for (int m = 0; m < 2; m++)
		if (res->has_table[m])
			print_track_table(&res->track[m], m ? "### right track at any offset, noise and reverberation"
							  : "### right track at any offset, noise only");
}

/* Reads the manifests, runs the benchmark and prints it; returns the exit status. */
static int
run_eval(const eval_options *o, sid_model *model)
{
	sid_manifest music,
				noise;
	sid_eval_result res;
	sid_error	err;
	int			status = 0;

	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	if (sid_manifest_read(o->manifest_path, &music, &err) != SID_OK ||
		(strcmp(o->noise_path, "-") != 0 && sid_manifest_read(o->noise_path, &noise, &err) != SID_OK))
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		status = 1;
	}
	else if (sid_eval_run(model, &music, &noise, &o->cfg, &res, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		status = 1;
	}
	else
	{
		print_eval_result(o, model, &res);
		sid_eval_result_free(&res);
	}
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	return status;
}

int
cmd_eval(int argc, char **argv)
{
	eval_options o;
	int			status;
	sid_model  *model;
	sid_error	err;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--open-set") == 0)
			return cmd_eval_openset(argc, argv);
	if ((status = parse_eval_options(argc, argv, &o)) >= 0)
		return status;
	if (o.cfg.threads > 1)
		sid_nn_set_threads(1);	/* the embedding threads are the parallelism */
	model = sid_model_load(o.model_path, &err);
	if (!model)
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		return 1;
	}
	if (!sid_model_is_trained(model))
		fprintf(stderr, "sampleid eval: warning: model \"%s\" is UNTRAINED; its figures are a random baseline\n",
				model->name);
	status = run_eval(&o, model);
	sid_model_free(model);
	return status;
}
