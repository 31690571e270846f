/*
 * test_bank.c - bank files of shifted and stretched tracks
 * (corpus/sid_bank.h): a written bank reads back variant by variant with
 * the stretched lengths and the shifted pitch; it is complete only for the
 * variants and rate it was made with; a truncated or foreign file is
 * incomplete and refused; a failed write leaves no file.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sid_pcm16.h"
#include "corpus/sid_bank.h"
#include "tap.h"

#define SR 16000

int
main(void)
{
	char		dir[] = "/tmp/test_bank.XXXXXX",
				file[600],
				cmd[700];
	const sid_bank_variant v[] = {{2, 1}, {0, 1.5f}, {-3, 1}};
	const sid_bank_variant other[] = {{2, 1}, {0, 1.25f}, {-3, 1}};
	float		x[SR];
	int16_t    *pcm = NULL;
	int64_t		len = 0;
	sid_bank_variant got;
	sid_error	err;
	sid_status	rc;

	if (!mkdtemp(dir))
		return 1;
	for (int i = 0; i < SR; i++)
		x[i] = (float) (0.5 * sin(2 * M_PI * 440 * i / SR));
	sid_bank_file_name(file, sizeof(file), dir, "music/a/track.ogg", SR);
	CHECK(strstr(file, ".sidbank") && strncmp(file, dir, strlen(dir)) == 0, "name: %s", file + strlen(dir));
	CHECK(!sid_bank_complete(file, SR, v, 3), "complete: not before it is written");
	rc = sid_bank_write_track(file, x, SR, SR, v, 3, SID_STRETCH_FASTER, &err);
	CHECK(rc == SID_OK, "write: three variants (%s)", rc == SID_OK ? "ok" : err.msg);
	CHECK(sid_bank_complete(file, SR, v, 3), "complete: with its variants and rate");
	CHECK(!sid_bank_complete(file, SR, other, 3) && !sid_bank_complete(file, 22050, v, 3) &&
		  !sid_bank_complete(file, SR, v, 2), "complete: not for other variants, rate or count");
	rc = sid_bank_read_variant(file, 1, &pcm, &len, &got, &err);
	CHECK(rc == SID_OK && len == 24000 && got.time_ratio == 1.5f && got.semitones == 0,
		  "read: the 1.5 stretch has 24000 samples (%lld)", (long long) len);
	free(pcm);
	rc = sid_bank_read_variant(file, 0, &pcm, &len, &got, &err);
	if (rc == SID_OK)
	{
		int			up = 0;

		/* +2 st: 493.9 Hz, about 494 upward zero crossings in a second */
		for (int64_t i = 1; i < len; i++)
			up += pcm[i - 1] < 0 && pcm[i] >= 0;
		CHECK(len == SR && up >= 488 && up <= 500, "read: +2 st has %d upward crossings in 1 s", up);
	}
	else
		CHECK(0, "read: variant 0: %s", err.msg);
	free(pcm);
	CHECK(sid_bank_read_variant(file, 3, &pcm, &len, NULL, &err) == SID_EINVAL && !pcm,
		  "read: variant 4 of 3 refused: %s", err.msg);

	CHECK(truncate(file, 1000) == 0 && !sid_bank_complete(file, SR, v, 3) &&
		  sid_bank_read_variant(file, 0, &pcm, &len, NULL, &err) == SID_EFORMAT,
		  "truncated: incomplete and refused: %s", err.msg);
	FILE	   *f = fopen(file, "w");

	fputs("RIFF and more", f);
	fclose(f);
	CHECK(sid_bank_read_variant(file, 0, &pcm, &len, NULL, &err) == SID_EFORMAT,
		  "foreign: refused: %s", err.msg);
	CHECK(sid_bank_write_track(file, x, SR, SR, v, 0, SID_STRETCH_FASTER, &err) == SID_EINVAL,
		  "write: no variants refused: %s", err.msg);
	snprintf(cmd, sizeof(cmd), "%s/nodir/x.sidbank", dir);
	CHECK(sid_bank_write_track(cmd, x, SR, SR, v, 3, SID_STRETCH_FASTER, &err) == SID_EIO &&
		  access(cmd, F_OK) != 0, "write: an unwritable place is an error naming it: %s", err.msg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
