/*
 * sampleid.c - module entry point: registers every setting of the extension.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "pg/fingerprint.h"
#include "pg/sampleid.h"

PG_MODULE_MAGIC;

int			sampleid_max_dimensions = 2048;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("sampleid.max_dimensions",
							"Largest number of dimensions a fingerprint may have.",
							NULL,
							&sampleid_max_dimensions,
							2048, 1, FINGERPRINT_HARD_MAX_DIM,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	sampleid_device_init();
	sampleid_embed_init();
	sampleid_audio_init();
	sampleid_identify_init();
	ivfpq_init();

	MarkGUCPrefixReserved("sampleid");
}
