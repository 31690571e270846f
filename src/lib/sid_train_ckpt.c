/*
 * sid_train_ckpt.c - training checkpoints: everything a run needs to go on
 * exactly where it stopped (weights, Adam moments, step, seed; the random
 * streams are a function of seed and step, see sid_train.h).
 *
 * Layout, little-endian (the trainer's machine; checkpoints are not an
 * interchange format - models are, see sid_model.h):
 *   0   char[8]   "SIDTCKPT"
 *   8   u32       version (1)
 *   12  u32       header bytes H (= 256)
 *   16  i64       step (steps done)
 *   24  u64       seed
 *   32  f64       best validation top-1 (exact), -1 if none
 *   40  i64       step of the best validation
 *   48  u64       parameters P
 *   56  8 x 4     sid_feature_config
 *   88  ...       sid_encoder_config as SID_CKPT_ENC_FIELDS i32 (zero-padded to H)
 *   H   3P x f32  parameters, Adam m, Adam v
 *   end u32       CRC-32 of every byte before it
 */
#include "sid_train.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sid_model.h"

#define CKPT_MAGIC "SIDTCKPT"
#define CKPT_VERSION 1
#define CKPT_HEADER 256
#define CKPT_ENC_OFFSET 88

static void
pack_header(unsigned char *h, const sid_encoder *enc, const sid_feature_config *f,
			const sid_train_state *st)
{
	uint32_t	u;
	uint64_t	p = enc->num_params;

	memset(h, 0, CKPT_HEADER);
	memcpy(h, CKPT_MAGIC, 8);
	u = CKPT_VERSION;
	memcpy(h + 8, &u, 4);
	u = CKPT_HEADER;
	memcpy(h + 12, &u, 4);
	memcpy(h + 16, &st->step, 8);
	memcpy(h + 24, &st->seed, 8);
	memcpy(h + 32, &st->best_val, 8);
	memcpy(h + 40, &st->best_step, 8);
	memcpy(h + 48, &p, 8);
	memcpy(h + 56, f, sizeof(*f));
	_Static_assert(sizeof(sid_feature_config) == 32, "feature config is 8 x 4 bytes");
	_Static_assert(CKPT_ENC_OFFSET + sizeof(sid_encoder_config) <= CKPT_HEADER,
				   "encoder config fits the checkpoint header");
	memcpy(h + CKPT_ENC_OFFSET, &enc->cfg, sizeof(enc->cfg));
}

static int
write_all(int fd, const void *buf, size_t n, uint32_t *crc)
{
	const char *p = buf;

	*crc = sid_crc32(*crc, buf, n);
	while (n > 0)
	{
		ssize_t		w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

sid_status
sid_checkpoint_save(const char *path, const sid_encoder *enc, const sid_feature_config *f,
					const sid_train_state *st, sid_error *err)
{
	char		tmp[SID_TRAIN_PATH_MAX + 32],
				dir[SID_TRAIN_PATH_MAX];
	unsigned char h[CKPT_HEADER];
	uint32_t	crc = 0,
				dummy = 0;
	int			fd,
				dfd;
	size_t		bytes = enc->num_params * sizeof(float);

	if (!enc->adam_m || !enc->adam_v)
		return sid_fail(err, SID_EINVAL, "checkpoint: the encoder has no training state");
	if (strlen(path) >= SID_TRAIN_PATH_MAX)
		return sid_fail(err, SID_EINVAL, "checkpoint: path too long");
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long) getpid());
	pack_header(h, enc, f, st);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return sid_fail(err, SID_EIO, "checkpoint: cannot create %s: %s", tmp, strerror(errno));
	if (write_all(fd, h, CKPT_HEADER, &crc) != 0 ||
		write_all(fd, enc->params, bytes, &crc) != 0 ||
		write_all(fd, enc->adam_m, bytes, &crc) != 0 ||
		write_all(fd, enc->adam_v, bytes, &crc) != 0 ||
		write_all(fd, &crc, 4, &dummy) != 0 || fsync(fd) != 0)
	{
		int			e = errno;

		close(fd);
		unlink(tmp);
		return sid_fail(err, SID_EIO, "checkpoint: cannot write %s: %s", tmp, strerror(e));
	}
	if (close(fd) != 0 || rename(tmp, path) != 0)
	{
		int			e = errno;

		unlink(tmp);
		return sid_fail(err, SID_EIO, "checkpoint: cannot replace %s: %s", path, strerror(e));
	}
	/* the rename itself must reach the disk */
	strcpy(dir, path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) >= 0)
	{
		fsync(dfd);
		close(dfd);
	}
	return SID_OK;
}

