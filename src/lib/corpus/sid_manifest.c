/*
 * sid_manifest.c - reading, writing and splitting the corpus manifest.
 */
#include "corpus/sid_manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_rng.h"

static const char header[] = "package\tpath\tduration_s\tsample_rate\tchannels\tsplit";

void
sid_manifest_init(sid_manifest *m)
{
	m->entries = NULL;
	m->n = 0;
	m->cap = 0;
}

void
sid_manifest_free(sid_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
	{
		free(m->entries[i].package);
		free(m->entries[i].path);
	}
	free(m->entries);
	sid_manifest_init(m);
}

sid_status
sid_manifest_add(sid_manifest *m, const char *package, const char *path,
				 double duration_s, int sample_rate, int channels,
				 const char *split, sid_error *err)
{
	sid_manifest_entry *e;

	if (!package || !*package || !path || !*path || strchr(package, '\t') ||
		strchr(path, '\t') || strchr(path, '\n'))
		return sid_fail(err, SID_EINVAL, "manifest: empty package or path, or one containing a tab or newline");
	if (split && strlen(split) >= SID_SPLIT_NAME_MAX)
		return sid_fail(err, SID_EINVAL, "manifest: split name \"%s\" longer than %d bytes",
						split, SID_SPLIT_NAME_MAX - 1);
	if (m->n == m->cap)
	{
		size_t		cap = m->cap ? 2 * m->cap : 64;
		sid_manifest_entry *grown = realloc(m->entries, cap * sizeof(*grown));

		if (!grown)
			return sid_fail(err, SID_ENOMEM, "manifest: out of memory");
		m->entries = grown;
		m->cap = cap;
	}
	e = &m->entries[m->n];
	e->package = strdup(package);
	e->path = strdup(path);
	if (!e->package || !e->path)
	{
		free(e->package);
		free(e->path);
		return sid_fail(err, SID_ENOMEM, "manifest: out of memory");
	}
	e->duration_s = duration_s;
	e->sample_rate = sample_rate;
	e->channels = channels;
	snprintf(e->split, sizeof(e->split), "%s", split ? split : "");
	m->n++;
	return SID_OK;
}

/* Split one line into exactly n tab-separated fields (modifies the line). */
static int
split_fields(char *line, char **fields, int n)
{
	int			k = 0;

	fields[k++] = line;
	for (char *p = line; *p; p++)
		if (*p == '\t')
		{
			if (k == n)
				return -1;
			*p = '\0';
			fields[k++] = p + 1;
		}
	return k == n ? 0 : -1;
}

sid_status
sid_manifest_read(const char *file, sid_manifest *m, sid_error *err)
{
	FILE	   *in = fopen(file, "r");
	char	   *line = NULL;
	size_t		linecap = 0;
	ssize_t		len;
	long		lineno = 0;
	int			seen_header = 0;
	sid_status	rc = SID_OK;

	if (!in)
		return sid_fail(err, SID_EIO, "could not open manifest \"%s\": %s", file, strerror(errno));
	while ((len = getline(&line, &linecap, in)) >= 0)
	{
		char	   *f[6];
		char	   *end;
		double		dur;
		long		rate,
					ch;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (!seen_header)
		{
			if (strcmp(line, header) != 0)
			{
				rc = sid_fail(err, SID_EFORMAT, "%s:%ld: expected the header \"%s\"",
							  file, lineno, header);
				break;
			}
			seen_header = 1;
			continue;
		}
		if (split_fields(line, f, 6) != 0)
		{
			rc = sid_fail(err, SID_EFORMAT, "%s:%ld: expected 6 tab-separated fields", file, lineno);
			break;
		}
		errno = 0;
		dur = strtod(f[2], &end);
		if (errno || *end || !(dur >= 0))
		{
			rc = sid_fail(err, SID_EFORMAT, "%s:%ld: bad duration \"%s\"", file, lineno, f[2]);
			break;
		}
		rate = strtol(f[3], &end, 10);
		if (*end || rate <= 0 || rate > 1000000)
		{
			rc = sid_fail(err, SID_EFORMAT, "%s:%ld: bad sample rate \"%s\"", file, lineno, f[3]);
			break;
		}
		ch = strtol(f[4], &end, 10);
		if (*end || ch <= 0 || ch > 256)
		{
			rc = sid_fail(err, SID_EFORMAT, "%s:%ld: bad channel count \"%s\"", file, lineno, f[4]);
			break;
		}
		rc = sid_manifest_add(m, f[0], f[1], dur, (int) rate, (int) ch, f[5], err);
		if (rc != SID_OK)
			break;
	}
	if (rc == SID_OK && ferror(in))
		rc = sid_fail(err, SID_EIO, "error reading manifest \"%s\"", file);
	if (rc == SID_OK && !seen_header)
		rc = sid_fail(err, SID_EFORMAT, "manifest \"%s\" has no header line", file);
	free(line);
	fclose(in);
	return rc;
}

