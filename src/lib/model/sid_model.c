/*
 * sid_model.c - reading and writing model files (.sidm); the layout is in
 * sid_model.h.  Fields are (de)serialised one by one in little-endian so the
 * file does not depend on struct padding or the host.
 */
#include "model/sid_model.h"

#include "core/sid_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENC_FIELDS 22			/* int32 slots for sid_encoder_config */
#define OFF_FEATURES 340
#define OFF_ENCODER 372
#define OFF_NPARAMS 460
#define OFF_HEADER_CRC 468

/* ---- CRC-32 ------------------------------------------------------------- */

static uint32_t crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void
crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++)
	{
		uint32_t	c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t
sid_crc32(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	pthread_once(&crc_table_once, crc_table_init);
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
encoder_fields(const sid_encoder_config *c, int32_t out[ENC_FIELDS])
{
	int			n = 0;

	memset(out, 0, sizeof(int32_t) * ENC_FIELDS);
	out[n++] = c->n_mels;
	out[n++] = c->n_frames;
	out[n++] = c->patch_freq;
	out[n++] = c->patch_time;
	out[n++] = c->n_stages;
	for (int s = 0; s < SID_MAX_STAGES; s++)
		out[n++] = c->channels[s];
	for (int s = 0; s < SID_MAX_STAGES; s++)
		out[n++] = c->blocks[s];
	out[n++] = c->freq_merge;
	out[n++] = c->knn_k;
	out[n++] = c->ffn_ratio;
	out[n++] = c->head_hidden;
	out[n++] = c->embed_dim;
	out[n++] = c->activation;
}

static void
encoder_from_fields(sid_encoder_config *c, const int32_t in[ENC_FIELDS])
{
	int			n = 0;

	memset(c, 0, sizeof(*c));
	c->n_mels = in[n++];
	c->n_frames = in[n++];
	c->patch_freq = in[n++];
	c->patch_time = in[n++];
	c->n_stages = in[n++];
	for (int s = 0; s < SID_MAX_STAGES; s++)
		c->channels[s] = in[n++];
	for (int s = 0; s < SID_MAX_STAGES; s++)
		c->blocks[s] = in[n++];
	c->freq_merge = in[n++];
	c->knn_k = in[n++];
	c->ffn_ratio = in[n++];
	c->head_hidden = in[n++];
	c->embed_dim = in[n++];
	c->activation = in[n++];
}

/* ---- configuration ------------------------------------------------------ */

int
sid_model_window_frames(const sid_feature_config *f)
{
	/* the same count sid_mel_frames_per_segment gives: frames centred on 0, hop, ... */
	return (int) (1 + sid_features_segment_samples(f) / f->hop_length);
}

sid_status
sid_model_check(const sid_feature_config *f, const sid_encoder_config *cfg, sid_error *err)
{
	sid_status	st;

	if (sid_features_validate(f, err) != SID_OK)
	{
		/* a stored configuration that does not validate is a malformed file */
		if (err)
			err->code = SID_EFORMAT;
		return SID_EFORMAT;
	}
	if (!(f->segment_hop_seconds > 0.0f))
		return sid_fail(err, SID_EFORMAT, "segment hop %g s must be positive",
						(double) f->segment_hop_seconds);
	if ((st = sid_encoder_check_config(cfg, err)) != SID_OK)
		return st;
	if (cfg->n_mels != f->n_mels)
		return sid_fail(err, SID_EFORMAT, "encoder expects %d mels but the features have %d",
						cfg->n_mels, f->n_mels);
	if (cfg->n_frames != sid_model_window_frames(f))
		return sid_fail(err, SID_EFORMAT,
						"encoder expects %d frames per window but %g s at hop %d gives %d",
						cfg->n_frames, (double) f->segment_seconds, f->hop_length,
						sid_model_window_frames(f));
	return SID_OK;
}

sid_model *
sid_model_new_untrained(const char *name, const sid_encoder_config *cfg,
						const sid_feature_config *f, uint64_t seed, sid_error *err)
{
	sid_encoder_config c = *cfg;
	sid_model  *m;

	c.n_frames = sid_model_window_frames(f);
	c.n_mels = f->n_mels;
	if (sid_model_check(f, &c, err) != SID_OK)
		return NULL;
	if (!name || !*name || strlen(name) >= SID_MODEL_NAME_LEN)
	{
		sid_fail(err, SID_EINVAL, "a model name needs 1 to %d characters", SID_MODEL_NAME_LEN - 1);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
	{
		sid_fail(err, SID_ENOMEM, "out of memory");
		return NULL;
	}
	m->enc = sid_encoder_create(&c, err);
	if (!m->enc)
	{
		free(m);
		return NULL;
	}
	sid_encoder_init_random(m->enc, seed);
	m->flags = 0;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->note, sizeof(m->note), "UNTRAINED: random initialisation, seed %llu",
			 (unsigned long long) seed);
	m->features = *f;
	return m;
}

void
sid_model_free(sid_model *m)
{
	if (!m)
		return;
	sid_encoder_free(m->enc);
	free(m);
}

/* ---- writing ------------------------------------------------------------ */

size_t
sid_model_file_size(const sid_model *m)
{
	return SID_MODEL_HEADER_BYTES + 4 * m->enc->num_params + 4;
}

static void
write_header(const sid_model *m, unsigned char *h)
{
	int32_t		ef[ENC_FIELDS];
	const sid_feature_config *f = &m->features;

	memset(h, 0, SID_MODEL_HEADER_BYTES);
	memcpy(h, SID_MODEL_MAGIC, 8);
	sid_put_u32(h + 8, SID_MODEL_VERSION);
	sid_put_u32(h + 12, SID_MODEL_HEADER_BYTES);
	sid_put_u32(h + 16, m->flags);
	memcpy(h + 20, m->name, strnlen(m->name, SID_MODEL_NAME_LEN - 1));
	memcpy(h + 84, m->note, strnlen(m->note, SID_MODEL_NOTE_LEN - 1));
	sid_put_u32(h + OFF_FEATURES + 0, (uint32_t) f->sample_rate);
	sid_put_u32(h + OFF_FEATURES + 4, (uint32_t) f->n_fft);
	sid_put_u32(h + OFF_FEATURES + 8, (uint32_t) f->hop_length);
	sid_put_u32(h + OFF_FEATURES + 12, (uint32_t) f->n_mels);
	sid_put_f32(h + OFF_FEATURES + 16, f->f_min);
	sid_put_f32(h + OFF_FEATURES + 20, f->f_max);
	sid_put_f32(h + OFF_FEATURES + 24, f->segment_seconds);
	sid_put_f32(h + OFF_FEATURES + 28, f->segment_hop_seconds);
	encoder_fields(&m->enc->cfg, ef);
	for (int i = 0; i < ENC_FIELDS; i++)
		sid_put_u32(h + OFF_ENCODER + 4 * i, (uint32_t) ef[i]);
	sid_put_u32(h + OFF_NPARAMS, (uint32_t) (m->enc->num_params & 0xffffffffu));
	sid_put_u32(h + OFF_NPARAMS + 4, (uint32_t) ((uint64_t) m->enc->num_params >> 32));
	sid_put_u32(h + OFF_HEADER_CRC, sid_crc32(0, h, OFF_HEADER_CRC));
}

void
sid_model_serialize(const sid_model *m, unsigned char *out)
{
	unsigned char *w = out + SID_MODEL_HEADER_BYTES;

	write_header(m, out);
	for (size_t i = 0; i < m->enc->num_params; i++)
		sid_put_f32(w + 4 * i, m->enc->params[i]);
	sid_put_u32(w + 4 * m->enc->num_params, sid_crc32(0, w, 4 * m->enc->num_params));
}

sid_status
sid_model_save(const sid_model *m, const char *path, sid_error *err)
{
	size_t		size = sid_model_file_size(m);
	unsigned char *buf = malloc(size);
	sid_status	st;

	if (!buf)
		return sid_fail(err, SID_ENOMEM, "out of memory writing model \"%s\"", path);
	sid_model_serialize(m, buf);
	st = sid_write_file_atomic(path, buf, size, err);
	free(buf);
	return st;
}

sid_status
sid_write_file_atomic(const char *path, const void *data, size_t size, sid_error *err)
{
	const unsigned char *buf = data;
	char		tmp[4096];
	int			fd;
	size_t		done = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int) getpid()) >= (int) sizeof(tmp))
		return sid_fail(err, SID_EINVAL, "path is too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return sid_fail(err, SID_EIO, "could not create \"%s\": %s", tmp, strerror(errno));
	while (done < size)
	{
		ssize_t		n = write(fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			int			e = errno;

			close(fd);
			unlink(tmp);
			return sid_fail(err, SID_EIO, "could not write \"%s\": %s", tmp, strerror(e));
		}
		done += (size_t) n;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
	{
		unlink(tmp);
		return sid_fail(err, SID_EIO, "could not flush \"%s\": %s", tmp, strerror(errno));
	}
	if (rename(tmp, path) != 0)
	{
		int			e = errno;

		unlink(tmp);
		return sid_fail(err, SID_EIO, "could not rename \"%s\" to \"%s\": %s", tmp, path, strerror(e));
	}
	return SID_OK;
}

