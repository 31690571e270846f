/*
 * sid_ogg.c - walk an Ogg stream's header pages (RFC 3533) and refuse a
 * truncated or damaged one before libsndfile's decoder leaks on it
 * (sid_ogg.h says why).
 */
#include "audio/sid_ogg.h"
#include "core/sid_bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OGG_HEADER_BYTES 27
#define OGG_MAX_PAGE_BYTES (OGG_HEADER_BYTES + 255 + 255 * 255)

/* Reads n bytes at offset into buf; returns how many it read. */
typedef int64_t (*ogg_read_fn) (void *arg, int64_t offset, unsigned char *buf, int64_t n);

/* Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0. */
static uint32_t
ogg_crc(const unsigned char *p, int64_t n)
{
	uint32_t	crc = 0;
	int64_t		i;
	int			k;

	for (i = 0; i < n; i++)
	{
		crc ^= (uint32_t) p[i] << 24;
		for (k = 0; k < 8; k++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

/*
 * Check the page at offset, read into page[] (OGG_MAX_PAGE_BYTES): a header
 * page must be complete with a correct checksum; the first page that ends an
 * audio packet (granule position > 0) ends the walk (*audio), as the decoder
 * has its setup by then and a truncated audio page only shortens the audio.
 */
static sid_status
check_page(ogg_read_fn read_at, void *arg, int64_t offset, int64_t len, unsigned char *page,
		   int64_t *page_len, int *audio, const char *what, sid_error *err)
{
	int64_t		body = 0,
				n,
				i;
	int			nseg;
	uint32_t	stored;

	if (len - offset < OGG_HEADER_BYTES ||
		read_at(arg, offset, page, OGG_HEADER_BYTES) != OGG_HEADER_BYTES ||
		memcmp(page, "OggS", 4) != 0)
		return sid_fail(err, SID_EFORMAT,
						"%s is truncated or malformed: no complete Ogg page at byte %lld, within the stream headers",
						what, (long long) offset);
	*audio = (int64_t) sid_get_u64(page + 6) > 0;
	if (*audio)
		return SID_OK;
	nseg = page[26];
	if (len - offset < OGG_HEADER_BYTES + nseg ||
		read_at(arg, offset + OGG_HEADER_BYTES, page + OGG_HEADER_BYTES, nseg) != nseg)
		return sid_fail(err, SID_EFORMAT,
						"%s is truncated: the Ogg page at byte %lld, within the stream headers, is incomplete",
						what, (long long) offset);
	for (i = 0; i < nseg; i++)
		body += page[OGG_HEADER_BYTES + i];
	n = OGG_HEADER_BYTES + nseg + body;
	if (len - offset < n ||
		read_at(arg, offset + OGG_HEADER_BYTES + nseg, page + OGG_HEADER_BYTES + nseg, body) != body)
		return sid_fail(err, SID_EFORMAT,
						"%s is truncated: the Ogg page at byte %lld needs %lld bytes, %lld remain, within the stream headers",
						what, (long long) offset, (long long) n, (long long) (len - offset));
	stored = sid_get_u32(page + 22);
	memset(page + 22, 0, 4);
	if (ogg_crc(page, n) != stored)
		return sid_fail(err, SID_EFORMAT,
						"%s is damaged: the Ogg page at byte %lld, within the stream headers, fails its checksum",
						what, (long long) offset);
	*page_len = n;
	return SID_OK;
}

static sid_status
check_headers(ogg_read_fn read_at, void *arg, int64_t len, const char *what, sid_error *err)
{
	unsigned char *page;
	int64_t		offset = 0;
	int			audio = 0;
	sid_status	st = SID_OK;

	if (len < 4)
		return SID_OK;
	page = malloc(OGG_MAX_PAGE_BYTES);
	if (page == NULL)
		return sid_fail(err, SID_ENOMEM, "out of memory for an Ogg page");
	if (read_at(arg, 0, page, 4) == 4 && memcmp(page, "OggS", 4) == 0)
	{
		while (st == SID_OK && !audio)
		{
			int64_t		n = 0;

			st = check_page(read_at, arg, offset, len, page, &n, &audio, what, err);
			offset += n;
		}
	}
	free(page);
	return st;
}

typedef struct memory_input
{
	const unsigned char *data;
	int64_t		len;
} memory_input;

static int64_t
read_memory(void *arg, int64_t offset, unsigned char *buf, int64_t n)
{
	memory_input *in = arg;

	if (offset < 0 || offset >= in->len)
		return 0;
	if (n > in->len - offset)
		n = in->len - offset;
	memcpy(buf, in->data + offset, (size_t) n);
	return n;
}

static int64_t
read_file(void *arg, int64_t offset, unsigned char *buf, int64_t n)
{
	FILE	   *f = arg;

	if (fseeko(f, (off_t) offset, SEEK_SET) != 0)
		return 0;
	return (int64_t) fread(buf, 1, (size_t) n, f);
}

sid_status
sid_ogg_check_headers_memory(const void *data, int64_t len, const char *what, sid_error *err)
{
	memory_input in = {data, len};

	return check_headers(read_memory, &in, len, what, err);
}

sid_status
sid_ogg_check_headers_file(const char *path, int64_t len, const char *what, sid_error *err)
{
	FILE	   *f = fopen(path, "rb");
	sid_status	st;

	if (f == NULL)
		return SID_OK;			/* libsndfile's open reports it */
	st = check_headers(read_file, f, len, what, err);
	fclose(f);
	return st;
}
