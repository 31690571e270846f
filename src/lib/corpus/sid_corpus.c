/*
 * sid_corpus.c - the corpus loader; see sid_corpus.h.
 *
 * One split of the music manifest is decoded once to 16-bit mono PCM at the
 * model rate (in memory, optionally also in an on-disk cache so a restarted
 * run skips decoding).  16-bit keeps 12 hours of 16 kHz audio in 1.4 GB
 * instead of 2.8 GB; the quantisation noise (-96 dBFS) is far below the SNRs
 * the trainer mixes in.
 */
#include "corpus/sid_corpus.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sid_pcm16.h"

/* Longest path of a corpus file (data_dir/manifest path). */
#define CORPUS_PATH_MAX 4096

int32_t
sid_corpus_select(const sid_manifest *m, const char *split, int32_t max_tracks,
				  double min_seconds, size_t *out)
{
	int32_t		n = 0;

	for (size_t i = 0; i < m->n && (max_tracks == 0 || n < max_tracks); i++)
		if (strcmp(m->entries[i].split, split) == 0 &&
			(min_seconds <= 0 || m->entries[i].duration_s >= min_seconds))
			out[n++] = i;
	return n;
}

sid_status
sid_corpus_decode(const char *data_dir, const char *path, int32_t rate,
				  const sid_audio_limits *lim, sid_pcm *pcm, sid_error *err)
{
	char		full[CORPUS_PATH_MAX];
	sid_audio_limits def;

	if (snprintf(full, sizeof(full), "%s/%s", data_dir, path) >= (int) sizeof(full))
		return sid_fail(err, SID_EINVAL, "corpus: the path of %s is too long", path);
	if (!lim)
	{
		sid_audio_limits_default(&def);
		lim = &def;
	}
	return sid_audio_decode_file(full, rate, lim, NULL, pcm, err);
}

