/*
 * sid_mel.c - log-mel frames with FFTW3 (single precision) and segmenting.
 *
 * One context owns one r2c plan, the Hann window, the sparse filterbank and
 * scratch buffers, all made once in sid_mel_create.  Frames are computed one
 * at a time (window, FFT, power, mel, dB) straight into the caller's rows.
 */
#include "audio/sid_mel.h"
#include "core/sid_fft_lock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

struct sid_mel
{
	sid_feature_config cfg;
	int32_t		n_bins;			/* n_fft / 2 + 1 */
	int64_t		segment_samples;
	int64_t		segment_hop_samples;
	int32_t		frames_per_segment;
	fftwf_plan	plan;
	float	   *window;			/* [n_fft], periodic Hann */
	float	   *frame;			/* [n_fft] FFT input (fftwf_malloc'd) */
	fftwf_complex *spectrum;	/* [n_bins] FFT output (fftwf_malloc'd) */
	float	   *power;			/* [n_bins] */
	int32_t    *filter_first;	/* [n_mels] first bin of each triangle */
	int32_t    *filter_len;		/* [n_mels] bins in each triangle */
	int32_t    *filter_offset;	/* [n_mels] start of each triangle in weights */
	float	   *weights;		/* all triangles, concatenated */
	double	   *band_hz;		/* [n_mels + 2] band edges */
	float	   *grid;			/* shared-frame scratch for aligned segments */
	int64_t		grid_capacity;	/* in frames */
};

/* ---- Slaney mel scale (librosa htk=False, Auditory Toolbox) -------------- */

#define SLANEY_F_SP			(200.0 / 3.0)	/* Hz per mel below 1 kHz */
#define SLANEY_MIN_LOG_HZ	1000.0
#define SLANEY_MIN_LOG_MEL	(SLANEY_MIN_LOG_HZ / SLANEY_F_SP)	/* 15 */
#define SLANEY_LOGSTEP		(0.068751777420949123)	/* ln(6.4) / 27 */

static double
hz_to_mel(double hz)
{
	if (hz < SLANEY_MIN_LOG_HZ)
		return hz / SLANEY_F_SP;
	return SLANEY_MIN_LOG_MEL + log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
}

static double
mel_to_hz(double mel)
{
	if (mel < SLANEY_MIN_LOG_MEL)
		return mel * SLANEY_F_SP;
	return SLANEY_MIN_LOG_HZ * exp(SLANEY_LOGSTEP * (mel - SLANEY_MIN_LOG_MEL));
}

/* Triangles on the FFT bin frequencies, each scaled to unit area (2 / width). */
static sid_status
build_filterbank(sid_mel *m, sid_error *err)
{
	const sid_feature_config *c = &m->cfg;
	int			n_mels = c->n_mels;
	double		mel_lo = hz_to_mel(c->f_min);
	double		mel_hi = hz_to_mel(c->f_max);
	double		bin_hz = (double) c->sample_rate / c->n_fft;
	int64_t		total = 0;
	int			b,
				k;

	m->band_hz = malloc(sizeof(double) * (n_mels + 2));
	m->filter_first = calloc(n_mels, sizeof(int32_t));
	m->filter_len = calloc(n_mels, sizeof(int32_t));
	m->filter_offset = calloc(n_mels, sizeof(int32_t));
	m->weights = malloc(sizeof(float) * (size_t) n_mels * m->n_bins);
	if (!m->band_hz || !m->filter_first || !m->filter_len || !m->filter_offset || !m->weights)
		return sid_fail(err, SID_ENOMEM, "out of memory for the mel filterbank");
	for (b = 0; b < n_mels + 2; b++)
		m->band_hz[b] = mel_to_hz(mel_lo + (mel_hi - mel_lo) * b / (n_mels + 1));

	for (b = 0; b < n_mels; b++)
	{
		double		lo = m->band_hz[b],
					mid = m->band_hz[b + 1],
					hi = m->band_hz[b + 2];
		double		scale = 2.0 / (hi - lo);
		int			first = -1,
					last = -1;

		m->filter_offset[b] = (int32_t) total;
		for (k = 0; k < m->n_bins; k++)
		{
			double		f = k * bin_hz;
			double		w = fmin((f - lo) / (mid - lo), (hi - f) / (hi - mid));

			if (w <= 0.0)
			{
				if (first >= 0)
					break;		/* past the triangle */
				continue;
			}
			if (first < 0)
				first = k;
			last = k;
			m->weights[total++] = (float) (w * scale);
		}
		if (first < 0)
			return sid_fail(err, SID_EINVAL,
							"mel band %d (%.1f..%.1f Hz) contains no FFT bin: use fewer mel bands or a larger n_fft",
							b, lo, hi);
		m->filter_first[b] = first;
		m->filter_len[b] = last - first + 1;
	}
	return SID_OK;
}

