/*
 * sid_sha256.h - SHA-256 of a byte buffer, as lowercase hex.
 *
 * A model is identified by the SHA-256 of its file, the same digest that
 * `sha256sum NAME.sidm` prints, so a catalogue can record which model
 * fingerprinted it and a client can check that its copy is the server's.
 * OpenSSL's libcrypto computes it (PostgreSQL links it already).
 */
#ifndef SID_SHA256_H
#define SID_SHA256_H

#include <stddef.h>

#define SID_SHA256_HEX_LEN 64

/* out receives SID_SHA256_HEX_LEN hex digits and a terminating NUL. */
void		sid_sha256_hex(const void *data, size_t len, char out[SID_SHA256_HEX_LEN + 1]);

#endif
