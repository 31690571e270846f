/*
 * cmd_report.c - `sampleid report --dsn DSN [--html FILE] [--csv FILE]`: the
 * rights report of a matches table (filled by sampleid match, or by hand)
 * from the server's sampleid_rights_report(): CSV with one row per use, and
 * a self-contained HTML page (no scripts, no network) with an inline-SVG
 * timeline per new work and a summary per rights holder.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_pq.h"

#define CMD "report"

/* Columns of sampleid_rights_report(), in order. */
enum
{
	COL_WORK, COL_WORK_START, COL_WORK_END, COL_RECORDING_ID, COL_TITLE, COL_ARTIST,
	COL_RIGHTS_HOLDER, COL_RECORDING_START, COL_RECORDING_END, COL_SECONDS, COL_CONFIDENCE,
	COL_MODEL, N_COLS
};

static const char *const csv_header =
"work,work_start,work_end,recording_id,title,artist,rights_holder,recording_start,"
"recording_end,seconds,confidence,model";

typedef struct report_options
{
	const char *dsn;
	const char *matches;
	const char *recordings;
	const char *html;
	const char *csv;
	int			max_uses;
} report_options;

static const struct option report_opts[] = {
	{"dsn", required_argument, NULL, 'd'},
	{"matches", required_argument, NULL, 'm'},
	{"recordings", required_argument, NULL, 'r'},
	{"html", required_argument, NULL, 'H'},
	{"csv", required_argument, NULL, 'c'},
	{"max-uses", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
report_usage(FILE *out)
{
	fprintf(out,
			"usage: sampleid report --dsn DSN [--html FILE] [--csv FILE] [--matches TABLE]\n"
			"                       [--recordings TABLE] [--max-uses N]\n"
			"The rights report of TABLE matches (default \"matches\"; docs/reference.md gives its\n"
			"columns) joined with the catalogue's recordings (default \"recordings\"):\n"
			"  --csv FILE   one row per use: %s\n"
			"  --html FILE  a self-contained page: a timeline per work, a summary per rights holder\n"
			"FILE \"-\" is stdout.  At least one of them; more than --max-uses uses (default\n"
			"1000000) is refused.\n", csv_header);
}

static int
parse_report_options(int argc, char **argv, report_options *o)
{
	int			c;

	memset(o, 0, sizeof(*o));
	o->matches = "matches";
	o->recordings = "recordings";
	o->max_uses = 1000000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", report_opts, NULL)) != -1)
	{
		if (c == 'd')
			o->dsn = optarg;
		else if (c == 'm')
			o->matches = optarg;
		else if (c == 'r')
			o->recordings = optarg;
		else if (c == 'H')
			o->html = optarg;
		else if (c == 'c')
			o->csv = optarg;
		else if (c == 'n')
		{
			if (cli_int_option(CMD, "--max-uses", optarg, 1, 100000000, &o->max_uses))
				return 2;
		}
		else
			return cli_usage(report_usage, c == 'h');
	}
	if (cli_stray_arguments(CMD, argc, argv, optind) != 0)
		return 2;
	if (!o->dsn || (!o->html && !o->csv))
	{
		fprintf(stderr, "sampleid report: --dsn and at least one of --html, --csv are required (see --help)\n");
		return 2;
	}
	return -1;
}

/* ---------- CSV ---------- */

static void
csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n"))
	{
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++)
	{
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void
write_csv(FILE *out, const PGresult *uses)
{
	fprintf(out, "%s\r\n", csv_header);
	for (int r = 0; r < PQntuples(uses); r++)
	{
		for (int c = 0; c < N_COLS; c++)
		{
			if (c)
				fputc(',', out);
			csv_field(out, PQgetvalue(uses, r, c));
		}
		fputs("\r\n", out);
	}
}

/* ---------- HTML ---------- */

static void
html_text(FILE *out, const char *s)
{
	for (; *s; s++)
	{
		const char *entity = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;"
			: *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;

		if (entity)
			fputs(entity, out);
		else
			fputc(*s, out);
	}
}

static const char *
or_unknown(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? "(unknown)" : PQgetvalue(res, r, c);
}

static double
num(const PGresult *res, int r, int c)
{
	return strtod(PQgetvalue(res, r, c), NULL);
}

#define SVG_WIDTH 960
#define SVG_LABEL 300			/* left margin for the recordings' names */
#define SVG_LANE 26
/* a picture stays readable: the table under it lists every use */
#define SVG_MAX_LANES 64
#define SVG_MAX_BARS 4096

/*
 * The timeline of one work: rows first..last-1 of uses (one work, sorted by
 * start).  One lane per catalogue recording (the first SVG_MAX_LANES; the
 * rest share the last), a bar per use along the work's time axis.
 */
static void
write_timeline(FILE *out, const PGresult *uses, int first, int last)
{
	const char *lane_ids[SVG_MAX_LANES];
	int			lane_row[SVG_MAX_LANES];	/* a row of each lane's recording, for its name */
	int			n_lanes = 0,
				lane_of[SVG_MAX_BARS];
	double		end = 1,
				scale;

	for (int r = first; r < last; r++)
	{
		int			l = 0;

		end = num(uses, r, COL_WORK_END) > end ? num(uses, r, COL_WORK_END) : end;
		while (l < n_lanes && strcmp(lane_ids[l], PQgetvalue(uses, r, COL_RECORDING_ID)) != 0)
			l++;
		if (l == n_lanes && n_lanes < SVG_MAX_LANES)
		{
			lane_row[n_lanes] = r;
			lane_ids[n_lanes++] = PQgetvalue(uses, r, COL_RECORDING_ID);
		}
		if (r - first < SVG_MAX_BARS)
			lane_of[r - first] = l < SVG_MAX_LANES ? l : SVG_MAX_LANES - 1;
	}
	scale = (SVG_WIDTH - SVG_LABEL - 20) / end;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">\n",
			SVG_WIDTH, 30 + SVG_LANE * n_lanes);
	for (int t = 0; t <= 10; t++)
		fprintf(out, "<line x1=\"%.1f\" y1=\"14\" x2=\"%.1f\" y2=\"%d\" class=\"tick\"/>"
				"<text x=\"%.1f\" y=\"11\" class=\"axis\">%.0f s</text>\n",
				SVG_LABEL + t * end / 10 * scale, SVG_LABEL + t * end / 10 * scale,
				20 + SVG_LANE * n_lanes, SVG_LABEL + t * end / 10 * scale, t * end / 10);
	for (int l = 0; l < n_lanes; l++)
	{
		fprintf(out, "<text x=\"4\" y=\"%d\" class=\"lane\">", 36 + SVG_LANE * l);
		html_text(out, or_unknown(uses, lane_row[l], COL_TITLE));
		fputs(" — ", out);
		html_text(out, or_unknown(uses, lane_row[l], COL_RIGHTS_HOLDER));
		fputs("</text>\n", out);
	}
	for (int r = first; r < last && r - first < SVG_MAX_BARS; r++)
	{
		int			y = 20 + SVG_LANE * lane_of[r - first];
		double		x0 = num(uses, r, COL_WORK_START),
					x1 = num(uses, r, COL_WORK_END);

		fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
				"style=\"opacity:%.2f\"><title>", SVG_LABEL + x0 * scale, y + 2,
				(x1 - x0) * scale > 2 ? (x1 - x0) * scale : 2, SVG_LANE - 6,
				0.35 + 0.65 * num(uses, r, COL_CONFIDENCE));
		fprintf(out, "%.1f-%.1f s of the work = %.1f-%.1f s of ", x0, x1,
				num(uses, r, COL_RECORDING_START), num(uses, r, COL_RECORDING_END));
		html_text(out, or_unknown(uses, r, COL_TITLE));
		fprintf(out, ", confidence %.2f</title></rect>\n", num(uses, r, COL_CONFIDENCE));
	}
	fputs("</svg>\n", out);
}

static void
write_use_table(FILE *out, const PGresult *uses, int first, int last)
{
	fputs("<table><tr><th>in the work</th><th>recording</th><th>artist</th><th>rights holder</th>"
		  "<th>in the recording</th><th>seconds</th><th>confidence</th></tr>\n", out);
	for (int r = first; r < last; r++)
	{
		fprintf(out, "<tr class=\"use\"><td>%.1f–%.1f s</td><td>", num(uses, r, COL_WORK_START),
				num(uses, r, COL_WORK_END));
		html_text(out, or_unknown(uses, r, COL_TITLE));
		fputs("</td><td>", out);
		html_text(out, or_unknown(uses, r, COL_ARTIST));
		fputs("</td><td>", out);
		html_text(out, or_unknown(uses, r, COL_RIGHTS_HOLDER));
		fprintf(out, "</td><td>%.1f–%.1f s</td><td>%.1f</td><td>%.2f</td></tr>\n",
				num(uses, r, COL_RECORDING_START), num(uses, r, COL_RECORDING_END),
				num(uses, r, COL_SECONDS), num(uses, r, COL_CONFIDENCE));
	}
	fputs("</table>\n", out);
}

static const char *const html_head =
"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<title>Rights report</title>\n<style>\n"
"body{font-family:sans-serif;margin:2em;color:#222;background:#fff}\n"
"table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
"td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}\n"
"th{background:#e8eef6}\n"
"svg rect{fill:#2a6fdb}\nsvg .tick{stroke:#ccc}\nsvg text{font-size:12px;fill:#333}\n"
"</style></head><body>\n<h1>Rights report</h1>\n";

static void
write_html(FILE *out, const PGresult *uses, const PGresult *holders)
{
	fputs(html_head, out);
	fprintf(out, "<p>%d uses of catalogue recordings.</p>\n<h2>By rights holder</h2>\n"
			"<table id=\"holders\"><tr><th>rights holder</th><th>works</th><th>uses</th>"
			"<th>seconds used</th></tr>\n", PQntuples(uses));
	for (int r = 0; r < PQntuples(holders); r++)
	{
		fputs("<tr class=\"holder\"><td>", out);
		html_text(out, PQgetvalue(holders, r, 0));
		fprintf(out, "</td><td>%s</td><td>%s</td><td>%.1f</td></tr>\n", PQgetvalue(holders, r, 1),
				PQgetvalue(holders, r, 2), num(holders, r, 3));
	}
	fputs("</table>\n", out);
	for (int first = 0, last; first < PQntuples(uses); first = last)
	{
		for (last = first + 1; last < PQntuples(uses) &&
			 strcmp(PQgetvalue(uses, last, COL_WORK), PQgetvalue(uses, first, COL_WORK)) == 0; last++)
			;
		fputs("<section class=\"work\"><h2>", out);
		html_text(out, PQgetvalue(uses, first, COL_WORK));
		fputs("</h2>\n", out);
		write_timeline(out, uses, first, last);
		write_use_table(out, uses, first, last);
		fputs("</section>\n", out);
	}
	fputs("</body></html>\n", out);
}

/* Writes to path ("-": stdout) with fn; 0, or -1 having said why. */
static int
write_file(const char *path, void (*fn) (FILE *, const PGresult *, const PGresult *),
		   const PGresult *uses, const PGresult *holders)
{
	FILE	   *out = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	int			bad;

	if (!out)
	{
		fprintf(stderr, "sampleid report: cannot write \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	fn(out, uses, holders);
	bad = ferror(out);
	if (out != stdout ? fclose(out) != 0 : fflush(out) != 0)
		bad = 1;
	if (bad)
		fprintf(stderr, "sampleid report: writing \"%s\" failed: %s\n", path, strerror(errno));
	return bad ? -1 : 0;
}

static void
write_csv_file(FILE *out, const PGresult *uses, const PGresult *holders)
{
	(void) holders;
	write_csv(out, uses);
}

int
cmd_report(int argc, char **argv)
{
	report_options o;
	int			status = parse_report_options(argc, argv, &o);
	char		limit[16];
	const char *params[3];
	PGconn	   *conn;
	PGresult   *uses = NULL,
			   *holders = NULL;

	if (status >= 0)
		return status;
	if (!(conn = cli_pq_connect(CMD, o.dsn)))
		return 1;
	snprintf(limit, sizeof(limit), "%d", o.max_uses + 1);
	params[0] = o.matches;
	params[1] = o.recordings;
	params[2] = limit;
	status = 1;
	uses = cli_pq_exec(conn, CMD, "SELECT * FROM sampleid_rights_report($1, $2) LIMIT $3", 3, params);
	holders = uses ? cli_pq_exec(conn, CMD,
								 "SELECT coalesce(rights_holder, '(unknown)'), count(DISTINCT work), "
								 "count(*), sum(seconds) FROM sampleid_rights_report($1, $2) "
								 "GROUP BY 1 ORDER BY 4 DESC, 1", 2, params) : NULL;
	if (uses && PQntuples(uses) > o.max_uses)
		fprintf(stderr, "sampleid report: more than %d uses (--max-uses)\n", o.max_uses);
	else if (holders &&
			 (!o.csv || write_file(o.csv, write_csv_file, uses, holders) == 0) &&
			 (!o.html || write_file(o.html, write_html, uses, holders) == 0))
	{
		fprintf(stderr, "sampleid report: %d uses of %d rights holders%s%s%s%s\n", PQntuples(uses),
				PQntuples(holders), o.csv ? "; CSV " : "", o.csv ? o.csv : "",
				o.html ? "; HTML " : "", o.html ? o.html : "");
		status = 0;
	}
	PQclear(uses);
	PQclear(holders);
	PQfinish(conn);
	return status;
}
