/*
 * sid_bytes.h - little-endian fields and whole-file I/O for the library's
 * file formats (model files, checkpoints): explicit byte order so files do
 * not depend on the host or on struct padding.
 */
#ifndef SID_BYTES_H
#define SID_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/sid_error.h"

static inline void
sid_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static inline uint32_t
sid_get_u32(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline void
sid_put_u64(unsigned char *p, uint64_t v)
{
	sid_put_u32(p, (uint32_t) (v & 0xffffffffu));
	sid_put_u32(p + 4, (uint32_t) (v >> 32));
}

static inline uint64_t
sid_get_u64(const unsigned char *p)
{
	return (uint64_t) sid_get_u32(p) | (uint64_t) sid_get_u32(p + 4) << 32;
}

static inline void
sid_put_f32(unsigned char *p, float f)
{
	uint32_t	v;

	memcpy(&v, &f, 4);
	sid_put_u32(p, v);
}

static inline float
sid_get_f32(const unsigned char *p)
{
	uint32_t	v = sid_get_u32(p);
	float		f;

	memcpy(&f, &v, 4);
	return f;
}

/* CRC-32 (IEEE 802.3, as zlib's crc32), continuing from crc (start at 0). */
uint32_t	sid_crc32(uint32_t crc, const void *data, size_t len);

/* Writes path atomically: a temporary file beside it, fsync, rename. */
sid_status	sid_write_file_atomic(const char *path, const void *data, size_t len, sid_error *err);

/* Prefixes err's message with the file's name. */
void		sid_error_name_file(sid_error *err, const char *path);

/* Reads a whole regular file of at most max_len bytes (malloc'd; *len its size). */
void	   *sid_read_file(const char *path, size_t max_len, size_t *len, sid_error *err);

#endif
