/*
 * sampleid.h - module-wide declarations of the extension (PostgreSQL side).
 */
#ifndef SAMPLEID_H
#define SAMPLEID_H

/* Each part of the extension registers its settings from _PG_init. */
extern void sampleid_device_init(void);
extern void sampleid_embed_init(void);

/* The device inference runs on (a sid_device_kind); ERROR if none fits. */
extern int	sampleid_current_device(void);

#endif
