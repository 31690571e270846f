/*
 * test_verifier.c - the cross-attention verifier (model/sid_verifier): its
 * backward against central finite differences, what its positions mean,
 * and its .sidv file (round trip, each refusal named).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "core/sid_bytes.h"
#include "model/sid_verifier.h"
#include "nn_testutil.h"
#include "tap.h"

#define GRAD_TOL 2e-3
#define EPS 1e-2f

static struct
{
	sid_verifier_config cfg;
	sid_verifier_work *w;
	float	   *params;
	sid_verifier_pair p;
} V;

static double
verifier_logit(void *ctx)
{
	(void) ctx;
	return sid_verifier_forward(&V.cfg, V.params, V.w, &V.p);
}

static void
normalise_rows(float *x, int rows, int dim)
{
	for (int r = 0; r < rows; r++)
	{
		double		s = 0.0;

		for (int i = 0; i < dim; i++)
			s += (double) x[r * dim + i] * x[r * dim + i];
		for (int i = 0; i < dim; i++)
			x[r * dim + i] /= (float) sqrt(s);
	}
}

static void
test_gradients(void)
{
	sid_error	err;
	size_t		np,
				worst = 0;
	float	   *grad;
	double		qt[5],
				ct[7];
	float	   *qfp,
			   *cfp;

	sid_verifier_config_default(&V.cfg, 6);
	V.cfg.pe_pairs = 2;
	V.cfg.heads = 2;
	V.cfg.head_dim = 3;
	V.cfg.att_dim = 4;
	V.cfg.hidden = 5;
	V.cfg.head_hidden = 3;
	V.cfg.max_query_segments = 8;
	V.cfg.max_candidate_segments = 8;
	np = sid_verifier_num_params(&V.cfg);
	V.params = test_randn(np, 0.7f);
	V.w = sid_verifier_work_create(&V.cfg, &err);
	qfp = test_randn(5 * 6, 1);
	cfp = test_randn(7 * 6, 1);
	normalise_rows(qfp, 5, 6);
	normalise_rows(cfp, 7, 6);
	for (int i = 0; i < 5; i++)
		qt[i] = 2.0 + 0.5 * i;
	for (int j = 0; j < 7; j++)
		ct[j] = 40.0 + 0.5 * j;
	V.p = (sid_verifier_pair) {qfp, qt, 5, cfp, ct, 7, 38.5};
	CHECK(sid_verifier_pair_check(&V.cfg, &V.p, &err) == SID_OK, "a small pair passes the checks");
	grad = test_zeros(np);
	verifier_logit(NULL);
	sid_verifier_backward(&V.cfg, V.params, V.w, &V.p, 1.0f, grad);
	CHECK(test_grad_check(verifier_logit, NULL, V.params, grad, np, EPS, &worst) < GRAD_TOL,
		  "verifier backward: all %zu parameters (cross-attention, segment MLP, head) match finite differences (worst %zu)",
		  np, worst);
	/* accumulation: a second backward doubles the gradient */
	{
		float	   *twice = test_zeros(np);
		double		d = 0.0;

		verifier_logit(NULL);
		sid_verifier_backward(&V.cfg, V.params, V.w, &V.p, 1.0f, twice);
		sid_verifier_backward(&V.cfg, V.params, V.w, &V.p, 1.0f, twice);
		for (size_t i = 0; i < np; i++)
			d = fmax(d, fabs(twice[i] - 2.0f * grad[i]));
		CHECK(d < 1e-5, "backward accumulates into the gradient (max deviation %.2g)", d);
		free(twice);
	}
	/* only the positions relative to the alignment matter */
	{
		float		a = (float) verifier_logit(NULL),
					b;

		for (int i = 0; i < 5; i++)
			qt[i] += 100.0;
		V.p.offset -= 100.0;
		b = (float) verifier_logit(NULL);
		CHECK(fabsf(a - b) < 1e-4f, "moving the query and the offset together leaves the logit (%g, %g)", a, b);
		V.p.offset += 0.5;
		b = (float) verifier_logit(NULL);
		CHECK(fabsf(a - b) > 1e-4f, "another offset changes it (%g, %g)", a, b);
		V.p.offset -= 0.5;
	}
	/* bad pairs are refused by name */
	V.p.nq = 9;
	CHECK(sid_verifier_pair_check(&V.cfg, &V.p, &err) == SID_ELIMIT && strstr(err.msg, "at most 8"),
		  "too many query segments: %s", err.msg);
	V.p.nq = 5;
	V.p.nk = 0;
	CHECK(sid_verifier_pair_check(&V.cfg, &V.p, &err) == SID_EINVAL, "no candidate segment: %s", err.msg);
	V.p.nk = 7;
	ct[3] = NAN;
	CHECK(sid_verifier_pair_check(&V.cfg, &V.p, &err) == SID_EINVAL && strstr(err.msg, "candidate segment 3"),
		  "a non-finite time: %s", err.msg);
	ct[3] = 41.5;
	free(grad);
	free(qfp);
	free(cfp);
	free(V.params);
	sid_verifier_work_free(V.w);
}

