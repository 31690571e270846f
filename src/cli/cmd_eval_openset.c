/*
 * cmd_eval_openset.c - `sampleid eval --open-set --dsn DSN ...`: the open-set
 * benchmark of sampleid_identify against a catalogue in a server.
 *
 * Queries, each length (3 s and 10 s), seeded: in-catalogue excerpts of the
 * catalogue's recordings (their audio_path files, read here) through a room
 * and pink noise at 0-20 dB; out of the catalogue, in two disjoint splits
 * (calibration: the manifest's train and validation tracks; test: its
 * reference tracks; the catalogue's package left out), other music clean
 * and degraded the same way, espeak-ng speech, digital silence,
 * near-silence, tones and white / pink / brown noise.  Each query is
 * fingerprinted here as `sampleid identify` does and sent to the
 * fingerprints form of sampleid_identify with every candidate and the
 * verifier's probability of each; eval/sid_openset scores the rules and
 * prints the tables.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_catalogue.h"
#include "cli_model.h"
#include "cli_pq.h"
#include "audio/sid_audio.h"
#include "augment/sid_augment.h"
#include "core/sid_clock.h"
#include "core/sid_rng.h"
#include "corpus/sid_corpus.h"
#include "corpus/sid_manifest.h"
#include "eval/sid_openset.h"
#include "model/sid_verifier.h"
#include "train/sid_verify_train.h"

#define CMD "eval"
#define MAX_QUERIES_PER_KIND 10000
#define N_LENGTHS 2
static const int query_lengths[N_LENGTHS] = {3, 10};

/* Rooms of the test part, as sid_eval's. */
#define TEST_RIRS 1000
/* sampleid_identify's rule of at least 2 segments; its thresholds are the model's (sid_model_coarse_rule) */
#define DEFAULT_MIN_SEGMENTS 2
/* Out-of-catalogue tracks: long enough for a 10 s excerpt anywhere in them */
#define MIN_TRACK_SECONDS 25.0

typedef struct openset_options
{
	const char *dsn;
	const char *catalogue;
	const char *recordings;
	const char *model_spec;
	const char *dir_opt;
	const char *verifier_path;
	const char *manifest_path;
	const char *data_dir;
	const char *exclude_package;
	const char *overlays_path;
	int			queries;
	int			probes;
	uint64_t	seed;
	int			quiet;
} openset_options;

static const struct option openset_opts[] = {
	{"open-set", no_argument, NULL, 'O'},
	{"dsn", required_argument, NULL, 'd'},
	{"catalogue", required_argument, NULL, 'c'},
	{"recordings", required_argument, NULL, 'r'},
	{"model", required_argument, NULL, 'm'},
	{"model-dir", required_argument, NULL, 'D'},
	{"verifier", required_argument, NULL, 'v'},
	{"manifest", required_argument, NULL, 'M'},
	{"data", required_argument, NULL, 'a'},
	{"exclude-package", required_argument, NULL, 'x'},
	{"overlays", required_argument, NULL, 'o'},
	{"queries", required_argument, NULL, 'q'},
	{"probes", required_argument, NULL, 'p'},
	{"seed", required_argument, NULL, 'e'},
	{"quiet", no_argument, NULL, 'Q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
openset_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid eval --open-set --dsn DSN [options]\n"
			"\n"
			"The open-set benchmark of sampleid_identify: in-catalogue queries and\n"
			"out-of-catalogue queries (other music clean and noisy, espeak-ng speech,\n"
			"silence, near-silence, tones, noise) of 3 s and 10 s, fingerprinted here and\n"
			"answered by the server with every candidate and its verifier probability;\n"
			"rules are calibrated on one split of the out-of-catalogue tracks and measured\n"
			"on the other.  Prints Markdown tables: top-1 before and after reranking, the\n"
			"share of correct answers kept at <= 1 %% and <= 0.1 %% false accepts, false\n"
			"accepts per kind, ROC points, latency.  Speech needs espeak-ng on PATH (else\n"
			"that kind is skipped, saying so).\n"
			"\n"
			"  --dsn DSN              libpq connection string of the catalogue's database\n"
			"  --catalogue TABLE      the segments table (segments)\n"
			"  --recordings TABLE     its recordings: id, audio_path, duration_s (recordings);\n"
			"                         the in-catalogue excerpts are cut from those files\n"
			"  --model M              the model that fingerprinted the catalogue (the installed fp)\n"
			"  --model-dir DIR        where installed models are\n"
			"  --verifier FILE        the .sidv whose calibrated threshold is scored beside\n"
			"                         (default: the model's, beside it in the model directory)\n"
			"  --manifest FILE        music manifest of the out-of-catalogue tracks (data/manifest.tsv)\n"
			"  --data DIR             corpus directory ($SAMPLEID_DATA, else /var/lib/sampleid-corpus)\n"
			"  --exclude-package P    manifest package of the catalogue, never out of it\n"
			"                         (wesnoth-1.16-music, the demo's)\n"
			"  --overlays FILE        sample mode: overlay manifest (data/overlays.tsv) whose\n"
			"                         test part's drum loops go under degraded queries\n"
			"  --queries N            queries per kind, split and length; N / 4 of speech,\n"
			"                         silence, near-silence, tones and noise (60)\n"
			"  --probes N             SET ivfpq.probes for the session (8)\n"
			"  --seed N               seed of every query (20261201)\n"
			"  --quiet                no progress on stderr\n");
}

