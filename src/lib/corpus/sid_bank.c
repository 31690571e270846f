/*
 * sid_bank.c - bank files of shifted and stretched tracks; see sid_bank.h.
 */
#include "corpus/sid_bank.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sid_bytes.h"
#include "core/sid_pcm16.h"
#include "core/sid_rng.h"

#define MAGIC "SIDBANK1"
#define HEAD 16
#define ENTRY 24

void
sid_bank_file_name(char *out, size_t size, const char *bank_dir, const char *track_path,
				   int32_t rate)
{
	snprintf(out, size, "%s/%016llx-%d.sidbank", bank_dir,
			 (unsigned long long) sid_hash_string(track_path), (int) rate);
}

typedef struct bank_header
{
	uint32_t	rate,
				nv;
	sid_bank_variant v[SID_BANK_MAX_VARIANTS];
	uint64_t	offset[SID_BANK_MAX_VARIANTS],
				n[SID_BANK_MAX_VARIANTS];
} bank_header;

/* Parse and check a bank's header from its first `have` bytes; 0 on success. */
static int
parse_header(const unsigned char *b, size_t have, uint64_t file_size, bank_header *h)
{
	uint64_t	end = 0;

	if (have < HEAD || memcmp(b, MAGIC, 8) != 0)
		return -1;
	h->rate = sid_get_u32(b + 8);
	h->nv = sid_get_u32(b + 12);
	if (h->nv < 1 || h->nv > SID_BANK_MAX_VARIANTS || have < HEAD + (size_t) ENTRY * h->nv)
		return -1;
	for (uint32_t k = 0; k < h->nv; k++)
	{
		const unsigned char *e = b + HEAD + ENTRY * k;

		h->v[k].semitones = sid_get_f32(e);
		h->v[k].time_ratio = sid_get_f32(e + 4);
		h->offset[k] = sid_get_u64(e + 8);
		h->n[k] = sid_get_u64(e + 16);
		/* variants follow one another after the table, nothing overlaps */
		if (h->offset[k] != (k ? end : HEAD + (uint64_t) ENTRY * h->nv) ||
			h->n[k] > SID_STRETCH_MAX_SAMPLES * (uint64_t) SID_STRETCH_MAX_RATIO)
			return -1;
		end = h->offset[k] + 2 * h->n[k];
	}
	return end == file_size ? 0 : -1;
}

static FILE *
open_bank(const char *file, bank_header *h)
{
	unsigned char b[HEAD + ENTRY * SID_BANK_MAX_VARIANTS];
	FILE	   *f = fopen(file, "rb");
	struct stat sb;
	size_t		have;

	if (!f)
		return NULL;
	have = fread(b, 1, sizeof(b), f);
	if (fstat(fileno(f), &sb) != 0 || parse_header(b, have, (uint64_t) sb.st_size, h) != 0)
	{
		fclose(f);
		return NULL;
	}
	return f;
}

sid_status
sid_bank_map_open(const char *file, sid_bank_map *m, sid_error *err)
{
	bank_header h;
	struct stat sb;
	int			fd = open(file, O_RDONLY);

	memset(m, 0, sizeof(*m));
	if (fd < 0)
		return sid_fail(err, SID_EIO, "bank: cannot open %s: %s", file, strerror(errno));
	if (fstat(fd, &sb) != 0 || sb.st_size < HEAD)
	{
		close(fd);
		return sid_fail(err, SID_EFORMAT, "bank: %s is not a bank", file);
	}
	m->map = mmap(NULL, (size_t) sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->map == MAP_FAILED)
	{
		m->map = NULL;
		return sid_fail(err, SID_EIO, "bank: cannot map %s: %s", file, strerror(errno));
	}
	m->size = (size_t) sb.st_size;
	if (parse_header(m->map, m->size, (uint64_t) sb.st_size, &h) != 0)
	{
		sid_bank_map_close(m);
		return sid_fail(err, SID_EFORMAT, "bank: %s is incomplete or not a bank", file);
	}
	m->rate = (int32_t) h.rate;
	m->nv = (int) h.nv;
	for (int k = 0; k < m->nv; k++)
	{
		m->v[k] = h.v[k];
		m->pcm[k] = (const int16_t *) ((const unsigned char *) m->map + h.offset[k]);
		m->len[k] = (int64_t) h.n[k];
	}
	return SID_OK;
}

void
sid_bank_map_close(sid_bank_map *m)
{
	if (m->map)
		munmap(m->map, m->size);
	memset(m, 0, sizeof(*m));
}

int
sid_bank_complete(const char *file, int32_t rate, const sid_bank_variant *v, int nv)
{
	bank_header h;
	FILE	   *f = open_bank(file, &h);
	int			ok;

	if (!f)
		return 0;
	fclose(f);
	ok = h.rate == (uint32_t) rate && h.nv == (uint32_t) nv;
	for (int k = 0; ok && k < nv; k++)
		ok = h.v[k].semitones == v[k].semitones && h.v[k].time_ratio == v[k].time_ratio;
	return ok;
}