sid_encoder *
sid_checkpoint_load(const char *path, sid_feature_config *f, sid_train_state *st,
					sid_error *err)
{
	FILE	   *fp = fopen(path, "rb");
	unsigned char h[CKPT_HEADER];
	uint32_t	version,
				hlen,
				crc = 0,
				stored;
	uint64_t	p;
	sid_encoder_config cfg;
	sid_encoder *enc = NULL;
	size_t		bytes;

	if (!fp)
	{
		sid_fail(err, SID_EIO, "checkpoint: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fread(h, 1, CKPT_HEADER, fp) != CKPT_HEADER || memcmp(h, CKPT_MAGIC, 8) != 0)
	{
		fclose(fp);
		sid_fail(err, SID_EFORMAT, "checkpoint: %s is not a training checkpoint (bad magic or truncated header)", path);
		return NULL;
	}
	memcpy(&version, h + 8, 4);
	memcpy(&hlen, h + 12, 4);
	if (version != CKPT_VERSION || hlen != CKPT_HEADER)
	{
		fclose(fp);
		sid_fail(err, SID_EFORMAT, "checkpoint: %s has version %u (expected %d)", path, version, CKPT_VERSION);
		return NULL;
	}
	crc = sid_crc32(crc, h, CKPT_HEADER);
	memcpy(&st->step, h + 16, 8);
	memcpy(&st->seed, h + 24, 8);
	memcpy(&st->best_val, h + 32, 8);
	memcpy(&st->best_step, h + 40, 8);
	memcpy(&p, h + 48, 8);
	memcpy(f, h + 56, sizeof(*f));
	memcpy(&cfg, h + CKPT_ENC_OFFSET, sizeof(cfg));
	if (sid_model_check(f, &cfg, err) != SID_OK || sid_encoder_num_params(&cfg) != p)
	{
		fclose(fp);
		if (err && err->code == SID_OK)
			sid_fail(err, SID_EFORMAT, "checkpoint: %s: parameter count does not match its architecture", path);
		else if (err)
			err->code = SID_EFORMAT;
		return NULL;
	}
	if ((enc = sid_encoder_create(&cfg, err)) == NULL ||
		sid_encoder_enable_training(enc, err) != SID_OK)
	{
		fclose(fp);
		sid_encoder_free(enc);
		return NULL;
	}
	bytes = p * sizeof(float);
	if (fread(enc->params, 1, bytes, fp) != bytes || fread(enc->adam_m, 1, bytes, fp) != bytes ||
		fread(enc->adam_v, 1, bytes, fp) != bytes || fread(&stored, 1, 4, fp) != 4 ||
		fgetc(fp) != EOF)
	{
		fclose(fp);
		sid_encoder_free(enc);
		sid_fail(err, SID_EFORMAT, "checkpoint: %s has the wrong length (truncated or trailing bytes)", path);
		return NULL;
	}
	fclose(fp);
	crc = sid_crc32(crc, enc->params, bytes);
	crc = sid_crc32(crc, enc->adam_m, bytes);
	crc = sid_crc32(crc, enc->adam_v, bytes);
	if (crc != stored)
	{
		sid_encoder_free(enc);
		sid_fail(err, SID_EFORMAT, "checkpoint: %s is corrupted (CRC mismatch)", path);
		return NULL;
	}
	return enc;
}