/* Returns -1 to go on, else the exit status. */
static int
parse_options(int argc, char **argv, openset_options *o)
{
	int			c;

	*o = (openset_options)
	{
		NULL, "segments", "recordings", NULL, NULL, NULL, "data/manifest.tsv", getenv("SAMPLEID_DATA"),
			"wesnoth-1.16-music", NULL, 60, 8, 20261201, 0
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "", openset_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'O':
				break;
			case 'd':
				o->dsn = optarg;
				break;
			case 'c':
				o->catalogue = optarg;
				break;
			case 'r':
				o->recordings = optarg;
				break;
			case 'm':
				o->model_spec = optarg;
				break;
			case 'D':
				o->dir_opt = optarg;
				break;
			case 'v':
				o->verifier_path = optarg;
				break;
			case 'M':
				o->manifest_path = optarg;
				break;
			case 'a':
				o->data_dir = optarg;
				break;
			case 'x':
				o->exclude_package = optarg;
				break;
			case 'o':
				o->overlays_path = optarg;
				break;
			case 'q':
				if (cli_int_option(CMD, "--queries", optarg, 4, MAX_QUERIES_PER_KIND, &o->queries) != 0)
					return 2;
				break;
			case 'p':
				if (cli_int_option(CMD, "--probes", optarg, 1, 100000, &o->probes) != 0)
					return 2;
				break;
			case 'e':
				{
					char	   *end;

					o->seed = strtoull(optarg, &end, 10);
					if (*end || end == optarg)
					{
						fprintf(stderr, "sampleid eval: --seed wants an integer, not \"%s\"\n", optarg);
						return 2;
					}
				}
				break;
			case 'Q':
				o->quiet = 1;
				break;
			case 'h':
				return cli_usage(openset_usage, 1);
			default:
				return cli_usage(openset_usage, 0);
		}
	}
	if (!o->dsn)
		return cli_usage(openset_usage, 0);
	if (cli_stray_arguments(CMD, argc, argv, optind) != 0)
		return 2;
	if (!o->data_dir)
		o->data_dir = "/var/lib/sampleid-corpus";
	return -1;
}

/* Where a query's audio comes from. */
typedef enum source_pool
{
	POOL_CATALOGUE, POOL_CALIBRATION, POOL_TEST, POOL_NONE
} source_pool;

/* One query, drawn before any audio is made. */
typedef struct planned
{
	sid_openset_kind kind;
	int			test;
	int			length_s;
	source_pool pool;
	int32_t		track;			/* into the pool */
	double		start;			/* seconds */
	int			snr_db;			/* -1: clean */
	int			serial;			/* within its kind, split and length (speech's text) */
	uint64_t	stream;			/* of the audio's own draws */
} planned;

/* A track to cut excerpts from: a catalogue recording or a manifest entry. */
typedef struct track
{
	char	   *path;
	double		duration_s;
	int64_t		recording_id;	/* -1 out of the catalogue */
} track;

typedef struct track_pool
{
	track	   *t;
	int32_t		n;
} track_pool;

typedef struct openset_run
{
	const openset_options *o;
	PGconn	   *conn;
	sid_embedder *e;
	int			rate;
	track_pool	pools[3];
	planned    *plan;
	int64_t		n_plan;
	sid_augment_config aug_cfg;
	sid_augment_work *aug;
	int			have_espeak;
	int			sample;			/* a sample-kind model: sample mode's copies and conditions */
	sid_noise_store drums;
	char		tmpdir[64];
	sid_openset scores;
	int			warmed_up;
	int64_t		done;
} openset_run;

static void
free_pool(track_pool *p)
{
	for (int32_t i = 0; i < p->n; i++)
		free(p->t[i].path);
	free(p->t);
	p->t = NULL;
	p->n = 0;
}

static int
pool_add(track_pool *p, const char *path, double duration_s, int64_t id)
{
	track	   *t = realloc(p->t, sizeof(track) * (size_t) (p->n + 1));

	if (!t)
		return -1;
	p->t = t;
	if (!(t[p->n].path = strdup(path)))
		return -1;
	t[p->n].duration_s = duration_s;
	t[p->n].recording_id = id;
	p->n++;
	return 0;
}

