/*
 * cmd_monitor.c - `sampleid monitor --dsn DSN [--rate HZ] [--window S]
 * [--every S]`: what a broadcaster runs on an air feed.  Raw PCM (s16le
 * mono) arrives on stdin; every few seconds the new audio is fingerprinted
 * here, the last window of fingerprints goes to the fingerprints form of
 * sampleid_identify, and the recordings it hears are followed as uses.  A
 * use is logged once, when it is no longer heard (or at the end of the
 * stream, or on SIGINT / SIGTERM), with its stream offsets and the wall
 * clock at which that audio was read.  Memory is one window of
 * fingerprints, one step of audio and a bounded set of open uses, whatever
 * the stream's length.  With a sample-kind model (or --semitones) the
 * window's audio is kept too and searched as transposed copies (sample
 * mode, as `sampleid identify`), and each use has its pitch and tempo.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio/sid_audio.h"
#include "cli.h"
#include "cli_model.h"
#include "cli_pq.h"
#include "model/sid_content_gate.h"

#define CMD "monitor"
/* Uses heard at once; beyond it the oldest is logged early (no feed plays 64 recordings at once). */
#define MAX_OPEN_USES 64
/* Steps a use may go unheard before it is over: one rejected window is not the end of a use. */
#define MISSES_TO_CLOSE 2
#define MAX_RATE 384000
/* Reads remembered to date the audio: more than a window's steps at the smallest --every. */
#define MAX_READS 64

typedef struct monitor_options
{
	const char *dsn;
	const char *model_spec;
	const char *dir_opt;
	const char *catalogue;
	const char *min_similarity;	/* NULL: sampleid_identify's default */
	const char *min_coverage;
	const char *semitones;		/* "LO:HI"; NULL: the model's default */
	int			rate;
	double		window;
	double		every;
	cli_output_format format;
} monitor_options;

/* A recording being heard: stream seconds and wall clock (CLOCK_REALTIME seconds) of its ends. */
typedef struct open_use
{
	long long	recording_id;
	double		stream_start;
	double		stream_end;
	double		offset;			/* recording time minus stream time, at the latest window */
	double		ref_start;
	double		ref_end;
	double		semitones;		/* sample mode's estimates; NAN outside it */
	double		tempo;
	double		wall_start;
	double		wall_end;
	double		similarity;		/* the best window's */
	int			misses;
} open_use;

typedef struct monitor_state
{
	monitor_options o;
	sid_embedder *e;
	PGconn	   *conn;
	int			dim;
	int			lo,
				hi;				/* the copies, in semitones; 0 .. 0: none */
	int64_t		seg_samples;
	int64_t		hop_samples;
	double		hop_seconds;
	/* the rolling window: the last win_cap segments, oldest first */
	int			win_cap;
	int			win_n;
	float	   *win_fp;
	double	   *win_t;
	uint8_t    *win_content;
	/* audio at the model's rate not yet wholly embedded; pcm[0] is stream sample pcm_first */
	float	   *pcm;
	int64_t		pcm_n;
	int64_t		pcm_cap;
	int64_t		pcm_first;
	int64_t		next_segment;
	double		stream_now;		/* seconds of stream read */
	/* (stream seconds read, wall clock then) after each of the last steps, oldest first */
	struct
	{
		double		stream;
		double		wall;
	}			reads[MAX_READS];
	int			n_reads;
	open_use	uses[MAX_OPEN_USES];
	int			n_uses;
} monitor_state;

/* Sample mode: the window's audio is searched as transposed copies. */
static int
sample_mode(const monitor_state *s)
{
	return s->lo != 0 || s->hi != 0;
}

