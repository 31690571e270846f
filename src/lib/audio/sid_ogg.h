/*
 * sid_ogg.h - a check of an Ogg stream's header pages before libsndfile
 * opens it.
 *
 * libsndfile 1.2's Ogg Vorbis reader leaks the codec setup it allocated
 * (vorbis_info_init, about 5.7 KB) when the stream headers cannot be read:
 * any input cut or corrupted inside them leaked that much per call, and a
 * backend repeating such an input grew without bound.  Refusing those inputs
 * here, before the decoder sees them, closes the leak for truncated and
 * checksum-damaged headers (docs/audio.md).
 */
#ifndef SID_OGG_H
#define SID_OGG_H

#include <stdint.h>

#include "core/sid_error.h"

/*
 * SID_OK when the input does not start with an Ogg page, or when every page
 * up to the first one that ends an audio packet (granule position > 0) is
 * complete and has a correct checksum; else SID_EFORMAT (what names the input
 * in the message).  Reads only those pages.
 */
extern sid_status sid_ogg_check_headers_memory(const void *data, int64_t len,
											   const char *what, sid_error *err);
extern sid_status sid_ogg_check_headers_file(const char *path, int64_t len,
											 const char *what, sid_error *err);

#endif
