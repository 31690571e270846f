/*
 * synth_corpus.h - a small corpus the unit tests write themselves: stereo
 * WAV tracks of random harmonic notes and mono noise clips.
 */
#ifndef SAMPLEID_SYNTH_CORPUS_H
#define SAMPLEID_SYNTH_CORPUS_H

#include <math.h>
#include <stdlib.h>

#include <sndfile.h>

#include <stdio.h>
#include <unistd.h>

#include "corpus/sid_manifest.h"
#include "core/sid_rng.h"

/* seconds of 0.25 s random notes with three harmonics, at rate, stereo. */
__attribute__((unused))
static int
synth_write_track(const char *path, uint64_t seed, int seconds, int rate)
{
	SF_INFO		info = {.samplerate = rate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE    *sf = sf_open(path, SFM_WRITE, &info);
	int64_t		n = (int64_t) seconds * rate;
	float	   *x = malloc(n * 2 * sizeof(float));
	sid_rng		rng;
	double		f = 440,
				phase = 0;

	if (!sf || !x)
	{
		if (sf)
			sf_close(sf);
		free(x);
		return -1;
	}
	sid_rng_init(&rng, seed, 0);
	for (int64_t i = 0; i < n; i++)
	{
		float		v;

		if (i % (rate / 4) == 0)
			f = 150 * pow(2, sid_rng_uniform(&rng) * 4);
		phase += 2 * M_PI * f / rate;
		v = (float) (0.3 * sin(phase) + 0.15 * sin(2 * phase) + 0.08 * sin(3 * phase)) +
			0.01f * sid_rng_normal(&rng);
		x[2 * i] = x[2 * i + 1] = v;
	}
	sf_writef_float(sf, x, n);
	sf_close(sf);
	free(x);
	return 0;
}

/* One second of amplitude-modulated noise at 16 kHz, mono. */
__attribute__((unused))
static int
synth_write_noise(const char *path, uint64_t seed)
{
	SF_INFO		info = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
	SNDFILE    *sf = sf_open(path, SFM_WRITE, &info);
	float		x[16000];
	sid_rng		rng;

	if (!sf)
		return -1;
	sid_rng_init(&rng, seed, 0);
	for (int i = 0; i < 16000; i++)
		x[i] = 0.1f * sid_rng_normal(&rng) * (1 + sinf(i / 300.0f));
	sf_writef_float(sf, x, 16000);
	sf_close(sf);
	return 0;
}

/*
 * Write n_tracks tracks dir/tN.wav (the first n_first in split first_split,
 * the rest in rest_split) and n_noise clips dir/nN.wav (clip 0 "train", the
 * others "test"), and list them in music and noise.  0 on success.
 */
__attribute__((unused))
static int
synth_corpus_write(const char *dir, int n_tracks, int seconds, int rate, uint64_t seed,
				   int n_first, const char *first_split, const char *rest_split,
				   int n_noise, sid_manifest *music, sid_manifest *noise)
{
	char		rel[64],
				path[512];
	int			ok = 1;

	for (int t = 0; t < n_tracks; t++)
	{
		snprintf(rel, sizeof(rel), "t%d.wav", t);
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		ok &= synth_write_track(path, seed + t, seconds, rate) == 0;
		ok &= sid_manifest_add(music, "synthetic", rel, seconds, rate, 2,
							   t < n_first ? first_split : rest_split, NULL) == SID_OK;
	}
	for (int t = 0; t < n_noise; t++)
	{
		snprintf(rel, sizeof(rel), "n%d.wav", t);
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		ok &= synth_write_noise(path, seed + 1000 + t) == 0;
		ok &= sid_manifest_add(noise, "synthetic", rel, 1, 16000, 1, t == 0 ? "train" : "test",
							   NULL) == SID_OK;
	}
	return ok ? 0 : -1;
}

/* Remove what synth_corpus_write wrote, and dir. */
__attribute__((unused))
static void
synth_corpus_remove(const char *dir, int n_tracks, int n_noise)
{
	char		path[512];

	for (int t = 0; t < n_tracks; t++)
	{
		snprintf(path, sizeof(path), "%s/t%d.wav", dir, t);
		unlink(path);
	}
	for (int t = 0; t < n_noise; t++)
	{
		snprintf(path, sizeof(path), "%s/n%d.wav", dir, t);
		unlink(path);
	}
	rmdir(dir);
}

#endif