static const struct option monitor_opts[] = {
	{"dsn", required_argument, NULL, 'd'},
	{"model", required_argument, NULL, 'm'},
	{"model-dir", required_argument, NULL, 'D'},
	{"catalogue", required_argument, NULL, 'c'},
	{"rate", required_argument, NULL, 'r'},
	{"window", required_argument, NULL, 'w'},
	{"every", required_argument, NULL, 'e'},
	{"min-similarity", required_argument, NULL, 's'},
	{"min-coverage", required_argument, NULL, 'C'},
	{"semitones", required_argument, NULL, 'S'},
	{"json", no_argument, NULL, 'j'},
	{"tsv", no_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
monitor_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid monitor --dsn DSN [--model M] [--model-dir DIR] [--catalogue TABLE]\n"
			"                        [--rate HZ] [--window S] [--every S] [--min-similarity S]\n"
			"                        [--min-coverage C] [--semitones LO:HI] [--json | --tsv] < PCM\n"
			"Identifies a live stream against the catalogue (default table \"segments\"):\n"
			"raw PCM, signed 16-bit little-endian mono at --rate HZ (default 16000), on\n"
			"stdin, e.g. from  ffmpeg -i FEED -f s16le -ac 1 -ar 16000 -  or\n"
			"sox FILE -t raw -r 16000 -c 1 -b 16 -e signed -.  Every --every seconds\n"
			"(default 2) the last --window seconds (default 8) are identified; each use\n"
			"of a recording is logged once, when it ends, at the end of the stream or on\n"
			"SIGINT/SIGTERM: recording_id, stream_start, stream_end (seconds into the\n"
			"stream), wall_start, wall_end (ISO 8601 UTC, when that audio was read),\n"
			"ref_start, ref_end, similarity, semitones, tempo.  A table on a terminal,\n"
			"else --tsv or --json.  Sample mode: the window is also searched transposed\n"
			"by LO .. HI whole semitones (default -3:3 with a sample-kind model such as\n"
			"\"sample\", else 0:0, none), giving each use's semitones and tempo.\n");
}

static int
parse_monitor_options(int argc, char **argv, monitor_options *o)
{
	int			c;

	while ((c = getopt_long(argc, argv, "", monitor_opts, NULL)) != -1)
		switch (c)
		{
			case 'd':
				o->dsn = optarg;
				break;
			case 'm':
				o->model_spec = optarg;
				break;
			case 'D':
				o->dir_opt = optarg;
				break;
			case 'c':
				o->catalogue = optarg;
				break;
			case 's':
				o->min_similarity = optarg;
				break;
			case 'C':
				o->min_coverage = optarg;
				break;
			case 'S':
				o->semitones = optarg;
				break;
			case 'j':
				o->format = CLI_OUT_JSON;
				break;
			case 't':
				o->format = CLI_OUT_TSV;
				break;
			case 'r':
				if (cli_int_option(CMD, "rate", optarg, 1000, MAX_RATE, &o->rate) != 0)
					return cli_usage(monitor_usage, 0);
				break;
			case 'w':
			case 'e':
				if (cli_double_option(CMD, c == 'w' ? "window" : "every", optarg, 0, 600,
									  c == 'w' ? &o->window : &o->every) != 0)
					return cli_usage(monitor_usage, 0);
				break;
			case 'h':
				return cli_usage(monitor_usage, 1);
			default:
				return cli_usage(monitor_usage, 0);
		}
	if (!o->dsn)
	{
		fprintf(stderr, "sampleid " CMD ": --dsn is required (see --help)\n");
		return 2;
	}
	if (cli_stray_arguments(CMD, argc, argv, optind) != 0)
		return 2;
	if (o->every > o->window)
	{
		fprintf(stderr, "sampleid " CMD ": --every (%g s) must be at most --window (%g s)\n",
				o->every, o->window);
		return 2;
	}
	if (o->window / o->every > MAX_READS - 4)
	{
		fprintf(stderr, "sampleid " CMD ": --window may be at most %d times --every\n", MAX_READS - 4);
		return 2;
	}
	return -1;
}

static double
wall_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* t (CLOCK_REALTIME seconds) as 2026-12-01T22:10:31.250Z. */
static void
format_iso8601(double t, char *out, size_t len)
{
	time_t		secs = (time_t) floor(t);
	int			ms = (int) lround((t - (double) secs) * 1000.0);
	struct tm	tm;
	char		base[32];

	if (ms == 1000)
		secs++, ms = 0;
	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03dZ", base, ms);
}

/*
 * The wall clock at which stream second t was read, interpolated between
 * the reads around it: a live feed is read as it plays, a file piped in
 * faster than that is dated as it was read.  Before the oldest read
 * remembered, the stream is taken to have played in real time.
 */
static double
wall_of(const monitor_state *s, double t)
{
	for (int i = 1; i < s->n_reads; i++)
		if (t <= s->reads[i].stream)
		{
			double		s0 = s->reads[i - 1].stream,
						s1 = s->reads[i].stream,
						w0 = s->reads[i - 1].wall,
						w1 = s->reads[i].wall;

			if (t <= s0)
				return w0 - (s0 - t);
			return w0 + (t - s0) / (s1 - s0) * (w1 - w0);
		}
	return s->reads[s->n_reads - 1].wall;
}