/* One variant's samples, appended to f as 16-bit PCM. */
static sid_status
write_variant(FILE *f, const float *pcm, size_t n, int32_t rate, const sid_bank_variant *v,
			  sid_stretch_engine engine, uint64_t *written, sid_error *err)
{
	float	   *y;
	int16_t    *s;
	size_t		m;
	sid_status	rc = sid_stretch(pcm, n, rate, v->time_ratio, v->semitones, engine, &y, &m, err);

	if (rc != SID_OK)
		return rc;
	s = malloc(m * sizeof(int16_t));
	if (!s)
		rc = sid_fail(err, SID_ENOMEM, "bank: out of memory");
	else
	{
		sid_pcm16_from_float(y, (int64_t) m, s);
		if (fwrite(s, sizeof(int16_t), m, f) != m)
			rc = sid_fail(err, SID_EIO, "bank: write failed: %s", strerror(errno));
	}
	*written = m;
	free(s);
	free(y);
	return rc;
}

sid_status
sid_bank_write_track(const char *file, const float *pcm, size_t n, int32_t rate,
					 const sid_bank_variant *v, int nv, sid_stretch_engine engine, sid_error *err)
{
	unsigned char b[HEAD + ENTRY * SID_BANK_MAX_VARIANTS] = {0};
	char		tmp[4096];
	uint64_t	at = HEAD + (uint64_t) ENTRY * nv;
	FILE	   *f;
	sid_status	rc = SID_OK;

	if (nv < 1 || nv > SID_BANK_MAX_VARIANTS)
		return sid_fail(err, SID_EINVAL, "bank: %d variants (1 .. %d)", nv, SID_BANK_MAX_VARIANTS);
	if ((size_t) snprintf(tmp, sizeof(tmp), "%s.tmp%ld", file, (long) getpid()) >= sizeof(tmp))
		return sid_fail(err, SID_EINVAL, "bank: path too long");
	if (!(f = fopen(tmp, "wb")))
		return sid_fail(err, SID_EIO, "bank: cannot create %s: %s", tmp, strerror(errno));
	memcpy(b, MAGIC, 8);
	sid_put_u32(b + 8, (uint32_t) rate);
	sid_put_u32(b + 12, (uint32_t) nv);
	/* the table is written last, once the lengths are known */
	if (fseek(f, (long) at, SEEK_SET) != 0)
		rc = sid_fail(err, SID_EIO, "bank: seek failed on %s", tmp);
	for (int k = 0; rc == SID_OK && k < nv; k++)
	{
		uint64_t	m = 0;

		rc = write_variant(f, pcm, n, rate, &v[k], engine, &m, err);
		sid_put_f32(b + HEAD + ENTRY * k, v[k].semitones);
		sid_put_f32(b + HEAD + ENTRY * k + 4, v[k].time_ratio);
		sid_put_u64(b + HEAD + ENTRY * k + 8, at);
		sid_put_u64(b + HEAD + ENTRY * k + 16, m);
		at += 2 * m;
	}
	if (rc == SID_OK && (fseek(f, 0, SEEK_SET) != 0 ||
						 fwrite(b, 1, HEAD + ENTRY * (size_t) nv, f) != HEAD + ENTRY * (size_t) nv))
		rc = sid_fail(err, SID_EIO, "bank: write failed on %s", tmp);
	if (fclose(f) != 0 && rc == SID_OK)
		rc = sid_fail(err, SID_EIO, "bank: write failed on %s: %s", tmp, strerror(errno));
	if (rc == SID_OK && rename(tmp, file) != 0)
		rc = sid_fail(err, SID_EIO, "bank: cannot rename %s: %s", tmp, strerror(errno));
	if (rc != SID_OK)
		unlink(tmp);
	return rc;
}

sid_status
sid_bank_read_variant(const char *file, int k, int16_t **pcm, int64_t *len,
					  sid_bank_variant *variant, sid_error *err)
{
	bank_header h;
	FILE	   *f = open_bank(file, &h);
	sid_status	rc = SID_OK;

	*pcm = NULL;
	*len = 0;
	if (!f)
		return sid_fail(err, SID_EFORMAT, "bank: %s is missing, incomplete or not a bank", file);
	if (k < 0 || (uint32_t) k >= h.nv)
		rc = sid_fail(err, SID_EINVAL, "bank: %s has %u variants, not %d", file, h.nv, k + 1);
	else if (!(*pcm = malloc((h.n[k] ? h.n[k] : 1) * sizeof(int16_t))))
		rc = sid_fail(err, SID_ENOMEM, "bank: out of memory");
	else if (fseek(f, (long) h.offset[k], SEEK_SET) != 0 ||
			 fread(*pcm, sizeof(int16_t), h.n[k], f) != h.n[k])
		rc = sid_fail(err, SID_EIO, "bank: cannot read %s", file);
	fclose(f);
	if (rc != SID_OK)
	{
		free(*pcm);
		*pcm = NULL;
		return rc;
	}
	*len = (int64_t) h.n[k];
	if (variant)
		*variant = h.v[k];
	return SID_OK;
}
