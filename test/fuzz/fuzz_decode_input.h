/*
 * fuzz_decode_input.h - what both decoding fuzz targets do with an input:
 * probe, then bytes -> segments, under tight limits (duration 30 s, 1 MiB,
 * 8 channels) so one input cannot take seconds.  Every input must end in
 * SID_OK with at least one segment of finite values >= -100 dB, or in a
 * negative sid_status with a message; anything else traps.
 */
#ifndef FUZZ_DECODE_INPUT_H
#define FUZZ_DECODE_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "audio/sid_audio.h"
#include "audio/sid_mel.h"

static int
fuzz_decode_input(const uint8_t *data, size_t size)
{
	static sid_mel *mel;
	sid_audio_limits lim;
	sid_audio_info info;
	sid_segments segs;
	sid_error	err;
	sid_status	st;

	if (mel == NULL)
	{
		sid_feature_config cfg;

		sid_features_default(&cfg);
		if ((mel = sid_mel_create(&cfg, &err)) == NULL)
			__builtin_trap();
	}
	sid_audio_limits_default(&lim);
	lim.max_seconds = 30.0;
	lim.max_input_bytes = 1 << 20;
	lim.max_channels = 8;

	memset(&err, 0, sizeof(err));
	st = sid_audio_probe_memory(data, size, &lim, &info, &err);
	if (st != SID_OK && (st != err.code || err.msg[0] == '\0'))
		__builtin_trap();		/* an error must come with its code and a message */

	memset(&err, 0, sizeof(err));
	st = sid_segments_from_memory(mel, data, size, &lim, &info, &segs, &err);
	if (st == SID_OK)
	{
		int64_t		n = segs.n_segments * segs.frames_per_segment * segs.n_mels;

		/* features are finite and never below the floor */
		for (int64_t i = 0; i < n; i++)
			if (!(segs.mel[i] >= SID_MEL_DB_FLOOR) || segs.mel[i] > 1e30f)
				__builtin_trap();
		if (segs.n_segments < 1 || info.channels < 1 || info.sample_rate < SID_AUDIO_MIN_SAMPLE_RATE)
			__builtin_trap();
	}
	else if (st != err.code || err.msg[0] == '\0' || segs.mel != NULL)
		__builtin_trap();
	sid_segments_free(&segs);
	return 0;
}

#endif
