/*
 * cmd_eval.c - `sampleid eval`: the identification benchmark (sid_eval.h)
 * from the committed manifests, printed as Markdown hit-rate tables: the fp
 * conditions (noise, rooms), the sample conditions (issue 11), or both, each
 * optionally with transposed copies of every query.
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
	const char *overlays_path;	/* the sample conditions' drum loops */
	int			run_fp;			/* --conditions: the fp table */
	int			run_sample;		/* and/or the sample conditions in cfg */
	int			lengths_set;	/* --lengths given: both modes use them */
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
	{"conditions", required_argument, NULL, 'C'},
	{"overlays", required_argument, NULL, 'O'},
	{"other-music", required_argument, NULL, 'o'},
	{"transpose", required_argument, NULL, 'X'},
	{"transpose-engine", required_argument, NULL, 'E'},
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
			"top-1 hit rates (exact / near) per query length and SNR; or, with\n"
			"--conditions sample, the sample conditions of issue 11 (pitch, speed,\n"
			"tempo, overlays of other music and drum loops) at 5 s and 10 s.\n"
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
			"  --lengths L,...     query lengths in seconds (1,2,3,5; sample conditions 5,10)\n"
			"  --snrs S,...        SNRs in dB, \"inf\" for no noise (0,5,10,15,20)\n"
			"  --reverb MODE       off, on or both (both)\n"
			"  --seed N            seed of excerpts and degradations (5)\n"
			"  --max-tracks N      only the first N tracks of the split (all)\n"
			"  --threads N         embed reference tracks on N threads (1)\n"
			"  --grid-starts       cut queries on the reference hop grid (an ablation:\n"
			"                      no offset between query and reference windows)\n"
			"  --conditions LIST   fp (noise and rooms, the default), sample (every sample\n"
			"                      condition), or a list of fp, sample condition names and\n"
			"                      groups (clean, pitch, speed, tempo, pitch+tempo, overlay,\n"
			"                      pitch+overlay); fp and sample ones make a table each\n"
			"  --overlays FILE     overlay manifest; its test part's drums-* clips are the\n"
			"                      drum loops (data/overlays.tsv)\n"
			"  --other-music SPLIT split whose tracks are overlaid as other music (validation)\n"
			"  --transpose LIST    also search each query as pitch-only copies, LO..HI or a\n"
			"                      comma list of consecutive whole semitones with 0 (-3..3)\n"
			"  --transpose-engine E  faster (rubberband R2, the default) or finer (R3)\n"
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

/* "LO..HI" or a comma list of consecutive whole semitones holding 0. */
static int
parse_transpose(const char *s, sid_eval_config *cfg)
{
	double		v[SID_TRANSPOSE_MAX_COPIES];
	int			lo,
				hi,
				n;
	char		tail;

	if (sscanf(s, "%d..%d%c", &lo, &hi, &tail) == 2)
		;
	else if ((n = parse_list(s, v, SID_TRANSPOSE_MAX_COPIES)) >= 1)
	{
		lo = (int) v[0];
		hi = (int) v[n - 1];
		for (int i = 0; i < n; i++)
			if (v[i] != lo + i)
				return -1;
	}
	else
		return -1;
	if (lo > 0 || hi < 0 || hi - lo + 1 > SID_TRANSPOSE_MAX_COPIES)
		return -1;
	cfg->transpose_lo = lo;
	cfg->transpose_hi = hi;
	return 0;
}

/* --conditions: "fp" tokens ask for the fp table, the rest name sample
 * conditions (sid_conditions_select). */