/* The catalogue's recordings whose audio the client can read. */
static int
load_catalogue_tracks(openset_run *r)
{
	cli_columns col;
	char		rec[300],
				sql[2048];
	PGresult   *res;
	int			unreadable = 0;

	cli_columns_default(&col);
	if (cli_columns_quote(&col, r->conn) != 0 ||
		cli_pq_quote_name(r->conn, r->o->recordings, rec, sizeof(rec)) != 0)
	{
		fprintf(stderr, "sampleid eval: the recordings table's name is too long\n");
		return -1;
	}
	snprintf(sql, sizeof(sql), "SELECT %s, %s, %s::float8 FROM %s WHERE %s IS NOT NULL AND %s > %d ORDER BY 1",
			 col.quoted[CLI_COL_ID], col.quoted[CLI_COL_AUDIO_PATH], col.quoted[CLI_COL_DURATION_S], rec,
			 col.quoted[CLI_COL_AUDIO_PATH], col.quoted[CLI_COL_DURATION_S], query_lengths[N_LENGTHS - 1] + 1);
	if (!(res = cli_pq_exec(r->conn, CMD, sql, 0, NULL)))
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *path = PQgetvalue(res, i, 1);

		if (access(path, R_OK) != 0)
		{
			unreadable++;
			continue;
		}
		if (pool_add(&r->pools[POOL_CATALOGUE], path, strtod(PQgetvalue(res, i, 2), NULL),
					 strtoll(PQgetvalue(res, i, 0), NULL, 10)) != 0)
		{
			PQclear(res);
			fprintf(stderr, "sampleid eval: out of memory\n");
			return -1;
		}
	}
	PQclear(res);
	if (unreadable && !r->o->quiet)
		fprintf(stderr, "sampleid eval: %d recordings of %s left out: their audio_path is not readable here\n",
				unreadable, r->o->recordings);
	if (r->pools[POOL_CATALOGUE].n == 0)
	{
		fprintf(stderr, "sampleid eval: no recording of %s longer than %d s has audio readable here\n",
				r->o->recordings, query_lengths[N_LENGTHS - 1] + 1);
		return -1;
	}
	return 0;
}

/* Out-of-catalogue tracks of the manifest: calibration (train, validation) and test (reference). */
static int
load_manifest_tracks(openset_run *r)
{
	sid_manifest m;
	sid_error	err;
	char		path[4096];
	int			rc = 0;

	sid_manifest_init(&m);
	if (sid_manifest_read(r->o->manifest_path, &m, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < m.n; i++)
	{
		const sid_manifest_entry *e = &m.entries[i];
		size_t		n = strlen(e->path);
		source_pool p;

		if (strcmp(e->package, r->o->exclude_package) == 0 || e->duration_s <= MIN_TRACK_SECONDS ||
			(n > 5 && strcmp(e->path + n - 5, ".opus") == 0))
			continue;			/* .opus: FFmpeg, which not every client has */
		if (strcmp(e->split, "reference") == 0)
			p = POOL_TEST;
		else if (strcmp(e->split, "train") == 0 || strcmp(e->split, "validation") == 0)
			p = POOL_CALIBRATION;
		else
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->o->data_dir, e->path);
		rc = pool_add(&r->pools[p], path, e->duration_s, -1);
	}
	sid_manifest_free(&m);
	if (rc != 0)
		fprintf(stderr, "sampleid eval: out of memory\n");
	else if (r->pools[POOL_CALIBRATION].n == 0 || r->pools[POOL_TEST].n == 0)
	{
		fprintf(stderr, "sampleid eval: %s has no out-of-catalogue tracks of %s (calibration: train, "
				"validation; test: reference)\n", r->o->manifest_path,
				r->pools[POOL_CALIBRATION].n == 0 ? "the calibration split" : "the test split");
		rc = -1;
	}
	return rc;
}

static int
plan_add(openset_run *r, const planned *p)
{
	planned    *q = realloc(r->plan, sizeof(planned) * (size_t) (r->n_plan + 1));

	if (!q)
	{
		fprintf(stderr, "sampleid eval: out of memory\n");
		return -1;
	}
	r->plan = q;
	q[r->n_plan] = *p;
	q[r->n_plan].stream = 2 * (uint64_t) r->n_plan + 1;
	r->n_plan++;
	return 0;
}

/* An excerpt of a random track of the pool: where, and at which SNR. */
static void
draw_excerpt(openset_run *r, planned *p, sid_rng *rng, int noisy)
{
	const track_pool *pool = &r->pools[p->pool];
	double		room;

	p->track = (int32_t) sid_rng_below(rng, (uint64_t) pool->n);
	room = pool->t[p->track].duration_s - p->length_s - 1;
	p->start = room > 0 ? room * sid_rng_uniform_double(rng) : 0;
	p->snr_db = noisy ? (int) sid_rng_below(rng, 21) : -1;
}

