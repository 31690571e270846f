/*
 * sid_stretch.c - librubberband behind sid_stretch.h.
 */
#include "audio/sid_stretch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <rubberband/rubberband-c.h>

/* rubberband counts in unsigned int; feed and drain it in pieces this size. */
#define CHUNK 16384

static sid_status
check_request(size_t n, int sample_rate, double time_ratio, double semitones, sid_error *err)
{
	if (n == 0 || n > SID_STRETCH_MAX_SAMPLES)
		return sid_fail(err, SID_ELIMIT, "stretch: %zu samples (1 .. %zu allowed)", n,
						SID_STRETCH_MAX_SAMPLES);
	if (sample_rate < 1000 || sample_rate > 384000)
		return sid_fail(err, SID_EINVAL, "stretch: sample rate %d Hz", sample_rate);
	if (!(time_ratio >= SID_STRETCH_MIN_RATIO && time_ratio <= SID_STRETCH_MAX_RATIO))
		return sid_fail(err, SID_EINVAL, "stretch: time ratio %g outside %g .. %g", time_ratio,
						SID_STRETCH_MIN_RATIO, SID_STRETCH_MAX_RATIO);
	if (!(fabs(semitones) <= SID_STRETCH_MAX_SEMITONES))
		return sid_fail(err, SID_EINVAL, "stretch: shift of %g semitones (at most %g)", semitones,
						SID_STRETCH_MAX_SEMITONES);
	return SID_OK;
}

/* Move what rubberband has ready into out[*got .. want), dropping any excess. */
static void
drain(RubberBandState rb, float *out, size_t want, size_t *got)
{
	float		scratch[CHUNK];
	float	   *dst = scratch;
	int			avail;

	while ((avail = rubberband_available(rb)) > 0)
	{
		size_t		take = rubberband_retrieve(rb, &dst, avail > CHUNK ? CHUNK : (unsigned int) avail);
		size_t		keep = take < want - *got ? take : want - *got;

		memcpy(out + *got, scratch, keep * sizeof(float));
		*got += keep;
	}
}

sid_status
sid_stretch(const float *in, size_t n, int sample_rate, double time_ratio, double semitones,
			sid_stretch_engine engine, float **out, size_t *n_out, sid_error *err)
{
	RubberBandState rb;
	size_t		want,
				got = 0;
	float	   *dst;
	sid_status	rc = check_request(n, sample_rate, time_ratio, semitones, err);

	*out = NULL;
	*n_out = 0;
	if (rc != SID_OK)
		return rc;
	want = (size_t) llround((double) n * time_ratio);
	if (want == 0)
		want = 1;
	dst = malloc(want * sizeof(float));
	rb = dst ? rubberband_new((unsigned int) sample_rate, 1,
							  RubberBandOptionProcessOffline | RubberBandOptionThreadingNever |
							  (engine == SID_STRETCH_FINER ? RubberBandOptionEngineFiner :
							   RubberBandOptionEngineFaster), time_ratio,
							  pow(2.0, semitones / 12.0)) : NULL;
	if (!rb)
	{
		free(dst);
		return sid_fail(err, SID_ENOMEM, "stretch: out of memory");
	}
	rubberband_set_expected_input_duration(rb, (unsigned int) n);
	rubberband_set_max_process_size(rb, CHUNK);
	/* offline mode studies the whole input first, then processes it */
	for (size_t at = 0; at < n; at += CHUNK)
	{
		const float *p = in + at;
		size_t		len = n - at < CHUNK ? n - at : CHUNK;

		rubberband_study(rb, &p, (unsigned int) len, at + len == n);
	}
	for (size_t at = 0; at < n; at += CHUNK)
	{
		const float *p = in + at;
		size_t		len = n - at < CHUNK ? n - at : CHUNK;

		rubberband_process(rb, &p, (unsigned int) len, at + len == n);
		drain(rb, dst, want, &got);
	}
	drain(rb, dst, want, &got);
	rubberband_delete(rb);
	/* rubberband can end a few samples short of the rounded length */
	if (got < want)
		memset(dst + got, 0, (want - got) * sizeof(float));
	*out = dst;
	*n_out = want;
	return SID_OK;
}

void
sid_transpose_copies_free(float **copies, int count)
{
	for (int k = 0; k < count; k++)
	{
		free(copies[k]);
		copies[k] = NULL;
	}
}

sid_status
sid_transpose_copies(const float *in, size_t n, int sample_rate, int lo, int hi,
					 sid_stretch_engine engine, float **copies, sid_error *err)
{
	sid_status	rc = SID_OK;
	int			count = hi - lo + 1;

	if (lo > 0 || hi < 0 || count > SID_TRANSPOSE_MAX_COPIES)
		return sid_fail(err, SID_EINVAL, "transpose: %d .. %d semitones (lo <= 0 <= hi, at most %d copies)",
						lo, hi, SID_TRANSPOSE_MAX_COPIES);
	for (int k = 0; k < count; k++)
		copies[k] = NULL;
	for (int k = 0; rc == SID_OK && k < count; k++)
	{
		size_t		len;

		if (lo + k == 0)
		{
			rc = check_request(n, sample_rate, 1.0, 0.0, err);
			if (rc == SID_OK && !(copies[k] = malloc(n * sizeof(float))))
				rc = sid_fail(err, SID_ENOMEM, "transpose: out of memory");
			if (rc == SID_OK)
				memcpy(copies[k], in, n * sizeof(float));
		}
		else
			rc = sid_stretch(in, n, sample_rate, 1.0, lo + k, engine, &copies[k],
							 &len, err);
	}
	if (rc != SID_OK)
		sid_transpose_copies_free(copies, count);
	return rc;
}