static int
parse_conditions(const char *s, eval_options *o)
{
	char	   *copy = strdup(s),
			   *rest;
	size_t		used = 0;
	sid_error	err;
	int			n;

	if (!copy || !(rest = calloc(strlen(s) + 1, 1)))
	{
		free(copy);
		return -1;
	}
	o->run_fp = 0;
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
	{
		if (strcmp(tok, "fp") == 0)
			o->run_fp = 1;
		else
			used += (size_t) sprintf(rest + used, "%s%s", used ? "," : "", tok);
	}
	o->run_sample = used > 0;
	n = used ? sid_conditions_select(rest, o->cfg.sample, SID_EVAL_MAX_SAMPLE_CONDITIONS, &err) : 0;
	if (n < 0)
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
	else if (n > 0)
		o->cfg.n_sample = n;
	free(copy);
	free(rest);
	return n < 0 || (!o->run_fp && !o->run_sample) ? -1 : 0;
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

/* The options of the sample conditions and the transposed copies; returns
 * 0, -1 for any other option, -2 for a bad value (already said). */
static int
set_sample_option(eval_options *o, int c, const char *arg)
{
	switch (c)
	{
		case 'C':
			return parse_conditions(arg, o) == 0 ? 0 : -2;
		case 'O':
			o->overlays_path = arg;
			return 0;
		case 'o':
			o->cfg.music_overlay_split = arg;
			return 0;
		case 'X':
			if (parse_transpose(arg, &o->cfg) == 0)
				return 0;
			fprintf(stderr, "sampleid eval: --transpose takes LO..HI or consecutive whole semitones "
					"with 0, at most %d: \"%s\"\n", SID_TRANSPOSE_MAX_COPIES, arg);
			return -2;
		case 'E':
			if (strcmp(arg, "faster") != 0 && strcmp(arg, "finer") != 0)
			{
				fprintf(stderr, "sampleid eval: --transpose-engine is faster or finer\n");
				return -2;
			}
			o->cfg.transpose_engine = strcmp(arg, "finer") == 0 ? SID_STRETCH_FINER : SID_STRETCH_FASTER;
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
			o->lengths_set = 1;
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
	o->overlays_path = "data/overlays.tsv";
	o->run_fp = 1;
	o->run_sample = 0;
	o->lengths_set = 0;
	sid_eval_config_default(&o->cfg);
	o->cfg.data_dir = getenv("SAMPLEID_DATA");
	o->cfg.progress = eval_progress;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", eval_opts, NULL)) != -1)
	{
		char	   *end = NULL;
		int			other = 0;

		if (set_number_option(&o->cfg, c, optarg, &end) != 0 &&
			(other = set_sample_option(o, c, optarg)) == -1 &&
			(other = set_other_option(o, c, optarg)) != 0)
			return cli_usage(eval_usage, c == 'H');
		if (other == -2)
			return 2;
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

/* "right / offset" of one cell, or "-" for no queries. */
static void
print_cell(const sid_hit_table *table, const sid_hit_table *track, size_t i)
{
	if (track->total[i] == 0)
		printf(" - |");
	else
		printf(" %.1f / %.1f |", 100.0 * track->exact[i] / track->total[i],
			   100.0 * table->exact[i] / table->total[i]);
}

/* Half the width of the 95 % (normal) interval of a rate p over n queries, points. */
static double
interval_half_width(double p, int64_t n)
{
	return n > 0 ? 196.0 * sqrt(p * (1 - p) / (double) n) : 0;
}

/*
 * The sample conditions: one row per condition, then the groups pooled with
 * the goals beside the 10 s column.  Cells: right recording first %
 * / answer start within half a hop of the true start %.
 */
static void
print_sample_tables(const sid_eval_config *cfg, const sid_eval_result *res,
					const sid_hit_table *table, const sid_hit_table *track, const char *what)
{
	int			ten = -1;

	for (int l = 0; l < cfg->n_lengths; l++)
		if (cfg->lengths[l] == 10)
			ten = l;
	printf("### sample conditions%s\n\n| condition |", what);
	for (int l = 0; l < cfg->n_lengths; l++)
		printf(" %g s |", cfg->lengths[l]);
	printf("\n|---|");
	for (int l = 0; l < cfg->n_lengths; l++)
		printf("---|");
	printf("\n");
	for (int c = 0; c < cfg->n_sample; c++)
	{
		printf("| %s |", cfg->sample[c].name);
		for (int l = 0; l < cfg->n_lengths; l++)
			print_cell(table, track, (size_t) c * cfg->n_lengths + l);
		printf("\n");
	}
	printf("\nright recording first %% / also within half a hop (%g s) of the true start %%: the "
		   "reference time of the query's first sample, whatever the tempo\n\n", res->hop_seconds / 2);
	printf("### sample conditions by group%s\n\n| group | conditions |", what);
	for (int l = 0; l < cfg->n_lengths; l++)
		printf(" %g s |", cfg->lengths[l]);
	printf(" goal, 10 s, sample mode |\n|---|---|");
	for (int l = 0; l < cfg->n_lengths; l++)
		printf("---|");
	printf("---|\n");
	for (int g = 0; g < SID_COND_N_GROUPS; g++)
	{
		int64_t		tot[SID_EVAL_MAX_CONDITIONS] = {0},
					right[SID_EVAL_MAX_CONDITIONS] = {0},
					exact[SID_EVAL_MAX_CONDITIONS] = {0};
		int			members = 0;
		double		goal = sid_condition_group_goal((sid_condition_group) g);

		for (int c = 0; c < cfg->n_sample; c++)
		{
			if (cfg->sample[c].group != (sid_condition_group) g)
				continue;
			members++;
			for (int l = 0; l < cfg->n_lengths; l++)
			{
				size_t		i = (size_t) c * cfg->n_lengths + l;

				tot[l] += track->total[i];
				right[l] += track->exact[i];
				exact[l] += table->exact[i];
			}
		}
		if (members == 0)
			continue;
		printf("| %s | %d |", sid_condition_group_name((sid_condition_group) g), members);
		for (int l = 0; l < cfg->n_lengths; l++)
			printf(" %.1f / %.1f |", tot[l] ? 100.0 * right[l] / tot[l] : 0,
				   tot[l] ? 100.0 * exact[l] / tot[l] : 0);
		if (goal > 0 && ten >= 0 && tot[ten] > 0)
			printf(" >= %g %% (%s) |\n", goal, 100.0 * right[ten] / tot[ten] >= goal ? "met" : "not met");
		else if (goal > 0)
			printf(" >= %g %% |\n", goal);
		else
			printf(" |\n");
	}
	printf("\npooled over the group's conditions; 95 %% interval of one condition's cell (%d queries): "
		   "+-%.1f points at 50 %%, +-%.1f at 90 %%\n\n", cfg->queries,
		   interval_half_width(0.5, cfg->queries), interval_half_width(0.9, cfg->queries));
}

/* A row's label in the copy-win table: the sample condition, or reverb and SNR. */
static void
condition_label(const sid_eval_config *cfg, const sid_eval_result *res, int c, char *buf, size_t size)
{
	if (cfg->mode == SID_EVAL_SAMPLE)
		snprintf(buf, size, "%s", cfg->sample[c].name);
	else
	{
		int			reverb = (cfg->reverb_modes & 1) ? c / cfg->n_snrs : 1;

		(void) res;
		snprintf(buf, size, "%s%g dB", reverb ? "reverb, " : "", cfg->snrs[c % cfg->n_snrs]);
	}
}

/* Which transposed copy won among the right answers, all lengths together. */
static void
print_copy_wins(const sid_eval_config *cfg, const sid_eval_result *res)
{
	int			n_cond = cfg->mode == SID_EVAL_SAMPLE ? cfg->n_sample :
		cfg->n_snrs * ((cfg->reverb_modes & 1) + ((cfg->reverb_modes >> 1) & 1));

	printf("### which transposed copy won, right answers of every length\n\n| condition |");
	for (int k = 0; k < res->n_copies; k++)
		printf(" %+d |", cfg->transpose_lo + k);
	printf("\n|---|");
	for (int k = 0; k < res->n_copies; k++)
		printf("---|");
	printf("\n");
	for (int c = 0; c < n_cond; c++)
	{
		char		label[64];

		condition_label(cfg, res, c, label, sizeof(label));
		printf("| %s |", label);
		for (int k = 0; k < res->n_copies; k++)
		{
			int64_t		wins = 0;

			for (int l = 0; l < cfg->n_lengths; l++)
				wins += res->copy_wins[((size_t) c * cfg->n_lengths + l) * res->n_copies + k];
			printf(" %lld |", (long long) wins);
		}
		printf("\n");
	}
	printf("\ncopies shifted by the column's semitones (rubberband %s); the copy whose best "
		   "alignment scored highest is the answer\n\n",
		   cfg->transpose_engine == SID_STRETCH_FINER ? "R3, finer" : "R2, faster");
}

static void
print_eval_result(const eval_options *o, const sid_model *model, const sid_eval_result *res)
{
	const sid_eval_config *cfg = &o->cfg;
	double		query_seconds = 0;

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
	for (int l = 0; l < cfg->n_lengths; l++)
		query_seconds += cfg->lengths[l] / cfg->n_lengths;
	printf("conditions: %s; %.1f ms CPU per degraded query to make it\n",
		   cfg->mode == SID_EVAL_SAMPLE ? "sample (pitch and tempo: rubberband R3, speed: "
		   "resampling)" : "fp (noise, rooms)",
		   res->queries ? 1000.0 * res->condition_cpu_seconds * res->n_copies / res->queries : 0);
	if (cfg->mode == SID_EVAL_SAMPLE)
		printf("overlays: %d music clips from split \"%s\", %d drum loops from %s (test part)\n",
			   res->overlay_clips[0], cfg->music_overlay_split, res->overlay_clips[1],
			   o->overlays_path);
	if (res->n_copies > 1)
		printf("transposed copies: %+d .. %+d semitones (rubberband %s), %lld queries copied, "
			   "%.1f ms CPU per query for its copies (%.2f ms per second of query)\n",
			   cfg->transpose_lo, cfg->transpose_hi,
			   cfg->transpose_engine == SID_STRETCH_FINER ? "R3, finer" : "R2, faster",
			   (long long) res->copied_queries,
			   res->copied_queries ? 1000.0 * res->transpose_cpu_seconds / res->copied_queries : 0,
			   res->copied_queries ? 1000.0 * res->transpose_cpu_seconds / res->copied_queries / query_seconds : 0);
	printf("\n");
	if (cfg->mode == SID_EVAL_SAMPLE)
	{
		if (res->n_copies > 1)
			print_sample_tables(cfg, res, &res->unshifted[0], &res->unshifted_track[0],
								", the query alone (its unshifted copy)");
		print_sample_tables(cfg, res, &res->table[0], &res->track[0],
							res->n_copies > 1 ? ", with the transposed copies" : "");
		if (res->n_copies > 1)
			print_copy_wins(cfg, res);
		return;
	}
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
	if (res->n_copies > 1)
		print_copy_wins(cfg, res);
}

/* One mode's run and its tables; returns the exit status. */
static int
run_eval_mode(const eval_options *o, sid_model *model, const sid_manifest *music,
			  const sid_manifest *noise)
{
	sid_eval_result res;
	sid_error	err;

	if (sid_eval_run(model, music, noise, &o->cfg, &res, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		return 1;
	}
	print_eval_result(o, model, &res);
	sid_eval_result_free(&res);
	return 0;
}

/* Reads the manifests, runs the benchmark (the fp conditions, then the
 * sample conditions, as asked) and prints it; returns the exit status. */
static int
run_eval(const eval_options *o, sid_model *model)
{
	static const double sample_lengths[] = {5, 10};
	sid_manifest music,
				noise,
				overlays;
	sid_error	err;
	int			status = 0;

	sid_manifest_init(&music);
	sid_manifest_init(&noise);
	sid_manifest_init(&overlays);
	if (sid_manifest_read(o->manifest_path, &music, &err) != SID_OK ||
		(o->run_fp && strcmp(o->noise_path, "-") != 0 &&
		 sid_manifest_read(o->noise_path, &noise, &err) != SID_OK) ||
		(o->run_sample && sid_manifest_read(o->overlays_path, &overlays, &err) != SID_OK))
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		status = 1;
	}
	if (status == 0 && o->run_fp)
	{
		eval_options fp = *o;

		fp.cfg.mode = SID_EVAL_NOISE;
		status = run_eval_mode(&fp, model, &music, &noise);
	}
	if (status == 0 && o->run_sample)
	{
		eval_options sample = *o;

		sample.cfg.mode = SID_EVAL_SAMPLE;
		sample.cfg.overlays = &overlays;
		if (!o->lengths_set)
		{
			sample.cfg.n_lengths = 2;
			memcpy(sample.cfg.lengths, sample_lengths, sizeof(sample_lengths));
		}
		status = run_eval_mode(&sample, model, &music, &noise);
	}
	sid_manifest_free(&music);
	sid_manifest_free(&noise);
	sid_manifest_free(&overlays);
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