static void
remember_read(monitor_state *s)
{
	if (s->n_reads == MAX_READS)
		memmove(s->reads, s->reads + 1, sizeof(s->reads[0]) * (MAX_READS - 1)), s->n_reads--;
	s->reads[s->n_reads].stream = s->stream_now;
	s->reads[s->n_reads++].wall = wall_clock();
}

static void
log_use(const monitor_state *s, const open_use *u)
{
	char		ws[40],
				we[40];

	int			sample = !isnan(u->semitones);
	char		pitch[64] = "";

	format_iso8601(u->wall_start, ws, sizeof(ws));
	format_iso8601(u->wall_end, we, sizeof(we));
	if (s->o.format == CLI_OUT_JSON)
	{
		if (sample)
			snprintf(pitch, sizeof(pitch), "%g, \"tempo\": %.3f", u->semitones, u->tempo);
		printf("{\"recording_id\": %lld, \"stream_start\": %.2f, \"stream_end\": %.2f, "
			   "\"wall_start\": \"%s\", \"wall_end\": \"%s\", \"ref_start\": %.2f, "
			   "\"ref_end\": %.2f, \"similarity\": %.3f, \"semitones\": %s}\n", u->recording_id,
			   u->stream_start, u->stream_end, ws, we, u->ref_start, u->ref_end, u->similarity,
			   sample ? pitch : "null, \"tempo\": null");
	}
	else if (s->o.format == CLI_OUT_TSV)
	{
		if (sample)
			snprintf(pitch, sizeof(pitch), "%g\t%.3f", u->semitones, u->tempo);
		printf("%lld\t%.2f\t%.2f\t%s\t%s\t%.2f\t%.2f\t%.3f\t%s\n", u->recording_id,
			   u->stream_start, u->stream_end, ws, we, u->ref_start, u->ref_end, u->similarity,
			   sample ? pitch : "\t");
	}
	else
	{
		if (sample)
			snprintf(pitch, sizeof(pitch), "  semitones %+g  tempo %.2f", u->semitones, u->tempo);
		printf("%s - %s  recording %-6lld stream %8.2f-%-8.2f s  reference %7.2f-%-7.2f s  "
			   "similarity %.3f%s\n", ws, we, u->recording_id, u->stream_start, u->stream_end,
			   u->ref_start, u->ref_end, u->similarity, pitch);
	}
	fflush(stdout);
}

static void
close_use(monitor_state *s, int i)
{
	log_use(s, &s->uses[i]);
	memmove(&s->uses[i], &s->uses[i + 1], sizeof(open_use) * (size_t) (s->n_uses - i - 1));
	s->n_uses--;
}

/* The open use a window's row continues (same recording and alignment, not long gone), or -1. */
static int
find_use(const monitor_state *s, long long rec, double qs, double offset)
{
	double		slack = 2 * s->hop_seconds;

	for (int i = 0; i < s->n_uses; i++)
		if (s->uses[i].recording_id == rec && fabs(s->uses[i].offset - offset) <= slack &&
			qs <= s->uses[i].stream_end + s->o.every + slack)
			return i;
	return -1;
}

/* One window's identification: rows extend or open uses; uses unheard too long are logged. */
static void
follow_uses(monitor_state *s, const PGresult *r)
{
	int			heard[MAX_OPEN_USES] = {0};

	for (int row = 0; row < PQntuples(r); row++)
	{
		long long	rec = atoll(PQgetvalue(r, row, 0));
		double		qs = atof(PQgetvalue(r, row, 1)),
					qe = atof(PQgetvalue(r, row, 2)),
					rs = atof(PQgetvalue(r, row, 3)),
					re = atof(PQgetvalue(r, row, 4)),
					offset = rs - qs,
					sim = atof(PQgetvalue(r, row, 7)),
					semitones = PQgetisnull(r, row, 9) ? NAN : atof(PQgetvalue(r, row, 9)),
					tempo = PQgetisnull(r, row, 10) ? NAN : atof(PQgetvalue(r, row, 10));
		int			i = find_use(s, rec, qs, offset);

		if (i < 0)
		{
			if (s->n_uses == MAX_OPEN_USES)
			{
				close_use(s, 0);
				memmove(heard, heard + 1, sizeof(int) * (MAX_OPEN_USES - 1));
			}
			i = s->n_uses++;
			s->uses[i] = (open_use) {rec, qs, qe, offset, rs, re, semitones, tempo,
			wall_of(s, qs), wall_of(s, qe), sim, 0};
		}
		else if (qe > s->uses[i].stream_end)
		{
			s->uses[i].stream_end = qe, s->uses[i].wall_end = wall_of(s, qe);
			s->uses[i].ref_end = fmax(s->uses[i].ref_end, re);
			s->uses[i].offset = offset;	/* under a tempo change it drifts */
		}
		if (sim > s->uses[i].similarity && !isnan(semitones))
			s->uses[i].semitones = semitones, s->uses[i].tempo = tempo;
		s->uses[i].similarity = fmax(s->uses[i].similarity, sim);
		s->uses[i].misses = 0;
		heard[i] = 1;
	}
	for (int i = s->n_uses - 1; i >= 0; i--)
		if (!heard[i] && ++s->uses[i].misses >= MISSES_TO_CLOSE)
			close_use(s, i);
}

