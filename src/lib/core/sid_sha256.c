/*
 * sid_sha256.c - SHA-256 through OpenSSL's one-shot EVP digest.
 */
#include "core/sid_sha256.h"

#include <openssl/evp.h>
#include <stdio.h>

void
sid_sha256_hex(const void *data, size_t len, char out[SID_SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	/* EVP_Digest fails only when OpenSSL cannot allocate a context */
	if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32)
	{
		out[0] = '\0';
		return;
	}
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}