int32_t
sid_pick_weighted(const double *cum, int32_t n, sid_rng *rng)
{
	double		u = sid_rng_uniform_double(rng) * cum[n - 1];
	int32_t		lo = 0,
				hi = n - 1;

	while (lo < hi)				/* the first index whose cumulative weight passes u */
	{
		int32_t		mid = (lo + hi) / 2;

		if (cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

typedef struct decode_job
{
	sid_track_cache *c;
	const sid_manifest *m;
	const size_t *entries;		/* manifest index of each track */
	const char *data_dir;
	const char *cache_dir;
	int32_t		rate;
	int			worker,
				nworkers;
	sid_status	rc;
	sid_error	err;
} decode_job;

static void
cache_file_name(char *out, size_t size, const char *cache_dir, const char *path, int32_t rate)
{
	snprintf(out, size, "%s/%016llx-%d.s16", cache_dir,
			 (unsigned long long) sid_hash_string(path), (int) rate);
}

/* Read a cached track; 0 if absent or unusable (then it is decoded again). */
static int
cache_read(const char *file, int16_t **pcm, int64_t *len)
{
	FILE	   *f = fopen(file, "rb");
	struct stat sb;
	int16_t    *buf;

	if (!f)
		return 0;
	if (fstat(fileno(f), &sb) != 0 || sb.st_size <= 0 || sb.st_size % 2 != 0)
	{
		fclose(f);
		return 0;
	}
	buf = malloc(sb.st_size);
	if (!buf || fread(buf, 1, sb.st_size, f) != (size_t) sb.st_size)
	{
		free(buf);
		fclose(f);
		return 0;
	}
	fclose(f);
	*pcm = buf;
	*len = sb.st_size / 2;
	return 1;
}

/* Best effort: a failed cache write only costs a decode next time. */
static void
cache_write(const char *file, const int16_t *pcm, int64_t len)
{
	char		tmp[CORPUS_PATH_MAX + 64];
	FILE	   *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", file, (long) getpid());
	if ((f = fopen(tmp, "wb")) == NULL)
		return;
	if (fwrite(pcm, 2, len, f) != (size_t) len || fclose(f) != 0)
	{
		unlink(tmp);
		return;
	}
	if (rename(tmp, file) != 0)
		unlink(tmp);
}

static pthread_mutex_t skip_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
decode_worker(void *arg)
{
	decode_job *job = arg;
	sid_track_cache *c = job->c;
	sid_audio_limits lim;

	sid_audio_limits_default(&lim);
	lim.max_seconds = 4 * 3600.0;
	for (int32_t t = job->worker; t < c->n; t += job->nworkers)
	{
		const sid_manifest_entry *e = &job->m->entries[job->entries[t]];
		char		cfile[CORPUS_PATH_MAX];
		sid_pcm		pcm;

		if (job->cache_dir[0])
		{
			cache_file_name(cfile, sizeof(cfile), job->cache_dir, e->path, job->rate);
			if (cache_read(cfile, &c->pcm[t], &c->len[t]))
				continue;
		}
		if (sid_corpus_decode(job->data_dir, e->path, job->rate, &lim, &pcm, &job->err) != SID_OK)
		{
			/* a damaged file costs one track, not the run */
			if (job->err.code == SID_ENOMEM)
			{
				job->rc = SID_ENOMEM;
				return NULL;
			}
			__atomic_add_fetch(&c->n_skipped, 1, __ATOMIC_RELAXED);
			pthread_mutex_lock(&skip_lock);
			if (c->skipped[0] == '\0')
				snprintf(c->skipped, sizeof(c->skipped), "%.200s: %.300s", e->path, job->err.msg);
			pthread_mutex_unlock(&skip_lock);
			c->pcm[t] = calloc(1, sizeof(int16_t));
			c->len[t] = 0;
			continue;
		}
		c->pcm[t] = malloc((pcm.n_samples ? pcm.n_samples : 1) * sizeof(int16_t));
		if (!c->pcm[t])
		{
			sid_pcm_free(&pcm);
			job->rc = sid_fail(&job->err, SID_ENOMEM, "out of memory decoding %s", e->path);
			return NULL;
		}
		sid_pcm16_from_float(pcm.samples, pcm.n_samples, c->pcm[t]);
		c->len[t] = pcm.n_samples;
		sid_pcm_free(&pcm);
		if (job->cache_dir[0])
			cache_write(cfile, c->pcm[t], c->len[t]);
	}
	return NULL;
}

/* mkdir -p */
static int
make_dirs(const char *dir)
{
	char		buf[CORPUS_PATH_MAX];

	if (strlen(dir) >= sizeof(buf))
		return -1;
	strcpy(buf, dir);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/')
		{
			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

sid_status
sid_track_cache_load(sid_track_cache *c, const sid_manifest *m, const char *split,
					 int32_t max_tracks, const char *data_dir, const char *cache_dir,
					 int32_t rate, int nthreads, sid_error *err)
{
	size_t	   *entries;
	decode_job	jobs[2];
	pthread_t	th[2];
	int			started[2] = {0, 0};
	sid_status	rc = SID_OK;

	memset(c, 0, sizeof(*c));
	if (nthreads < 1 || nthreads > 2)
		nthreads = 1;
	entries = malloc((m->n ? m->n : 1) * sizeof(size_t));
	if (!entries)
		return sid_fail(err, SID_ENOMEM, "out of memory");
	c->n = sid_corpus_select(m, split, max_tracks, 0, entries);
	if (c->n == 0)
	{
		free(entries);
		return sid_fail(err, SID_EINVAL, "the manifest has no \"%s\" tracks", split);
	}
	if (cache_dir[0] && make_dirs(cache_dir) != 0)
	{
		free(entries);
		return sid_fail(err, SID_EIO, "cannot create cache directory %s: %s", cache_dir, strerror(errno));
	}
	c->pcm = calloc(c->n, sizeof(int16_t *));
	c->len = calloc(c->n, sizeof(int64_t));
	c->name = calloc(c->n, sizeof(char *));
	c->cum = calloc(c->n, sizeof(double));
	if (!c->pcm || !c->len || !c->name || !c->cum)
	{
		free(entries);
		sid_track_cache_free(c);
		return sid_fail(err, SID_ENOMEM, "out of memory");
	}
	for (int w = 0; w < nthreads; w++)
	{
		jobs[w] = (decode_job) {
			.c = c,.m = m,.entries = entries,.data_dir = data_dir,.cache_dir = cache_dir,
			.rate = rate,.worker = w,.nworkers = nthreads,.rc = SID_OK
		};
		if (w > 0 && pthread_create(&th[w], NULL, decode_worker, &jobs[w]) == 0)
			started[w] = 1;
		else if (w > 0)
			jobs[w].rc = sid_fail(&jobs[w].err, SID_ENOMEM, "cannot start a decoding thread");
	}
	decode_worker(&jobs[0]);
	for (int w = 1; w < nthreads; w++)
		if (started[w])
			pthread_join(th[w], NULL);
	for (int w = 0; w < nthreads; w++)
		if (jobs[w].rc != SID_OK && rc == SID_OK)
		{
			rc = jobs[w].rc;
			if (err)
				*err = jobs[w].err;
		}
	for (int32_t t = 0; rc == SID_OK && t < c->n; t++)
	{
		c->name[t] = strdup(m->entries[entries[t]].path);
		if (!c->name[t])
			rc = sid_fail(err, SID_ENOMEM, "out of memory");
		c->total_samples += c->len[t];
		c->cum[t] = (t ? c->cum[t - 1] : 0) + (double) c->len[t];
	}
	free(entries);
	if (rc != SID_OK)
		sid_track_cache_free(c);
	return rc;
}

void
sid_track_cache_free(sid_track_cache *c)
{
	for (int32_t t = 0; t < c->n; t++)
	{
		if (c->pcm)
			free(c->pcm[t]);
		if (c->name)
			free(c->name[t]);
	}
	free(c->pcm);
	free(c->len);
	free(c->name);
	free(c->cum);
	memset(c, 0, sizeof(*c));
}

sid_status
sid_noise_store_load(sid_noise_store *s, const sid_manifest *noise, const char *part,
					 const char *data_dir, int32_t rate, sid_error *err)
{
	size_t		n = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; noise && i < noise->n; i++)
		n += strcmp(noise->entries[i].split, part) == 0;
	if (n == 0)
		return SID_OK;
	s->clips = calloc(n, sizeof(float *));
	s->len = calloc(n, sizeof(size_t));
	if (!s->clips || !s->len)
	{
		sid_noise_store_free(s);
		return sid_fail(err, SID_ENOMEM, "out of memory for noise clips");
	}
	for (size_t i = 0; i < noise->n; i++)
	{
		const sid_manifest_entry *e = &noise->entries[i];
		sid_pcm		pcm;
		sid_status	rc;

		if (strcmp(e->split, part) != 0)
			continue;
		if ((rc = sid_corpus_decode(data_dir, e->path, rate, NULL, &pcm, err)) != SID_OK)
		{
			sid_noise_store_free(s);
			return rc;
		}
		if (pcm.n_samples == 0)
		{
			sid_pcm_free(&pcm);
			continue;
		}
		s->clips[s->bank.n] = pcm.samples;
		s->len[s->bank.n] = (size_t) pcm.n_samples;
		s->bank.n++;
	}
	s->bank.clips = (const float *const *) s->clips;
	s->bank.lengths = s->len;
	return SID_OK;
}

void
sid_noise_store_free(sid_noise_store *s)
{
	for (size_t i = 0; i < s->bank.n; i++)
		free(s->clips[i]);
	free(s->clips);
	free(s->len);
	memset(s, 0, sizeof(*s));
}