sid_mel *
sid_mel_create(const sid_feature_config *cfg, sid_error *err)
{
	sid_mel    *m;
	int			i;

	if (sid_features_validate(cfg, err) != SID_OK)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
	{
		sid_fail(err, SID_ENOMEM, "out of memory for the mel context");
		return NULL;
	}
	m->cfg = *cfg;
	m->n_bins = cfg->n_fft / 2 + 1;
	m->segment_samples = sid_features_segment_samples(cfg);
	m->segment_hop_samples = sid_features_segment_hop_samples(cfg);
	m->frames_per_segment = (int32_t) (1 + m->segment_samples / cfg->hop_length);

	m->window = malloc(sizeof(float) * cfg->n_fft);
	m->power = malloc(sizeof(float) * m->n_bins);
	m->frame = fftwf_malloc(sizeof(float) * cfg->n_fft);
	m->spectrum = fftwf_malloc(sizeof(fftwf_complex) * m->n_bins);
	if (!m->window || !m->power || !m->frame || !m->spectrum)
	{
		sid_fail(err, SID_ENOMEM, "out of memory for the mel context");
		sid_mel_free(m);
		return NULL;
	}
	/* periodic Hann: the DFT-even window, as librosa/torch use */
	for (i = 0; i < cfg->n_fft; i++)
		m->window[i] = (float) (0.5 - 0.5 * cos(2.0 * M_PI * i / cfg->n_fft));

	if (build_filterbank(m, err) != SID_OK)
	{
		sid_mel_free(m);
		return NULL;
	}

	/* ESTIMATE: no timing runs, the same plan (and bits) in every process */
	sid_fftw_planner_lock();
	m->plan = fftwf_plan_dft_r2c_1d(cfg->n_fft, m->frame, m->spectrum, FFTW_ESTIMATE);
	sid_fftw_planner_unlock();
	if (m->plan == NULL)
	{
		sid_fail(err, SID_ENOMEM, "FFTW could not plan a %d-point real FFT", (int) cfg->n_fft);
		sid_mel_free(m);
		return NULL;
	}
	return m;
}

void
sid_mel_free(sid_mel *m)
{
	if (m == NULL)
		return;
	if (m->plan != NULL)
	{
		sid_fftw_planner_lock();
		fftwf_destroy_plan(m->plan);
		sid_fftw_planner_unlock();
	}
	fftwf_free(m->frame);
	fftwf_free(m->spectrum);
	free(m->window);
	free(m->power);
	free(m->filter_first);
	free(m->filter_len);
	free(m->filter_offset);
	free(m->weights);
	free(m->band_hz);
	free(m->grid);
	free(m);
}

const sid_feature_config *
sid_mel_config(const sid_mel *m)
{
	return &m->cfg;
}

const float *
sid_mel_filter(const sid_mel *m, int band, int *first_bin, int *n_bins)
{
	*first_bin = m->filter_first[band];
	*n_bins = m->filter_len[band];
	return m->weights + m->filter_offset[band];
}

double
sid_mel_band_center_hz(const sid_mel *m, int band)
{
	return m->band_hz[band + 1];
}

/* ---- one frame ------------------------------------------------------------ */