/* Every query, in the order of the tables: per length, in-catalogue, then per split. */
static int
make_plan(openset_run *r)
{
	static const sid_openset_kind synthetic[] = {
		SID_OPENSET_SPEECH, SID_OPENSET_SILENCE, SID_OPENSET_NEAR_SILENCE, SID_OPENSET_TONE, SID_OPENSET_NOISE
	};
	int			n = r->o->queries;

	for (int l = 0; l < N_LENGTHS; l++)
	{
		for (int q = 0; q < n; q++)
		{
			planned		p = {SID_OPENSET_IN_CATALOGUE, q % 2, query_lengths[l], POOL_CATALOGUE, 0, 0, 0, q, 0};
			sid_rng		rng;

			sid_rng_init(&rng, r->o->seed, 2 * (uint64_t) r->n_plan);
			draw_excerpt(r, &p, &rng, 1);
			if (plan_add(r, &p) != 0)
				return -1;
		}
		for (int test = 0; test < 2; test++)
		{
			for (int k = 0; k < 2; k++)
				for (int q = 0; q < n; q++)
				{
					planned		p = {k ? SID_OPENSET_OTHER_MUSIC_NOISY : SID_OPENSET_OTHER_MUSIC, test,
					query_lengths[l], test ? POOL_TEST : POOL_CALIBRATION, 0, 0, 0, q, 0};
					sid_rng		rng;

					sid_rng_init(&rng, r->o->seed, 2 * (uint64_t) r->n_plan);
					draw_excerpt(r, &p, &rng, k);
					if (plan_add(r, &p) != 0)
						return -1;
				}
			for (int q = 0; q < n / 4; q++)
				for (int k = 0; k < 5; k++)
				{
					planned		p = {synthetic[k], test, query_lengths[l], POOL_NONE, -1, 0, -1, q, 0};

					if (synthetic[k] == SID_OPENSET_SPEECH && !r->have_espeak)
						continue;
					if (plan_add(r, &p) != 0)
						return -1;
				}
		}
	}
	return 0;
}

