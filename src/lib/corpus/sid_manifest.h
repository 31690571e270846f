/*
 * sid_manifest.h - the corpus manifest: which audio files exist, how long they
 * are, and which split (train / validation / reference, or train / test for
 * noise) each belongs to.
 *
 * The manifest is a TSV file committed in the repository (data/manifest.tsv,
 * data/noise.tsv); docs/corpus.md describes it.  Lines starting with '#' are
 * comments, the first other line is the header
 *
 *     package  path  duration_s  sample_rate  channels  split
 *
 * and paths are relative to the corpus directory ($SAMPLEID_DATA).  Splits are
 * assigned by track (a file is a track), stratified per package, from a seed,
 * so the same seed and the same files give the same manifest.
 */
#ifndef SID_MANIFEST_H
#define SID_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/sid_error.h"

#define SID_SPLIT_NAME_MAX 16

typedef struct sid_manifest_entry
{
	char	   *package;
	char	   *path;			/* relative to the corpus directory */
	double		duration_s;
	int			sample_rate;
	int			channels;
	char		split[SID_SPLIT_NAME_MAX];
} sid_manifest_entry;

typedef struct sid_manifest
{
	sid_manifest_entry *entries;
	size_t		n;
	size_t		cap;
} sid_manifest;

/* One split and the share of each package's tracks it receives. */
typedef struct sid_split_share
{
	const char *name;
	double		fraction;		/* the last split takes the remainder */
} sid_split_share;

void		sid_manifest_init(sid_manifest *m);
void		sid_manifest_free(sid_manifest *m);

/* Append an entry (strings are copied). */
sid_status	sid_manifest_add(sid_manifest *m, const char *package, const char *path,
							 double duration_s, int sample_rate, int channels,
							 const char *split, sid_error *err);

/* Read a manifest file; entries are appended to m. */
sid_status	sid_manifest_read(const char *file, sid_manifest *m, sid_error *err);

/* Write header and entries (sorted as they are) to out. */
sid_status	sid_manifest_write(FILE *out, const sid_manifest *m, sid_error *err);

/* Sort by package, then path (bytewise), so the split does not depend on the
 * order files were listed in. */
void		sid_manifest_sort(sid_manifest *m);

/*
 * Assign splits by track, per package: each package's tracks (in sorted
 * order) are shuffled with the stream hash(package) of seed, the first
 * round(fraction * n) go to the first split, the next to the second, and the
 * last split takes the rest.  Entries whose package is listed in
 * forced_packages[i] all go to forced_splits[i] instead.
 */
sid_status	sid_manifest_assign_splits(sid_manifest *m, uint64_t seed,
									   const sid_split_share *shares, int nshares,
									   const char *const *forced_packages,
									   const char *const *forced_splits, int nforced,
									   sid_error *err);

/* Number of entries of a split, and their total duration. */
size_t		sid_manifest_count(const sid_manifest *m, const char *split, double *seconds);

#endif