/* The log-mel row of the frame centred on sample `center`. */
static void
compute_frame(sid_mel *m, const float *pcm, int64_t n_samples, int64_t center, float *row)
{
	int			n_fft = m->cfg.n_fft;
	int64_t		start = center - n_fft / 2;
	float	   *x = m->frame;
	int			i,
				b;

	if (start >= 0 && start + n_fft <= n_samples)
	{
		const float *src = pcm + start;

		for (i = 0; i < n_fft; i++)
			x[i] = src[i] * m->window[i];
	}
	else
	{
		/* zero padding outside the signal */
		for (i = 0; i < n_fft; i++)
		{
			int64_t		t = start + i;

			x[i] = (t >= 0 && t < n_samples) ? pcm[t] * m->window[i] : 0.0f;
		}
	}
	fftwf_execute(m->plan);
	for (i = 0; i < m->n_bins; i++)
		m->power[i] = m->spectrum[i][0] * m->spectrum[i][0] + m->spectrum[i][1] * m->spectrum[i][1];
	for (b = 0; b < m->cfg.n_mels; b++)
	{
		const float *w = m->weights + m->filter_offset[b];
		const float *p = m->power + m->filter_first[b];
		int			len = m->filter_len[b];
		float		sum = 0.0f;

		for (i = 0; i < len; i++)
			sum += w[i] * p[i];
		row[b] = 10.0f * log10f(sum > SID_MEL_POWER_FLOOR ? sum : SID_MEL_POWER_FLOOR);
	}
}

/* ---- whole signal ------------------------------------------------------- */

int64_t
sid_mel_n_frames(const sid_mel *m, int64_t n_samples)
{
	return n_samples <= 0 ? 0 : 1 + n_samples / m->cfg.hop_length;
}

sid_status
sid_mel_frames(sid_mel *m, const float *pcm, int64_t n_samples, float *out, sid_error *err)
{
	int64_t		n = sid_mel_n_frames(m, n_samples);
	int64_t		f;

	if (n_samples < 0 || (n_samples > 0 && (pcm == NULL || out == NULL)))
		return sid_fail(err, SID_EINVAL, "sid_mel_frames: bad arguments");
	for (f = 0; f < n; f++)
		compute_frame(m, pcm, n_samples, f * m->cfg.hop_length, out + f * m->cfg.n_mels);
	return SID_OK;
}

/* ---- segments ----------------------------------------------------------- */

int32_t
sid_mel_frames_per_segment(const sid_mel *m)
{
	return m->frames_per_segment;
}

/*
 * Enough windows to cover every sample: one for a clip shorter than a window,
 * else 1 + ceil((n - window) / hop).  The last one is zero-padded past the end.
 */
int64_t
sid_mel_n_segments(const sid_mel *m, int64_t n_samples)
{
	int64_t		L = m->segment_samples,
				H = m->segment_hop_samples;

	if (n_samples <= 0)
		return 0;
	if (n_samples <= L)
		return 1;
	return 1 + (n_samples - L + H - 1) / H;
}

int64_t
sid_mel_segment_start_sample(const sid_mel *m, int64_t seg)
{
	return seg * m->segment_hop_samples;
}

double
sid_mel_segment_start_seconds(const sid_mel *m, int64_t seg)
{
	return (double) (seg * m->segment_hop_samples) / m->cfg.sample_rate;
}