static void
expect_failure(const unsigned char *buf, size_t len, sid_status code, const char *needle, const char *what)
{
	sid_error	err;
	sid_verifier *v = sid_verifier_load_mem(buf, len, &err);

	CHECK(v == NULL && err.code == code && strstr(err.msg, needle), "%s: %s", what, v ? "(loaded)" : err.msg);
	sid_verifier_free(v);
}

#define ENCODER_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ENCODER_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/*
 * A version-1 file made from a version-2 one (v1 had no encoder field: the
 * CRC at 400, header 404 bytes), read back with its encoder added.
 */
static void
test_v1(const unsigned char *v2, size_t len, const sid_verifier *v)
{
	size_t		len1 = len - 64;
	unsigned char *v1 = malloc(len1);
	sid_error	err;
	sid_verifier *back;

	memcpy(v1, v2, 400);
	sid_put_u32(v1 + 8, 1);
	sid_put_u32(v1 + 12, 404);
	sid_put_u32(v1 + 400, sid_crc32(0, v1, 400));
	memcpy(v1 + 404, v2 + 468, len - 468);
	back = sid_verifier_load_mem(v1, len1, &err);
	CHECK(!back && err.code == SID_EUNSUPPORTED, "the loader refuses a version-1 file: %s", back ? "(loaded)" : err.msg);
	sid_verifier_free(back);
	back = sid_verifier_load_v1(v1, len1, ENCODER_B, &err);
	CHECK(back && back->threshold == v->threshold &&
		  memcmp(back->params, v->params, sizeof(float) * v->num_params) == 0 &&
		  strcmp(back->encoder_sha256, ENCODER_B) == 0 && strcmp(back->name, v->name) == 0,
		  "a version-1 file reads as version 2 with the encoder given, weights unchanged");
	CHECK(back && sid_verifier_file_size(back) == len, "and serialises to the version-2 size");
	sid_verifier_free(back);
	back = sid_verifier_load_v1(v1, len1, "xyz", &err);
	CHECK(!back && err.code == SID_EINVAL, "the encoder must be a digest: %s", back ? "(loaded)" : err.msg);
	sid_verifier_free(back);
	back = sid_verifier_load_v1(v2, len, ENCODER_B, &err);
	CHECK(!back && err.code == SID_EFORMAT, "a version-2 file is not converted: %s", back ? "(loaded)" : err.msg);
	sid_verifier_free(back);
	v1[len1 / 2] ^= 0x10;
	back = sid_verifier_load_v1(v1, len1, ENCODER_B, &err);
	CHECK(!back && strstr(err.msg, "weights are corrupted"), "its weights' checksum is still checked: %s",
		  back ? "(loaded)" : err.msg);
	sid_verifier_free(back);
	free(v1);
}


