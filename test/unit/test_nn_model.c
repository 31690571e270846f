/*
 * test_nn_model.c - the model file: round trip, the untrained mark, and a
 * clear, named error for a wrong magic, a wrong version, truncation at
 * several points, corrupted weights, a corrupted header, a missing file.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/sid_model.h"
#include "tap.h"

static unsigned char *
read_all(const char *path, size_t *len)
{
	FILE	   *fp = fopen(path, "rb");
	unsigned char *buf;

	fseek(fp, 0, SEEK_END);
	*len = (size_t) ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(*len);
	if (fread(buf, 1, *len, fp) != *len)
		*len = 0;
	fclose(fp);
	return buf;
}

/* Loads a mutated copy and checks the error code and a phrase of the message. */
static void
expect_failure(const unsigned char *data, size_t len, sid_status code, const char *phrase,
			   const char *what)
{
	sid_error	err;
	sid_model  *m;

	memset(&err, 0, sizeof(err));
	m = sid_model_load_mem(data, len, &err);
	CHECK(m == NULL && err.code == code && strstr(err.msg, phrase) != NULL,
		  "%s: \"%s\"", what, err.msg);
	sid_model_free(m);
}

int
main(void)
{
	char		dir[] = "/tmp/sid_model_test.XXXXXX";
	char		path[256];
	sid_encoder_config cfg;
	sid_feature_config f;
	sid_error	err;
	sid_model  *m,
			   *back;
	unsigned char *file,
			   *copy;
	size_t		len;

	sid_nn_set_threads(1);
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/fp.sidm", dir);
	sid_encoder_default_config(&cfg);
	sid_features_default(&f);

	m = sid_model_new_untrained("fp", &cfg, &f, 42, &err);
	CHECK(m != NULL, "untrained default model created");
	CHECK(!sid_model_is_trained(m) && strstr(m->note, "UNTRAINED"), "it is marked untrained: %s", m->note);
	CHECK(m->enc->cfg.n_frames == 63, "window of 1 s at hop 256 is 63 frames");
	CHECK(sid_model_save(m, path, &err) == SID_OK, "saved to %s", path);

	back = sid_model_load(path, &err);
	CHECK(back != NULL, "loaded back");
	if (!back)
		return tap_done();
	CHECK(memcmp(&back->enc->cfg, &m->enc->cfg, sizeof(cfg)) == 0, "architecture survives the round trip");
	CHECK(memcmp(&back->features, &m->features, sizeof(f)) == 0, "feature configuration survives");
	CHECK(back->enc->num_params == m->enc->num_params &&
		  memcmp(back->enc->params, m->enc->params, sizeof(float) * m->enc->num_params) == 0,
		  "all %zu weights are bit-identical", m->enc->num_params);
	CHECK(!sid_model_is_trained(back) && strcmp(back->name, "fp") == 0, "name and untrained flag survive");
	sid_model_free(back);

	/* a trained flag round-trips too */
	m->flags |= SID_MODEL_TRAINED;
	snprintf(m->note, sizeof(m->note), "trained by a test");
	CHECK(sid_model_save(m, path, &err) == SID_OK, "trained variant saved");
	back = sid_model_load(path, &err);
	CHECK(back && sid_model_is_trained(back) && strcmp(back->note, "trained by a test") == 0,
		  "trained flag and note survive");
	sid_model_free(back);

	file = read_all(path, &len);
	CHECK(len == sid_model_file_size(m), "file size is header + 4 bytes per weight + checksum (%zu)", len);
	copy = malloc(len);

	memcpy(copy, file, len);
	copy[0] = 'X';
	expect_failure(copy, len, SID_EFORMAT, "bad magic", "wrong magic is named");
	memcpy(copy, file, len);
	copy[8] = 9;
	expect_failure(copy, len, SID_EUNSUPPORTED, "version 9 is not supported", "wrong version is named");
	expect_failure(file, 5, SID_EFORMAT, "only 5 bytes", "a 5-byte file is named");
	expect_failure(file, 100, SID_EFORMAT, "truncated", "truncation inside the header is named");
	expect_failure(file, len / 2, SID_EFORMAT, "truncated", "truncation inside the weights is named");
	expect_failure(file, len - 1, SID_EFORMAT, "truncated", "a missing last byte is named");
	memcpy(copy, file, len);
	copy[len / 2] ^= 0x10;
	expect_failure(copy, len, SID_EFORMAT, "weights are corrupted", "a flipped weight bit is caught by the checksum");
	memcpy(copy, file, len);
	copy[400] ^= 0x01;
	expect_failure(copy, len, SID_EFORMAT, "header is corrupted", "a flipped header bit is caught by the checksum");
	{
		unsigned char *longer = malloc(len + 3);

		memcpy(longer, file, len);
		memset(longer + len, 0, 3);
		expect_failure(longer, len + 3, SID_EFORMAT, "too long", "trailing garbage is named");
		free(longer);
	}
	{
		char		missing[300];

		snprintf(missing, sizeof(missing), "%s/none.sidm", dir);
		back = sid_model_load(missing, &err);
		CHECK(back == NULL && err.code == SID_EIO && strstr(err.msg, "none.sidm"),
			  "a missing file names the path: %s", err.msg);
	}
	CHECK(sid_crc32(0, "123456789", 9) == 0xCBF43926u, "CRC-32 check value");

	free(copy);
	free(file);
	sid_model_free(m);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