/* Room and pink noise at the SNR (the augmentation chain with no EQ and no gain). */
static int
degrade(openset_run *r, const planned *p, sid_rng *rng, const float *track_pcm, int64_t start,
		float *out, int64_t n)
{
	static const sid_noise_bank no_clips = {NULL, NULL, 0};
	sid_augment_plan plan;
	sid_error	err;
	int64_t		preroll = start < (int64_t) r->aug_cfg.max_preroll ? start : (int64_t) r->aug_cfg.max_preroll;

	sid_augment_draw(&r->aug_cfg, &no_clips, rng, (size_t) n, &plan);
	plan.noise = SID_AUG_NOISE_SYNTHETIC;
	plan.synthetic_kind = SID_NOISE_PINK;
	plan.snr_db = (float) p->snr_db;
	plan.reverb = 1;
	plan.eq.n = 0;
	plan.gain_db = 0;
	if (sid_augment_run(r->aug, &no_clips, &plan, track_pcm + start - preroll, (size_t) preroll, out,
						(size_t) n, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/*
 * Sample mode: the verifier trainer's treatment (train/sid_verify_train.h:
 * pitch, tempo or speed, and a drum loop in two of three when --overlays
 * names them), applied by eval/sid_conditions; the excerpt moves where the
 * reference it plays would run past the track, and a treatment that a short
 * track cannot hold is drawn again.
 */
static int
sample_treatment(openset_run *r, sid_rng *rng, const sid_pcm *track, int64_t *start, float *out,
				 int64_t n)
{
	sid_verify_treatment t;
	sid_error	err;
	int64_t		lead,
				span;

	/* a short track may not hold a slowed query: drawn again, a few times */
	for (int tries = 0;; tries++)
	{
		sid_verify_sample_draw(rng, NULL, &r->drums.bank, &t);
		lead = (int64_t) sid_condition_lead(&t.cond, r->rate);
		span = (int64_t) sid_condition_span(&t.cond, r->rate, (size_t) n);
		if (*start < lead)
			*start = lead;
		if (*start + span - lead > track->n_samples)
			*start = track->n_samples - span + lead;
		if (*start >= lead || tries == 16)
			break;
	}
	if (*start < lead || sid_condition_apply(&t.cond, &r->drums.bank, t.clip, t.clip_start,
											 track->samples + *start - lead, r->rate, out, (size_t) n,
											 &err) != SID_OK)
	{
		fprintf(stderr, "sampleid eval: %s\n", *start < lead ? "a track too short for a sample condition" : err.msg);
		return -1;
	}
	return 0;
}

/* espeak-ng says a line into a WAV file, decoded and padded or cut to n samples. */
static int
speech(openset_run *r, const planned *p, sid_rng *rng, float *out, int64_t n)
{
	static const char *const voices[] = {"en", "en-us", "en-gb-x-rp", "de", "fr", "es", "it", "nl"};
	char		wav[128],
				cmd[512];
	sid_audio_limits lim;
	sid_pcm		pcm;
	sid_error	err;
	const char *voice = voices[sid_rng_below(rng, 8)];
	int			speed = 120 + (int) sid_rng_below(rng, 60);
	unsigned	a = (unsigned) sid_rng_below(rng, 32768),
				b = (unsigned) sid_rng_below(rng, 32768);

	snprintf(wav, sizeof(wav), "%s/speech.wav", r->tmpdir);
	/* nothing here comes from the user: the words are this program's */
	snprintf(cmd, sizeof(cmd), "espeak-ng -v %s -s %d -w '%s' 'Segment %d of the %s set, spoken at "
			 "random: %u %u, nothing here is music.' 2>/dev/null", voice, speed, wav, p->serial,
			 p->test ? "test" : "calibration", a, b);
	if (system(cmd) != 0)
	{
		fprintf(stderr, "sampleid eval: espeak-ng failed: %s\n", cmd);
		return -1;
	}
	sid_audio_limits_default(&lim);
	if (sid_audio_decode_file(wav, r->rate, &lim, NULL, &pcm, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid eval: espeak-ng's %s: %s\n", wav, err.msg);
		return -1;
	}
	memset(out, 0, sizeof(float) * (size_t) n);
	memcpy(out, pcm.samples, sizeof(float) * (size_t) (pcm.n_samples < n ? pcm.n_samples : n));
	sid_pcm_free(&pcm);
	unlink(wav);
	return 0;
}

/* Silence, near-silence (white noise at -60 .. -79 dBFS RMS), a tone, noise. */
static int
synthetic_audio(openset_run *r, const planned *p, sid_rng *rng, float *out, int64_t n)
{
	static const sid_noise_kind colours[] = {SID_NOISE_WHITE, SID_NOISE_PINK, SID_NOISE_BROWN};
	sid_error	err;
	double		level_db;
	sid_noise_kind kind = SID_NOISE_WHITE;

	switch (p->kind)
	{
		case SID_OPENSET_SPEECH:
			return speech(r, p, rng, out, n);
		case SID_OPENSET_SILENCE:
			memset(out, 0, sizeof(float) * (size_t) n);
			return 0;
		case SID_OPENSET_TONE:
			{
				double		f = 50 + (double) sid_rng_below(rng, 6000),
							amp = pow(10, -(3 + (double) sid_rng_below(rng, 30)) / 20);

				for (int64_t i = 0; i < n; i++)
					out[i] = (float) (amp * sin(2 * M_PI * f * (double) i / r->rate));
				return 0;
			}
		case SID_OPENSET_NEAR_SILENCE:
			level_db = -60 - (double) sid_rng_below(rng, 20);
			break;
		default:
			kind = colours[sid_rng_below(rng, 3)];
			/* sox's full-scale noise less 3 .. 32 dB, as RMS */
			level_db = -8 - (double) sid_rng_below(rng, 30);
			break;
	}
	if (sid_noise_synth(out, (size_t) n, kind, (float) r->rate, rng, &err) != SID_OK)
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		return -1;
	}
	for (int64_t i = 0; i < n; i++)
		out[i] *= (float) pow(10, level_db / 20);
	return 0;
}

static void
quiet_notices(void *arg, const char *message)
{
	(void) arg;
	(void) message;				/* "no match: none of the query's segments has content" */
}

/* Fingerprints one query's audio, asks the server, keeps every row. */
static int
ask(openset_run *r, const planned *p, const float *audio, int64_t n, double truth_start)
{
	sid_embed_result q;
	uint8_t    *content = NULL;
	int		   *semitones = NULL;
	PGresult   *res;
	sid_openset_query *sq;
	sid_error	err;
	double		t0,
				t_embedded,
				t1,
				t2;
	char		what[64];
	int64_t		truth = p->pool == POOL_CATALOGUE ? r->pools[POOL_CATALOGUE].t[p->track].recording_id : -1;

	snprintf(what, sizeof(what), "query %lld", (long long) (p - r->plan));
	t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	if (r->sample ?
		cli_embed_pcm_copies(CMD, r->e, what, audio, n, -SID_SAMPLE_MODE_SEMITONES,
							 SID_SAMPLE_MODE_SEMITONES, &q, &content, &semitones) != 0 :
		cli_embed_pcm(CMD, r->e, what, audio, n, &q, &content) != 0)
		return -1;
	t_embedded = sid_clock_seconds(CLOCK_MONOTONIC);
	/* the first call loads the model, the gate and the verifier into the backend: not timed */
	if (!r->warmed_up)
	{
		PQclear(cli_pq_identify_all(r->conn, CMD, r->o->catalogue, r->e->model->name, &q, content, semitones));
		r->warmed_up = 1;
	}
	t1 = sid_clock_seconds(CLOCK_MONOTONIC);
	res = cli_pq_identify_all(r->conn, CMD, r->o->catalogue, r->e->model->name, &q, content, semitones);
	t2 = sid_clock_seconds(CLOCK_MONOTONIC);
	sid_embed_result_free(&q);
	free(content);
	free(semitones);
	if (!res)
		return -1;
	if (!(sq = sid_openset_add_query(&r->scores, p->kind, p->test, p->length_s, truth, truth_start, &err)))
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		PQclear(res);
		return -1;
	}
	sq->embed_ms = 1000 * (t_embedded - t0);
	sq->server_ms = 1000 * (t2 - t1);
	for (int i = 0; i < PQntuples(res); i++)
	{
		sid_openset_answer a = {
			strtoll(PQgetvalue(res, i, 0), NULL, 10), strtod(PQgetvalue(res, i, 1), NULL),
			strtod(PQgetvalue(res, i, 2), NULL), (int32_t) strtol(PQgetvalue(res, i, 3), NULL, 10),
			PQgetisnull(res, i, 4) ? 0 : strtod(PQgetvalue(res, i, 4), NULL),
			PQgetisnull(res, i, 5) ? NAN : strtod(PQgetvalue(res, i, 5), NULL),
			PQgetisnull(res, i, 6) ? NAN : strtod(PQgetvalue(res, i, 6), NULL)
		};

		if (sid_openset_add_answer(&r->scores, &a, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid eval: %s\n", err.msg);
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);
	if (!r->o->quiet && ++r->done % 200 == 0)
		fprintf(stderr, "sampleid eval: %lld of %lld queries answered\n", (long long) r->done,
				(long long) r->n_plan);
	return 0;
}

/* Makes and asks one query; track_pcm is its track's audio (NULL for synthetic kinds). */
static int
run_query(openset_run *r, const planned *p, const sid_pcm *track_pcm, float *buf)
{
	int64_t		n = (int64_t) p->length_s * r->rate,
				start;
	sid_rng		rng;

	sid_rng_init(&rng, r->o->seed, p->stream);
	if (!track_pcm)
		return synthetic_audio(r, p, &rng, buf, n) == 0 ? ask(r, p, buf, n, 0) : -1;
	if (track_pcm->n_samples < n)
	{
		fprintf(stderr, "sampleid eval: %s decodes to %.1f s, shorter than a %d s query\n",
				r->pools[p->pool].t[p->track].path, (double) track_pcm->n_samples / r->rate, p->length_s);
		return -1;
	}
	start = (int64_t) llround(p->start * r->rate);
	if (start + n > track_pcm->n_samples)
		start = track_pcm->n_samples - n;	/* the stored duration may differ by a few samples */
	if (p->snr_db < 0)
		return ask(r, p, track_pcm->samples + start, n, (double) start / r->rate);
	if (r->sample)
		return sample_treatment(r, &rng, track_pcm, &start, buf, n) == 0 ?
			ask(r, p, buf, n, (double) start / r->rate) : -1;
	return degrade(r, p, &rng, track_pcm->samples, start, buf, n) == 0 ?
		ask(r, p, buf, n, (double) start / r->rate) : -1;
}

static const planned *sort_plan;

static int
by_track(const void *a, const void *b)
{
	const planned *x = &sort_plan[*(const int64_t *) a],
			   *y = &sort_plan[*(const int64_t *) b];

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	if (x->track != y->track)
		return x->track < y->track ? -1 : 1;
	return (*(const int64_t *) a > *(const int64_t *) b) - (*(const int64_t *) a < *(const int64_t *) b);
}

/* Every query, track by track so that each track is decoded once; answers in plan order. */
static int
run_queries(openset_run *r)
{
	int64_t    *order = malloc(sizeof(int64_t) * (size_t) r->n_plan),
			   *answered_as = malloc(sizeof(int64_t) * (size_t) r->n_plan);
	float	   *buf = malloc(sizeof(float) * (size_t) query_lengths[N_LENGTHS - 1] * (size_t) r->rate);
	sid_openset by_plan;
	sid_pcm		pcm = {NULL, 0, 0};
	source_pool loaded_pool = POOL_NONE;
	int32_t		loaded_track = -1;
	int			rc = 0;

	if (!order || !answered_as || !buf)
	{
		free(order), free(answered_as), free(buf);
		fprintf(stderr, "sampleid eval: out of memory\n");
		return -1;
	}
	for (int64_t i = 0; i < r->n_plan; i++)
		order[i] = i;
	sort_plan = r->plan;
	qsort(order, (size_t) r->n_plan, sizeof(int64_t), by_track);
	for (int64_t i = 0; rc == 0 && i < r->n_plan; i++)
	{
		const planned *p = &r->plan[order[i]];

		if (p->pool != POOL_NONE && (p->pool != loaded_pool || p->track != loaded_track))
		{
			sid_audio_limits lim;
			sid_error	err;

			sid_pcm_free(&pcm);
			sid_audio_limits_default(&lim);
			if (sid_audio_decode_file(r->pools[p->pool].t[p->track].path, r->rate, &lim, NULL, &pcm,
									  &err) != SID_OK)
			{
				fprintf(stderr, "sampleid eval: %s\n", err.msg);
				rc = -1;
				break;
			}
			loaded_pool = p->pool, loaded_track = p->track;
		}
		rc = run_query(r, p, p->pool == POOL_NONE ? NULL : &pcm, buf);
	}
	sid_pcm_free(&pcm);
	free(buf);
	/* the scores were added in track order: put them back in plan order */
	if (rc == 0)
	{
		sid_error	err;

		sid_openset_init(&by_plan, r->scores.hop_seconds);
		/* order[j] = i: the j-th answered is query i; answered_as[i] = j */
		for (int64_t j = 0; j < r->n_plan; j++)
			answered_as[order[j]] = j;
		for (int64_t i = 0; rc == 0 && i < r->n_plan; i++)
		{
			const sid_openset_query *q = &r->scores.queries[answered_as[i]];
			sid_openset_query *c = sid_openset_add_query(&by_plan, q->kind, q->test, q->length_s,
														 q->truth, q->truth_start, &err);

			if (!c)
				rc = -1;
			for (int32_t a = 0; c && rc == 0 && a < q->n_answers; a++)
				if (sid_openset_add_answer(&by_plan, &r->scores.answers[q->first_answer + a], &err) != SID_OK)
					rc = -1;
			if (c)
				c->embed_ms = q->embed_ms, c->server_ms = q->server_ms;
		}
		if (rc != 0)
			fprintf(stderr, "sampleid eval: %s\n", err.msg);
		sid_openset_free(&r->scores);
		r->scores = by_plan;
	}
	free(order);
	free(answered_as);
	return rc;
}

/* The verifier's calibrated threshold, or -1 when there is none to read. */
static double
verifier_threshold(const openset_options *o, const char *model_name, char *path, size_t len)
{
	char		dir[4096];
	sid_error	err;
	sid_verifier *v;
	double		t;

	if (o->verifier_path)
		snprintf(path, len, "%s", o->verifier_path);
	else if (cli_model_dir(o->dir_opt, dir, sizeof(dir)) == 0)
		snprintf(path, len, "%s/%s%s", dir, model_name, SID_VERIFIER_SUFFIX);
	else
		return -1;
	if (!(v = sid_verifier_load(path, &err)))
	{
		fprintf(stderr, "sampleid eval: %s: the file's threshold is left out\n", err.msg);
		return -1;
	}
	t = v->threshold;
	sid_verifier_free(v);
	return t;
}

static double
catalogue_hop(openset_run *r)
{
	const char *params[1] = {r->o->catalogue};
	PGresult   *res = cli_pq_exec(r->conn, CMD, "SELECT segment_hop_seconds::float8 FROM sampleid_catalogues "
								  "WHERE catalogue = $1::regclass", 1, params);
	double		hop = res && PQntuples(res) == 1 ? strtod(PQgetvalue(res, 0, 0), NULL) : -1;

	if (res && hop < 0)
		fprintf(stderr, "sampleid eval: catalogue %s is not registered (sampleid_register_catalogue)\n",
				r->o->catalogue);
	PQclear(res);
	return hop;
}

int
cmd_eval_openset(int argc, char **argv)
{
	openset_options o;
	openset_run r;
	sid_openset_settings set = {-1, 0, 0, DEFAULT_MIN_SEGMENTS};
	float		rule_coverage,
				rule_similarity;
	sid_model  *m = NULL;
	sid_error	err;
	char		sql[64],
				vpath[4200];
	double		hop,
				t0 = sid_clock_seconds(CLOCK_MONOTONIC);
	time_t		now = time(NULL);
	int			status = parse_options(argc, argv, &o);

	if (status >= 0)
		return status;
	memset(&r, 0, sizeof(r));
	r.o = &o;
	if (!(m = cli_load_model(o.model_spec, o.dir_opt)))
		return 1;
	sid_model_coarse_rule(m, &rule_coverage, &rule_similarity);
	set.default_coverage = rule_coverage;
	set.default_similarity = rule_similarity;
	status = 1;
	if (!(r.e = sid_embedder_create(m, 0.0, 16, &err)))
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		goto done;
	}
	r.rate = r.e->features.sample_rate;
	r.sample = sid_model_is_sample_kind(m);
	if (r.sample && o.overlays_path)
	{
		sid_manifest ov;

		sid_manifest_init(&ov);
		if (sid_manifest_read(o.overlays_path, &ov, &err) != SID_OK ||
			sid_drum_loops_load(&r.drums, &ov, "test", o.data_dir, r.rate, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid eval: %s\n", err.msg);
			sid_manifest_free(&ov);
			goto done;
		}
		sid_manifest_free(&ov);
	}
	if (!(r.conn = cli_pq_connect(CMD, o.dsn)) ||
		cli_pq_check_model(r.conn, CMD, o.catalogue, m->name, m->sha256) != 0 ||
		(hop = catalogue_hop(&r)) < 0)
		goto done;
	PQsetNoticeProcessor(r.conn, quiet_notices, NULL);
	snprintf(sql, sizeof(sql), "SET ivfpq.probes = %d", o.probes);
	if (cli_pq_run(r.conn, CMD, sql) != 0 || load_catalogue_tracks(&r) != 0 ||
		load_manifest_tracks(&r) != 0)
		goto done;
	r.have_espeak = system("command -v espeak-ng >/dev/null 2>&1") == 0;
	if (!r.have_espeak)
		fprintf(stderr, "sampleid eval: espeak-ng is not on PATH: the speech queries are left out\n");
	snprintf(r.tmpdir, sizeof(r.tmpdir), "/tmp/sampleid-openset.XXXXXX");
	if (!mkdtemp(r.tmpdir))
	{
		perror("sampleid eval: mkdtemp");
		r.tmpdir[0] = '\0';
		goto done;
	}
	sid_augment_config_default(&r.aug_cfg, (float) r.rate,
							   (size_t) query_lengths[N_LENGTHS - 1] * (size_t) r.rate + 1);
	r.aug_cfg.part = SID_PART_TEST;
	r.aug_cfg.n_rirs = TEST_RIRS;
	if (!(r.aug = sid_augment_work_create(&r.aug_cfg, &err)))
	{
		fprintf(stderr, "sampleid eval: %s\n", err.msg);
		goto done;
	}
	sid_openset_init(&r.scores, hop);
	if (make_plan(&r) != 0 || run_queries(&r) != 0)
		goto done;
	set.file_threshold = verifier_threshold(&o, m->name, vpath, sizeof(vpath));
	printf("## Open-set identification: %lld queries, catalogue %s (%d recordings), model %s (sha256 %.12s)\n\n",
		   (long long) r.n_plan, o.catalogue, r.pools[POOL_CATALOGUE].n, m->name, m->sha256);
	printf("%d per kind, split and length (%d of each synthetic kind%s); out-of-catalogue tracks: "
		   "calibration %d (train + validation), test %d (reference) of %s, without %s; seed %llu; "
		   "ivfpq.probes %d; verifier file %s; %s",
		   o.queries, o.queries / 4, r.have_espeak ? "" : ", no speech: espeak-ng missing",
		   r.pools[POOL_CALIBRATION].n, r.pools[POOL_TEST].n, o.manifest_path, o.exclude_package,
		   (unsigned long long) o.seed, o.probes, set.file_threshold >= 0 ? vpath : "(none)", ctime(&now));
	if (r.sample)
		printf("Sample mode: every query searched as its %d transposed copies (%d .. %d semitones); "
			   "degraded queries transposed, at another tempo or speed%s instead of a room and pink noise.\n\n",
			   2 * SID_SAMPLE_MODE_SEMITONES + 1, -SID_SAMPLE_MODE_SEMITONES, SID_SAMPLE_MODE_SEMITONES,
			   r.drums.bank.n ? ", two in three under a drum loop at 0 .. 6 dB" : "");
	printf("(ran %.0f s)\n\n", sid_clock_seconds(CLOCK_MONOTONIC) - t0);
	sid_openset_print(&r.scores, stdout, &set);
	status = 0;
done:
	if (r.tmpdir[0])
		rmdir(r.tmpdir);
	sid_noise_store_free(&r.drums);
	sid_augment_work_free(r.aug);
	sid_openset_free(&r.scores);
	for (int p = 0; p < 3; p++)
		free_pool(&r.pools[p]);
	free(r.plan);
	PQfinish(r.conn);
	sid_embedder_free(r.e);
	sid_model_free(m);
	return status;
}