sid_status
sid_mel_segments(sid_mel *m, const float *pcm, int64_t n_samples, int64_t first_seg,
				 int64_t n_seg, float *out, double *t_start, sid_error *err)
{
	int64_t		hop = m->cfg.hop_length;
	int64_t		F = m->frames_per_segment;
	int64_t		n_mels = m->cfg.n_mels;
	int64_t		row_floats = F * n_mels;
	int64_t		s,
				j;

	if (n_samples < 0 || first_seg < 0 || n_seg < 0 ||
		first_seg + n_seg > sid_mel_n_segments(m, n_samples) ||
		(n_seg > 0 && (pcm == NULL || out == NULL)))
		return sid_fail(err, SID_EINVAL, "sid_mel_segments: bad arguments");
	if (t_start != NULL)
		for (s = 0; s < n_seg; s++)
			t_start[s] = sid_mel_segment_start_seconds(m, first_seg + s);

	/*
	 * When windows start on the frame grid and overlap, each frame is shared
	 * by several windows: compute the grid once, then copy rows.
	 */
	if (n_seg > 1 && m->segment_hop_samples % hop == 0 && m->segment_hop_samples / hop < F)
	{
		int64_t		step = m->segment_hop_samples / hop;
		int64_t		g0 = first_seg * step;
		int64_t		n_grid = (n_seg - 1) * step + F;

		if (n_grid > m->grid_capacity)
		{
			float	   *p = realloc(m->grid, sizeof(float) * (size_t) (n_grid * n_mels));

			if (p == NULL)
				return sid_fail(err, SID_ENOMEM, "out of memory for %lld mel frames",
								(long long) n_grid);
			m->grid = p;
			m->grid_capacity = n_grid;
		}
		for (j = 0; j < n_grid; j++)
			compute_frame(m, pcm, n_samples, (g0 + j) * hop, m->grid + j * n_mels);
		for (s = 0; s < n_seg; s++)
			memcpy(out + s * row_floats, m->grid + s * step * n_mels,
				   sizeof(float) * (size_t) row_floats);
		return SID_OK;
	}
	for (s = 0; s < n_seg; s++)
	{
		int64_t		start = sid_mel_segment_start_sample(m, first_seg + s);

		for (j = 0; j < F; j++)
			compute_frame(m, pcm, n_samples, start + j * hop, out + s * row_floats + j * n_mels);
	}
	return SID_OK;
}

void
sid_segments_free(sid_segments *segs)
{
	if (segs == NULL)
		return;
	free(segs->mel);
	free(segs->t_start);
	segs->mel = NULL;
	segs->t_start = NULL;
	segs->n_segments = 0;
}

sid_status
sid_mel_segments_alloc(sid_mel *m, const float *pcm, int64_t n_samples,
					   sid_segments *segs, sid_error *err)
{
	int64_t		S = sid_mel_n_segments(m, n_samples);
	int64_t		per = (int64_t) m->frames_per_segment * m->cfg.n_mels;
	sid_status	st;

	memset(segs, 0, sizeof(*segs));
	segs->frames_per_segment = m->frames_per_segment;
	segs->n_mels = m->cfg.n_mels;
	if (S == 0)
		return SID_OK;
	if ((uint64_t) S > SIZE_MAX / sizeof(float) / (uint64_t) per)
		return sid_fail(err, SID_ENOMEM, "%lld segments are too many to hold", (long long) S);
	segs->mel = malloc(sizeof(float) * (size_t) (S * per));
	segs->t_start = malloc(sizeof(double) * (size_t) S);
	if (segs->mel == NULL || segs->t_start == NULL)
	{
		sid_segments_free(segs);
		return sid_fail(err, SID_ENOMEM, "out of memory for %lld segments of log-mel features",
						(long long) S);
	}
	if ((st = sid_mel_segments(m, pcm, n_samples, 0, S, segs->mel, segs->t_start, err)) != SID_OK)
	{
		sid_segments_free(segs);
		return st;
	}
	segs->n_segments = S;
	return SID_OK;
}

/* ---- decode + features ---------------------------------------------------- */

static sid_status
segments_from_pcm(sid_mel *m, sid_status st, sid_pcm *pcm, sid_segments *segs, sid_error *err)
{
	if (st == SID_OK)
		st = sid_mel_segments_alloc(m, pcm->samples, pcm->n_samples, segs, err);
	sid_pcm_free(pcm);
	return st;
}

sid_status
sid_segments_from_memory(sid_mel *m, const void *data, size_t len, const sid_audio_limits *lim,
						 sid_audio_info *info, sid_segments *segs, sid_error *err)
{
	sid_pcm		pcm;
	sid_status	st;

	memset(segs, 0, sizeof(*segs));
	st = sid_audio_decode_memory(data, len, m->cfg.sample_rate, lim, info, &pcm, err);
	return segments_from_pcm(m, st, &pcm, segs, err);
}

sid_status
sid_segments_from_file(sid_mel *m, const char *path, const sid_audio_limits *lim,
					   sid_audio_info *info, sid_segments *segs, sid_error *err)
{
	sid_pcm		pcm;
	sid_status	st;

	memset(segs, 0, sizeof(*segs));
	st = sid_audio_decode_file(path, m->cfg.sample_rate, lim, info, &pcm, err);
	return segments_from_pcm(m, st, &pcm, segs, err);
}