sid_status
sid_manifest_write(FILE *out, const sid_manifest *m, sid_error *err)
{
	fprintf(out, "%s\n", header);
	for (size_t i = 0; i < m->n; i++)
	{
		const sid_manifest_entry *e = &m->entries[i];

		fprintf(out, "%s\t%s\t%.3f\t%d\t%d\t%s\n", e->package, e->path, e->duration_s,
				e->sample_rate, e->channels, e->split);
	}
	if (fflush(out) != 0 || ferror(out))
		return sid_fail(err, SID_EIO, "error writing manifest: %s", strerror(errno));
	return SID_OK;
}

static int
entry_cmp(const void *a, const void *b)
{
	const sid_manifest_entry *x = a,
			   *y = b;
	int			c = strcmp(x->package, y->package);

	return c ? c : strcmp(x->path, y->path);
}

void
sid_manifest_sort(sid_manifest *m)
{
	if (m->n > 1)
		qsort(m->entries, m->n, sizeof(m->entries[0]), entry_cmp);
}

sid_status
sid_manifest_assign_splits(sid_manifest *m, uint64_t seed,
						   const sid_split_share *shares, int nshares,
						   const char *const *forced_packages,
						   const char *const *forced_splits, int nforced,
						   sid_error *err)
{
	size_t	   *order;
	double		total = 0;

	if (nshares < 1)
		return sid_fail(err, SID_EINVAL, "manifest: no splits given");
	for (int s = 0; s < nshares; s++)
	{
		if (!(shares[s].fraction >= 0 && shares[s].fraction <= 1) ||
			strlen(shares[s].name) >= SID_SPLIT_NAME_MAX)
			return sid_fail(err, SID_EINVAL, "manifest: bad split \"%s\" (fraction %g)",
							shares[s].name, shares[s].fraction);
		total += shares[s].fraction;
	}
	if (total > 1.0 + 1e-9)
		return sid_fail(err, SID_EINVAL, "manifest: split fractions add up to %g > 1", total);
	for (int f = 0; f < nforced; f++)
		if (strlen(forced_splits[f]) >= SID_SPLIT_NAME_MAX)
			return sid_fail(err, SID_EINVAL, "manifest: split name \"%s\" too long", forced_splits[f]);

	sid_manifest_sort(m);
	order = malloc((m->n ? m->n : 1) * sizeof(*order));
	if (!order)
		return sid_fail(err, SID_ENOMEM, "manifest: out of memory");

	for (size_t first = 0; first < m->n;)
	{
		const char *pkg = m->entries[first].package;
		const char *forced = NULL;
		size_t		n = 0;
		size_t		next = 0;
		sid_rng		rng;

		while (first + n < m->n && strcmp(m->entries[first + n].package, pkg) == 0)
			n++;
		for (int f = 0; f < nforced; f++)
			if (strcmp(forced_packages[f], pkg) == 0)
				forced = forced_splits[f];
		for (size_t i = 0; i < n; i++)
			order[i] = first + i;
		sid_rng_init(&rng, seed, sid_hash_string(pkg));
		sid_rng_shuffle(&rng, order, n);
		for (int s = 0; s < nshares; s++)
		{
			size_t		count = n - next;

			if (s < nshares - 1)
			{
				double		want = shares[s].fraction * (double) n + 0.5;

				count = (size_t) want;
				if (count > n - next)
					count = n - next;
			}
			for (size_t i = 0; i < count; i++, next++)
				snprintf(m->entries[order[next]].split, SID_SPLIT_NAME_MAX, "%s",
						 forced ? forced : shares[s].name);
		}
		first += n;
	}
	free(order);
	return SID_OK;
}

size_t
sid_manifest_count(const sid_manifest *m, const char *split, double *seconds)
{
	size_t		n = 0;
	double		s = 0;

	for (size_t i = 0; i < m->n; i++)
		if (!split || strcmp(m->entries[i].split, split) == 0)
		{
			n++;
			s += m->entries[i].duration_s;
		}
	if (seconds)
		*seconds = s;
	return n;
}
