/*
 * sid_bank.h - precomputed banks of transposed and stretched audio for the
 * sample recipe (issue 11): rubberband costs far more per pair than the
 * encoder's step, so every train track is shifted and stretched once, one
 * file per track, and training draws from the files.
 *
 * A bank file: "SIDBANK1", rate (u32), variant count (u32), then per
 * variant semitones (f32), time ratio (f32), byte offset (u64) and samples
 * (u64), then each variant's 16-bit PCM; all little-endian.  A file is
 * written under a temporary name and renamed when complete, so an
 * interrupted run leaves either a whole file or none: a rerun skips the
 * tracks whose file is complete (`sampleid bank` resumes).
 */
#ifndef SID_BANK_H
#define SID_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "audio/sid_stretch.h"
#include "core/sid_error.h"

#define SID_BANK_MAX_VARIANTS 32

typedef struct sid_bank_variant
{
	float		semitones;		/* pitch shift, tempo kept */
	float		time_ratio;		/* output length over input length */
} sid_bank_variant;

/* bank_dir/<hash of the track's manifest path>-<rate>.sidbank */
void		sid_bank_file_name(char *out, size_t size, const char *bank_dir, const char *track_path,
							   int32_t rate);

/* Shift and stretch pcm[n] (at rate) into the nv variants and write them. */
sid_status	sid_bank_write_track(const char *file, const float *pcm, size_t n, int32_t rate,
								 const sid_bank_variant *v, int nv, sid_stretch_engine engine,
								 sid_error *err);

/* 1 when file is a complete bank of exactly these variants at rate. */
int			sid_bank_complete(const char *file, int32_t rate, const sid_bank_variant *v, int nv);

/* Variant k of a bank file: *pcm malloc'd, *len samples; *variant may be NULL. */
sid_status	sid_bank_read_variant(const char *file, int k, int16_t **pcm, int64_t *len,
								  sid_bank_variant *variant, sid_error *err);

/*
 * A bank file mapped read-only (its pages are read when touched and shared
 * through the page cache, so a split's banks need not fit in memory):
 * variant k is pcm[k][0 .. len[k]), 16-bit, at rate.
 */
typedef struct sid_bank_map
{
	void	   *map;
	size_t		size;
	int32_t		rate;
	int			nv;
	sid_bank_variant v[SID_BANK_MAX_VARIANTS];
	const int16_t *pcm[SID_BANK_MAX_VARIANTS];
	int64_t		len[SID_BANK_MAX_VARIANTS];
} sid_bank_map;

sid_status	sid_bank_map_open(const char *file, sid_bank_map *m, sid_error *err);
void		sid_bank_map_close(sid_bank_map *m);

#endif