/*
 * Identifies the window as it stands: 0, or -1 when the server or the
 * copies failed.  In sample mode the window's audio is fingerprinted again
 * as each transposed copy (the untransposed one among them), at the
 * window's stream times.
 */
static int
identify_window(monitor_state *s)
{
	sid_embed_result q = {s->win_n, s->dim, s->win_fp, s->win_t};
	uint8_t    *content = s->win_content;
	int		   *semitones = NULL;
	PGresult   *r;

	if (s->win_n < 2)
		return 0;
	if (sample_mode(s))
	{
		int64_t		first = s->next_segment - s->win_n;
		int64_t		from = first * s->hop_samples - s->pcm_first;
		int64_t		n = (s->win_n - 1) * s->hop_samples + s->seg_samples;

		if (cli_embed_pcm_copies(CMD, s->e, "the window", s->pcm + from, n, s->lo, s->hi, &q,
								 &content, &semitones) != 0)
			return -1;
		for (int64_t i = 0; i < q.n_segments; i++)
			q.t_start[i] += first * s->hop_seconds;
	}
	r = cli_pq_identify(s->conn, CMD, s->o.catalogue, s->e->model->name, &q, content,
						semitones, s->o.min_similarity, s->o.min_coverage);
	if (semitones)
	{
		sid_embed_result_free(&q);
		free(content);
		free(semitones);
	}
	if (!r)
		return -1;
	follow_uses(s, r);
	PQclear(r);
	return 0;
}

static void
window_push(monitor_state *s, const float *fp, double t, uint8_t content)
{
	if (s->win_n == s->win_cap)
	{
		memmove(s->win_fp, s->win_fp + s->dim, sizeof(float) * (size_t) s->dim * (s->win_n - 1));
		memmove(s->win_t, s->win_t + 1, sizeof(double) * (size_t) (s->win_n - 1));
		memmove(s->win_content, s->win_content + 1, (size_t) (s->win_n - 1));
		s->win_n--;
	}
	memcpy(s->win_fp + (size_t) s->win_n * s->dim, fp, sizeof(float) * (size_t) s->dim);
	s->win_t[s->win_n] = t;
	s->win_content[s->win_n++] = content;
}

/*
 * Fingerprints every segment the audio now covers whole, into the window;
 * drops audio no longer needed.  In sample mode the segments are only
 * counted: identify_window fingerprints the window's audio as its copies.
 */
