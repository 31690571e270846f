/*
 * test_manifest.c - the corpus manifest: seeded by-track split, round trip,
 * bad input; and the seeded random numbers it relies on.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus/sid_manifest.h"
#include "core/sid_rng.h"
#include "tap.h"

static void
fill(sid_manifest *m)
{
	char		path[64];

	sid_manifest_init(m);
	/* listed out of order on purpose: the split must not depend on it */
	for (int i = 19; i >= 0; i--)
	{
		snprintf(path, sizeof(path), "music/a/track%02d.ogg", i);
		sid_manifest_add(m, "pkg-a", path, 60.0 + i, 44100, 2, "", NULL);
	}
	for (int i = 0; i < 3; i++)
	{
		snprintf(path, sizeof(path), "music/b/t%d.ogg", i);
		sid_manifest_add(m, "pkg-b", path, 100.0, 48000, 1, "", NULL);
	}
	for (int i = 0; i < 4; i++)
	{
		snprintf(path, sizeof(path), "music/c/loop%d.ogg", i);
		sid_manifest_add(m, "pkg-c", path, 1500.0, 44100, 2, "", NULL);
	}
}

static void
test_rng(void)
{
	sid_rng		a,
				b,
				c;
	int			same = 1,
				differ = 0;
	double		mean = 0,
				var = 0;
	int			n = 20000;
	size_t		counts[5] = {0};

	sid_rng_init(&a, 42, 7);
	sid_rng_init(&b, 42, 7);
	sid_rng_init(&c, 42, 8);
	for (int i = 0; i < 100; i++)
	{
		uint64_t	x = sid_rng_next(&a);

		same &= x == sid_rng_next(&b);
		differ += x != sid_rng_next(&c);
	}
	CHECK(same, "rng: same seed and stream give the same sequence");
	CHECK(differ == 100, "rng: another stream gives another sequence");
	for (int i = 0; i < n; i++)
	{
		float		g = sid_rng_normal(&a);

		mean += g;
		var += (double) g * g;
		counts[sid_rng_below(&a, 5)]++;
	}
	mean /= n;
	var = var / n - mean * mean;
	CHECK_NEAR(mean, 0.0, 0.03, "rng: normal mean %.4f near 0", mean);
	CHECK_NEAR(var, 1.0, 0.05, "rng: normal variance %.4f near 1", var);
	CHECK(counts[0] > 3700 && counts[4] > 3700 && counts[0] < 4300 && counts[4] < 4300,
		  "rng: below(5) is uniform (%zu, %zu of %d)", counts[0], counts[4], n);
}

/* Per package, the shares of the split (pkg-c is forced to train). */
static void
check_split_shares(const sid_manifest *m)
{
	int			ref_a = 0,
				val_a = 0,
				train_a = 0,
				ref_b = 0,
				c_train = 0;

	for (size_t i = 0; i < m->n; i++)
	{
		const sid_manifest_entry *e = &m->entries[i];

		if (strcmp(e->package, "pkg-a") == 0)
		{
			ref_a += strcmp(e->split, "reference") == 0;
			val_a += strcmp(e->split, "validation") == 0;
			train_a += strcmp(e->split, "train") == 0;
		}
		else if (strcmp(e->package, "pkg-b") == 0)
			ref_b += strcmp(e->split, "reference") == 0;
		else
			c_train += strcmp(e->split, "train") == 0;
	}
	CHECK(ref_a == 4 && val_a == 2 && train_a == 14,
		  "split: 20 tracks give 4 reference, 2 validation, 14 train (%d %d %d)", ref_a, val_a, train_a);
	CHECK(ref_b == 1, "split: 3 tracks give round(0.6) = 1 reference track (%d)", ref_b);
	CHECK(c_train == 4, "split: a forced package goes entirely to train (%d)", c_train);
}

/* A manifest written and read back; malformed and missing files refused. */
static void
test_write_read(const sid_manifest *m)
{
	char		tmpl[] = "/tmp/test_manifest.XXXXXX";
	int			fd = mkstemp(tmpl);
	FILE	   *f = fdopen(fd, "w");
	sid_manifest back;
	sid_error	err;
	int			equal;

	fprintf(f, "# comment\n");
	CHECK(sid_manifest_write(f, m, &err) == SID_OK, "write: ok");
	fclose(f);
	sid_manifest_init(&back);
	CHECK(sid_manifest_read(tmpl, &back, &err) == SID_OK, "read: ok");
	equal = back.n == m->n;
	for (size_t i = 0; equal && i < m->n; i++)
		equal = strcmp(back.entries[i].path, m->entries[i].path) == 0 &&
			strcmp(back.entries[i].split, m->entries[i].split) == 0 &&
			fabs(back.entries[i].duration_s - m->entries[i].duration_s) < 1e-3 &&
			back.entries[i].channels == m->entries[i].channels;
	CHECK(equal, "read: round trip preserves every entry");
	sid_manifest_free(&back);

	f = fopen(tmpl, "w");
	fprintf(f, "package\tpath\tduration_s\tsample_rate\tchannels\tsplit\nx\ty\tabc\t1\t1\ttrain\n");
	fclose(f);
	CHECK(sid_manifest_read(tmpl, &back, &err) == SID_EFORMAT && strstr(err.msg, "duration"),
		  "read: a bad duration is a format error naming the field (%s)", err.msg);
	sid_manifest_free(&back);
	f = fopen(tmpl, "w");
	fprintf(f, "x\ty\t1\t1\t1\ttrain\n");
	fclose(f);
	CHECK(sid_manifest_read(tmpl, &back, &err) == SID_EFORMAT, "read: a missing header is a format error");
	sid_manifest_free(&back);
	unlink(tmpl);
	CHECK(sid_manifest_read(tmpl, &back, &err) == SID_EIO, "read: a missing file is an I/O error");
}

static void
test_split(void)
{
	static const sid_split_share shares[] = {{"reference", 0.2}, {"validation", 0.1}, {"train", 0}};
	const char *fp[] = {"pkg-c"};
	const char *fs[] = {"train"};
	sid_manifest m1,
				m2;
	int			same = 1;
	sid_error	err;

	fill(&m1);
	fill(&m2);
	/* the second copy is listed in a different order */
	for (size_t i = 0; i < m2.n / 2; i++)
	{
		sid_manifest_entry t = m2.entries[i];

		m2.entries[i] = m2.entries[m2.n - 1 - i];
		m2.entries[m2.n - 1 - i] = t;
	}
	CHECK(sid_manifest_assign_splits(&m1, 99, shares, 3, fp, fs, 1, &err) == SID_OK, "split: assigned");
	sid_manifest_assign_splits(&m2, 99, shares, 3, fp, fs, 1, &err);
	for (size_t i = 0; i < m1.n; i++)
		same &= strcmp(m1.entries[i].path, m2.entries[i].path) == 0 &&
			strcmp(m1.entries[i].split, m2.entries[i].split) == 0;
	CHECK(same, "split: deterministic for a seed, whatever the listing order");

	check_split_shares(&m1);

	/* another seed gives another split */
	sid_manifest_assign_splits(&m2, 100, shares, 3, fp, fs, 1, &err);
	same = 1;
	for (size_t i = 0; i < m1.n; i++)
		same &= strcmp(m1.entries[i].split, m2.entries[i].split) == 0;
	CHECK(!same, "split: another seed gives another split");

	test_write_read(&m1);
	sid_manifest_free(&m1);
	sid_manifest_free(&m2);
}

int
main(void)
{
	test_rng();
	test_split();
	return tap_done();
}