static void
test_file(void)
{
	sid_verifier_config cfg;
	sid_error	err;
	sid_verifier *v,
			   *back;
	unsigned char *buf,
			   *copy;
	size_t		len;
	char		dir[] = "/tmp/sampleid-test-verifier.XXXXXX",
				path[300];

	sid_verifier_config_default(&cfg, 128);
	v = sid_verifier_new("verify", &cfg, 7, &err);
	CHECK(v != NULL && strstr(v->note, "UNTRAINED"), "a default verifier is made untrained");
	v->threshold = 0.625f;
	CHECK(sid_verifier_check_encoder(v, ENCODER_A, &err) == SID_EINVAL && strstr(err.msg, "records no encoder"),
		  "a verifier that was never trained is refused for any encoder: %s", err.msg);
	memcpy(v->encoder_sha256, ENCODER_A, sizeof(ENCODER_A));
	len = sid_verifier_file_size(v);
	buf = malloc(len);
	copy = malloc(len + 3);
	sid_verifier_serialize(v, buf);
	back = sid_verifier_load_mem(buf, len, &err);
	CHECK(back && memcmp(&back->cfg, &v->cfg, sizeof(cfg)) == 0 && back->threshold == 0.625f &&
		  memcmp(back->params, v->params, sizeof(float) * v->num_params) == 0 && strlen(back->sha256) == 64,
		  "configuration, threshold and %zu weights survive the round trip", v->num_params);
	CHECK(back && strcmp(back->encoder_sha256, ENCODER_A) == 0, "and so does the encoder's digest");
	CHECK(back && sid_verifier_check_encoder(back, ENCODER_A, &err) == SID_OK, "its own encoder is accepted");
	CHECK(back && sid_verifier_check_encoder(back, ENCODER_B, &err) == SID_EINVAL &&
		  strstr(err.msg, "encoder sha256 0123456789ab, not of this one (sha256 fedcba987654)"),
		  "another encoder is refused, naming both: %s", err.msg);
	sid_verifier_free(back);
	CHECK(mkdtemp(dir) != NULL, "temporary directory");
	snprintf(path, sizeof(path), "%s/verify.sidv", dir);
	CHECK(sid_verifier_save(v, path, &err) == SID_OK, "saved to a file");
	back = sid_verifier_load(path, &err);
	CHECK(back && back->threshold == 0.625f, "and loaded from it");
	sid_verifier_free(back);
	unlink(path);
	rmdir(dir);

	memcpy(copy, buf, len);
	copy[0] = 'X';
	expect_failure(copy, len, SID_EFORMAT, "bad magic", "wrong magic");
	memcpy(copy, buf, len);
	copy[8] = 1;
	expect_failure(copy, len, SID_EUNSUPPORTED, "version 1", "version 1, which records no encoder");
	expect_failure(buf, 5, SID_EFORMAT, "only 5 bytes", "5 bytes");
	expect_failure(buf, 200, SID_EFORMAT, "truncated", "truncated header");
	expect_failure(buf, len - 1, SID_EFORMAT, "truncated", "missing last byte");
	memcpy(copy, buf, len);
	memset(copy + len, 0, 3);
	expect_failure(copy, len + 3, SID_EFORMAT, "too long", "trailing bytes");
	memcpy(copy, buf, len);
	copy[len / 2] ^= 0x10;
	expect_failure(copy, len, SID_EFORMAT, "weights are corrupted", "flipped weight bit");
	memcpy(copy, buf, len);
	copy[344] ^= 0x01;
	expect_failure(copy, len, SID_EFORMAT, "header is corrupted", "flipped header bit");
	/* a wrong threshold with a right checksum */
	memcpy(copy, buf, len);
	sid_put_f32(copy + 388, 1.5f);
	sid_put_u32(copy + 464, sid_crc32(0, copy, 464));
	expect_failure(copy, len, SID_EFORMAT, "threshold 1.5", "threshold outside 0 .. 1");
	memcpy(copy, buf, len);
	sid_put_u32(copy + 340 + 4 * 2, 0);
	sid_put_u32(copy + 464, sid_crc32(0, copy, 464));
	expect_failure(copy, len, SID_EFORMAT, "heads 0", "zero heads");
	memcpy(copy, buf, len);
	copy[400 + 10] = 'G';
	sid_put_u32(copy + 464, sid_crc32(0, copy, 464));
	expect_failure(copy, len, SID_EFORMAT, "64 hex digits", "an encoder digest with a non-hex digit");
	memcpy(copy, buf, len);
	copy[400 + 63] = '\0';
	sid_put_u32(copy + 464, sid_crc32(0, copy, 464));
	expect_failure(copy, len, SID_EFORMAT, "64 hex digits", "a short encoder digest");
	test_v1(buf, len, v);
	free(buf);
	free(copy);
	sid_verifier_free(v);
}

int
main(void)
{
	test_gradients();
	test_file();
	return tap_done();
}