static int
embed_new_segments(monitor_state *s, float *fp, double *t, uint8_t *content)
{
	while (!sample_mode(s))
	{
		int64_t		from = s->next_segment * s->hop_samples - s->pcm_first,
					avail = s->pcm_n - from,
					whole = avail >= s->seg_samples ? 1 + (avail - s->seg_samples) / s->hop_samples : 0;
		int			count = (int) (whole < s->e->batch ? whole : s->e->batch);
		sid_error	err;

		if (count == 0)
			break;
		if (sid_embed_batch(s->e, SID_DEVICE_CPU, s->pcm + from,
							(count - 1) * s->hop_samples + s->seg_samples, 0, count, fp, t,
							&err) != SID_OK)
		{
			fprintf(stderr, "sampleid " CMD ": %s\n", err.msg);
			return -1;
		}
		sid_content_embedded_windows(s->e, count, content);
		for (int i = 0; i < count; i++)
			window_push(s, fp + (size_t) i * s->dim, (s->next_segment + i) * s->hop_seconds,
						content[i]);
		s->next_segment += count;
	}
	if (sample_mode(s))
	{
		int64_t		from = s->next_segment * s->hop_samples - s->pcm_first,
					avail = s->pcm_n - from;

		if (avail >= s->seg_samples)
			s->next_segment += 1 + (avail - s->seg_samples) / s->hop_samples;
		s->win_n = (int) (s->next_segment < s->win_cap ? s->next_segment : s->win_cap);
	}
	{
		/* sample mode transposes the window's audio: keep it */
		int64_t		keep = sample_mode(s) ? s->win_cap : 0;
		int64_t		keep_from = (s->next_segment - keep) * s->hop_samples - s->pcm_first;

		if (keep_from < 0)
			keep_from = 0;

		memmove(s->pcm, s->pcm + keep_from, sizeof(float) * (size_t) (s->pcm_n - keep_from));
		s->pcm_n -= keep_from;
		s->pcm_first += keep_from;
	}
	return 0;
}

/*
 * Reads up to n samples of s16le from stdin: the count (short only at the
 * end of the stream or on a stop signal), or -1 on a read error.  An odd
 * byte at the end of a read is kept for the next one.
 */
static int64_t
read_samples(int16_t *out, int64_t n)
{
	static unsigned char carry[1];
	static int	n_carry = 0;
	unsigned char *bytes = (unsigned char *) out;
	size_t		want = (size_t) n * 2,
				have = 0;

	if (n_carry)
		bytes[have++] = carry[0], n_carry = 0;
	while (have < want && !cli_stop_signal)
	{
		ssize_t		got = read(STDIN_FILENO, bytes + have, want - have);

		if (got == 0)
			break;
		if (got < 0)
		{
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sampleid " CMD ": reading stdin: %s\n", strerror(errno));
			return -1;
		}
		have += (size_t) got;
	}
	if (have % 2)
		carry[0] = bytes[--have], n_carry = 1;
	for (size_t i = 0; i < have / 2; i++)	/* s16le on any host */
		out[i] = (int16_t) (bytes[2 * i] | (bytes[2 * i + 1] << 8));
	return (int64_t) (have / 2);
}

/* n samples read at --rate, to the model's rate, after the audio not yet embedded. */
static int
append_audio(monitor_state *s, const int16_t *in, int64_t n, float *scratch)
{
	float	   *resampled = NULL,
			   *v = scratch;
	int64_t		n_out = n;
	sid_error	err;

	for (int64_t i = 0; i < n; i++)
		scratch[i] = in[i] / 32768.0f;
	if (s->o.rate != s->e->features.sample_rate)
	{
		/* one step at a time: the edges of a step are a few samples of the converter's ramp */
		if (sid_audio_resample(scratch, n, s->o.rate, s->e->features.sample_rate, &resampled,
							   &n_out, &err) != SID_OK)
		{
			fprintf(stderr, "sampleid " CMD ": %s\n", err.msg);
			return -1;
		}
		v = resampled;
	}
	if (s->pcm_n + n_out > s->pcm_cap)
	{
		fprintf(stderr, "sampleid " CMD ": internal error: audio buffer overrun\n");
		free(resampled);
		return -1;
	}
	memcpy(s->pcm + s->pcm_n, v, sizeof(float) * (size_t) n_out);
	s->pcm_n += n_out;
	free(resampled);
	s->stream_now += (double) n / s->o.rate;
	remember_read(s);
	return 0;
}

/* The stream, step by step, until its end or a stop signal: 0, or 1 on an error. */
static int
monitor_stream(monitor_state *s)
{
	int64_t		step = (int64_t) ceil(s->o.every * s->o.rate);
	int16_t    *in = malloc(sizeof(int16_t) * (size_t) step);
	float	   *scratch = malloc(sizeof(float) * (size_t) step);
	float	   *fp = malloc(sizeof(float) * (size_t) s->e->batch * s->dim);
	double	   *t = malloc(sizeof(double) * (size_t) s->e->batch);
	uint8_t    *content = malloc((size_t) s->e->batch);
	int			rc = 0;

	if (!in || !scratch || !fp || !t || !content)
	{
		fprintf(stderr, "sampleid " CMD ": out of memory\n");
		rc = 1;
	}
	while (rc == 0 && !cli_stop_signal)
	{
		int64_t		got = read_samples(in, step);

		if (got < 0 || (got > 0 && (append_audio(s, in, got, scratch) != 0 ||
									embed_new_segments(s, fp, t, content) != 0 ||
									identify_window(s) != 0)))
			rc = 1;
		if (got < step)
			break;
	}
	while (s->n_uses > 0)		/* the end of the stream ends what was being heard */
		close_use(s, 0);
	free(in), free(scratch), free(fp), free(t), free(content);
	return rc;
}