void *
sid_read_file(const char *path, size_t max_len, size_t *len, sid_error *err)
{
	FILE	   *fp = fopen(path, "rb");
	struct stat st;
	void	   *buf;

	if (!fp)
	{
		sid_fail(err, SID_EIO, "could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
	{
		fclose(fp);
		sid_fail(err, SID_EIO, "\"%s\" is not a regular file", path);
		return NULL;
	}
	if ((uint64_t) st.st_size > max_len)
	{
		fclose(fp);
		sid_fail(err, SID_ELIMIT, "\"%s\" is larger than %zu bytes", path, max_len);
		return NULL;
	}
	buf = malloc(st.st_size ? (size_t) st.st_size : 1);
	if (!buf)
	{
		fclose(fp);
		sid_fail(err, SID_ENOMEM, "out of memory reading \"%s\"", path);
		return NULL;
	}
	if (fread(buf, 1, (size_t) st.st_size, fp) != (size_t) st.st_size)
	{
		free(buf);
		fclose(fp);
		sid_fail(err, SID_EIO, "could not read \"%s\"", path);
		return NULL;
	}
	fclose(fp);
	*len = (size_t) st.st_size;
	return buf;
}

/* ---- reading ------------------------------------------------------------ */

/* The header vouches for itself first: nothing in it is read before this. */
static sid_status
check_header(const unsigned char *h, size_t len, sid_error *err)
{
	uint32_t	version,
				hlen;

	if (len < 12 || memcmp(h, SID_MODEL_MAGIC, 8) != 0)
		return sid_fail(err, SID_EFORMAT, len < 12 ? "not a sampleid model file: only %zu bytes"
						: "not a sampleid model file: bad magic (expected \"SIDMODEL\")", len);
	version = sid_get_u32(h + 8);
	if (version != SID_MODEL_VERSION)
		return sid_fail(err, SID_EUNSUPPORTED,
						"model file format version %u is not supported (this build reads version %d)",
						version, SID_MODEL_VERSION);
	if (len < SID_MODEL_HEADER_BYTES)
		return sid_fail(err, SID_EFORMAT,
						"model file is truncated: %zu bytes, shorter than its %d-byte header",
						len, SID_MODEL_HEADER_BYTES);
	hlen = sid_get_u32(h + 12);
	if (hlen != SID_MODEL_HEADER_BYTES)
		return sid_fail(err, SID_EFORMAT, "model file header length %u is wrong (version %d uses %d)",
						hlen, SID_MODEL_VERSION, SID_MODEL_HEADER_BYTES);
	if (sid_get_u32(h + OFF_HEADER_CRC) != sid_crc32(0, h, OFF_HEADER_CRC))
		return sid_fail(err, SID_EFORMAT, "model file header is corrupted: header checksum mismatch");
	return SID_OK;
}

static void
read_header_config(const unsigned char *h, sid_feature_config *f, sid_encoder_config *cfg)
{
	int32_t		ef[ENC_FIELDS];

	f->sample_rate = (int32_t) sid_get_u32(h + OFF_FEATURES + 0);
	f->n_fft = (int32_t) sid_get_u32(h + OFF_FEATURES + 4);
	f->hop_length = (int32_t) sid_get_u32(h + OFF_FEATURES + 8);
	f->n_mels = (int32_t) sid_get_u32(h + OFF_FEATURES + 12);
	f->f_min = sid_get_f32(h + OFF_FEATURES + 16);
	f->f_max = sid_get_f32(h + OFF_FEATURES + 20);
	f->segment_seconds = sid_get_f32(h + OFF_FEATURES + 24);
	f->segment_hop_seconds = sid_get_f32(h + OFF_FEATURES + 28);
	for (int i = 0; i < ENC_FIELDS; i++)
		ef[i] = (int32_t) sid_get_u32(h + OFF_ENCODER + 4 * i);
	encoder_from_fields(cfg, ef);
}

/*
 * The architecture, already checked, decides how many weights the file must
 * hold: the stored count, the file's length and the weights' checksum must
 * all agree with it.
 */
static sid_status
check_weights(const unsigned char *h, size_t len, const sid_encoder_config *cfg,
			  uint64_t *nparams_out, sid_error *err)
{
	const unsigned char *w = h + SID_MODEL_HEADER_BYTES;
	uint64_t	nparams;

	nparams = (uint64_t) sid_get_u32(h + OFF_NPARAMS) | (uint64_t) sid_get_u32(h + OFF_NPARAMS + 4) << 32;
	if (nparams != sid_encoder_num_params(cfg))
		return sid_fail(err, SID_EFORMAT, "model file has %llu parameters but its architecture needs %zu",
						(unsigned long long) nparams, sid_encoder_num_params(cfg));
	if (len != SID_MODEL_HEADER_BYTES + 4 * nparams + 4)
		return sid_fail(err, SID_EFORMAT, "model file is %s: %zu bytes, expected %llu",
						len < SID_MODEL_HEADER_BYTES + 4 * nparams + 4 ? "truncated" : "too long",
						len, (unsigned long long) (SID_MODEL_HEADER_BYTES + 4 * nparams + 4));
	if (sid_get_u32(w + 4 * nparams) != sid_crc32(0, w, 4 * nparams))
		return sid_fail(err, SID_EFORMAT, "model file weights are corrupted: checksum mismatch");
	*nparams_out = nparams;
	return SID_OK;
}

/* A checksum passes on weights written non-finite, so each is checked as it is read. */
static sid_model *
model_from_checked_file(const unsigned char *h, uint64_t nparams, const sid_feature_config *f,
						const sid_encoder_config *cfg, sid_error *err)
{
	const unsigned char *w = h + SID_MODEL_HEADER_BYTES;
	sid_model  *m = calloc(1, sizeof(*m));

	if (!m)
	{
		sid_fail(err, SID_ENOMEM, "out of memory");
		return NULL;
	}
	m->enc = sid_encoder_create(cfg, err);
	if (!m->enc)
	{
		free(m);
		return NULL;
	}
	for (size_t i = 0; i < nparams; i++)
	{
		m->enc->params[i] = sid_get_f32(w + 4 * i);
		if (!isfinite(m->enc->params[i]))
		{
			sid_model_free(m);
			sid_fail(err, SID_EFORMAT, "model file weight %zu is not finite", i);
			return NULL;
		}
	}
	m->flags = sid_get_u32(h + 16);
	memcpy(m->name, h + 20, SID_MODEL_NAME_LEN - 1);
	memcpy(m->note, h + 84, SID_MODEL_NOTE_LEN - 1);
	m->features = *f;
	return m;
}

sid_model *
sid_model_load_mem(const void *data, size_t len, sid_error *err)
{
	const unsigned char *h = data;
	uint64_t	nparams = 0;
	sid_encoder_config cfg;
	sid_feature_config f;
	sid_model  *m;

	if (check_header(h, len, err) != SID_OK)
		return NULL;
	read_header_config(h, &f, &cfg);
	if (sid_model_check(&f, &cfg, err) != SID_OK)
		return NULL;
	if (check_weights(h, len, &cfg, &nparams, err) != SID_OK)
		return NULL;
	m = model_from_checked_file(h, nparams, &f, &cfg, err);
	if (m)
		sid_sha256_hex(data, len, m->sha256);
	return m;
}

sid_model *
sid_model_load(const char *path, sid_error *err)
{
	size_t		len;
	void	   *buf = sid_read_file(path, SID_MODEL_MAX_FILE_BYTES, &len, err);
	sid_model  *m;

	if (!buf)
		return NULL;
	m = sid_model_load_mem(buf, len, err);
	free(buf);
	if (!m)
		sid_error_name_file(err, path);
	return m;
}

void
sid_error_name_file(sid_error *err, const char *path)
{
	char		msg[sizeof(err->msg)];
	int			n;

	if (!err)
		return;
	memcpy(msg, err->msg, sizeof(msg));
	n = snprintf(err->msg, sizeof(err->msg), "\"%.200s\": ", path);
	snprintf(err->msg + n, sizeof(err->msg) - n, "%.300s", msg);
}