static int
monitor_state_init(monitor_state *s)
{
	const sid_feature_config *f = &s->e->features;
	int64_t		step_out = (int64_t) ceil(s->o.every * f->sample_rate) + 64;

	s->dim = s->e->model->enc->cfg.embed_dim;
	s->seg_samples = sid_features_segment_samples(f);
	s->hop_samples = sid_features_segment_hop_samples(f);
	s->hop_seconds = (double) s->hop_samples / f->sample_rate;
	s->win_cap = (int) lround(s->o.window / s->hop_seconds);

	if (s->win_cap < 2)
		s->win_cap = 2;
	/* what a step brings (resampled, with the converter's rounding) after a segment's worth held back */
	s->pcm_cap = s->seg_samples + s->hop_samples + step_out + step_out / 8;
	if (sample_mode(s))
		s->pcm_cap += (int64_t) s->win_cap * s->hop_samples;
	s->pcm = malloc(sizeof(float) * (size_t) s->pcm_cap);
	s->win_fp = malloc(sizeof(float) * (size_t) s->win_cap * s->dim);
	s->win_t = malloc(sizeof(double) * (size_t) s->win_cap);
	s->win_content = malloc((size_t) s->win_cap);
	if (!s->pcm || !s->win_fp || !s->win_t || !s->win_content)
	{
		fprintf(stderr, "sampleid " CMD ": out of memory\n");
		return -1;
	}
	return 0;
}

static void
monitor_state_free(monitor_state *s)
{
	free(s->pcm), free(s->win_fp), free(s->win_t), free(s->win_content);
}

/* A stream may run for hours before its first use: an unregistered catalogue is refused now. */
static int
catalogue_registered(PGconn *conn, const char *catalogue)
{
	PGresult   *r = cli_pq_exec(conn, CMD, "SELECT sampleid_catalogue($1)", 1, &catalogue);

	PQclear(r);
	return r != NULL;
}

static void
print_header(cli_output_format format)
{
	if (format == CLI_OUT_TSV)
		printf("recording_id\tstream_start\tstream_end\twall_start\twall_end\tref_start\tref_end\t"
			   "similarity\tsemitones\ttempo\n");
	fflush(stdout);
}

int
cmd_monitor(int argc, char **argv)
{
	monitor_state s = {.o = {NULL, NULL, NULL, "segments", NULL, NULL, NULL, 16000, 8, 2,
	isatty(STDOUT_FILENO) ? CLI_OUT_TABLE : CLI_OUT_TSV}};
	sid_model  *m = NULL;
	sid_error	err;
	int			rc = parse_monitor_options(argc, argv, &s.o);

	if (rc >= 0)
		return rc;
	rc = 1;
	if (!(m = cli_load_model(s.o.model_spec, s.o.dir_opt)))
		return 1;
	if (cli_semitones_option(CMD, s.o.semitones, m, &s.lo, &s.hi) != 0)
	{
		sid_model_free(m);
		return 2;
	}
	if (!(s.e = sid_embedder_create(m, 0.0, 16, &err)))
		fprintf(stderr, "sampleid " CMD ": %s\n", err.msg);
	else if ((s.conn = cli_pq_connect(CMD, s.o.dsn)) &&
			 cli_pq_check_model(s.conn, CMD, s.o.catalogue, m->name, m->sha256) == 0 &&
			 catalogue_registered(s.conn, s.o.catalogue) &&
			 monitor_state_init(&s) == 0)
	{
		cli_catch_stop_signals(0);	/* a read blocked on the feed returns at once */
		print_header(s.o.format);
		remember_read(&s);		/* stream second 0 is now */
		rc = monitor_stream(&s);
		if (cli_stop_signal)
			fprintf(stderr, "sampleid " CMD ": stopped by signal %d after %.1f s of stream\n",
					(int) cli_stop_signal, s.stream_now);
	}
	monitor_state_free(&s);
	PQfinish(s.conn);
	sid_embedder_free(s.e);
	sid_model_free(m);
	return rc;
}
