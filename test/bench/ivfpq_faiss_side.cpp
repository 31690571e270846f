// ivfpq_faiss_side.cpp - data and FAISS side of the ivfpq benchmark
// (driven by test/bench/ivfpq_bench.sh; see docs/benchmarks.md).
//
//   ivfpq_faiss_side gen DIR N Q CENTRES SONGS SONG_SIGMA NOISE_SIGMA SEED
//       clustered fingerprints in two levels, like segments of recordings
//       of a genre: CENTRES N(0, 1) centres, SONGS sub-centres around each
//       (SONG_SIGMA * N(0, 1)), and each point a sub-centre plus NOISE_SIGMA
//       * N(0, 1) per dimension, L2-normalised, 128-d.
//       Writes DIR/base.copy and DIR/query.copy (PostgreSQL COPY BINARY of
//       (id int4, fp fingerprint)), DIR/base.f32 / query.f32 (raw floats)
//       and DIR/truth.tsv (qid, rank, id: exact top 10 by inner product).
//   ivfpq_faiss_side faiss DIR LISTS M NBITS RERANK PROBES...
//       FAISS IndexIVFPQ (inner product, residual encoding) at the same
//       settings as the ivfpq index, trained on a sample of the same size;
//       then the same index asked for RERANK candidates which are re-scored
//       exactly from the base vectors, as ivfpq does (what IndexRefineFlat
//       does, without its copy of the base: 10 M vectors are 5 GB).  One thread, one query per search
//       call, like one PostgreSQL backend serving one query at a time
//       (OpenMP and OpenBLAS both limited to one thread, as the ivfpq build
//       does with ivfpq.build_threads = 1).
//       Prints build time, index bytes, and QPS and recall@10 per probes.
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <faiss/invlists/InvertedLists.h>

#include <omp.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" void openblas_set_num_threads(int);

static const int kDim = 128;
static const int kTopK = 10;

static double
now()
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static void
write_raw(const std::string &path, const std::vector<float> &x)
{
	FILE	   *f = fopen(path.c_str(), "wb");

	if (!f || fwrite(x.data(), sizeof(float), x.size(), f) != x.size() || fclose(f) != 0)
	{
		perror(path.c_str());
		exit(1);
	}
}

static std::vector<float>
read_raw(const std::string &path)
{
	FILE	   *f = fopen(path.c_str(), "rb");
	std::vector<float> x;

	if (!f)
	{
		perror(path.c_str());
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	x.resize(ftell(f) / sizeof(float));
	fseek(f, 0, SEEK_SET);
	if (fread(x.data(), sizeof(float), x.size(), f) != x.size())
	{
		perror(path.c_str());
		exit(1);
	}
	fclose(f);
	return x;
}

// PostgreSQL COPY BINARY: header, then per row int16 field count and each
// field as int32 length + bytes (network order); fingerprint's binary form
// is int16 dim, int16 0, dim float4.
static void
write_copy(const std::string &path, const std::vector<float> &x, size_t n)
{
	FILE	   *f = fopen(path.c_str(), "wb");
	static const char sig[] = "PGCOPY\n\377\r\n\0";
	uint32_t	zero = 0;

	if (!f)
	{
		perror(path.c_str());
		exit(1);
	}
	fwrite(sig, 1, 11, f);
	fwrite(&zero, 4, 1, f);
	fwrite(&zero, 4, 1, f);
	for (size_t i = 0; i < n; i++)
	{
		uint16_t	nfields = htons(2);
		uint32_t	len = htonl(4);
		uint32_t	id = htonl((uint32_t) (i + 1));
		uint32_t	fplen = htonl(4 + 4 * kDim);
		uint16_t	dim = htons(kDim);
		uint16_t	unused = 0;

		fwrite(&nfields, 2, 1, f);
		fwrite(&len, 4, 1, f);
		fwrite(&id, 4, 1, f);
		fwrite(&fplen, 4, 1, f);
		fwrite(&dim, 2, 1, f);
		fwrite(&unused, 2, 1, f);
		for (int d = 0; d < kDim; d++)
		{
			uint32_t	bits;

			memcpy(&bits, &x[i * kDim + d], 4);
			bits = htonl(bits);
			fwrite(&bits, 4, 1, f);
		}
	}
	uint16_t	trailer = htons((uint16_t) -1);

	fwrite(&trailer, 2, 1, f);
	if (fclose(f) != 0)
	{
		perror(path.c_str());
		exit(1);
	}
}

static void
generate(const std::string &dir, size_t n, size_t q, int centres, int songs,
		 float songSigma, float sigma, unsigned seed)
{
	std::mt19937_64 rng(seed);
	std::normal_distribution<float> gauss(0.0f, 1.0f);
	std::uniform_int_distribution<int> pick(0, centres * songs - 1);
	std::vector<float> centre((size_t) centres * songs * kDim);

	for (int c = 0; c < centres; c++)
	{
		std::vector<float> top(kDim);

		for (auto &v : top)
			v = gauss(rng);
		for (int s = 0; s < songs; s++)
			for (int d = 0; d < kDim; d++)
				centre[((size_t) c * songs + s) * kDim + d] = top[d] + songSigma * gauss(rng);
	}

	auto points = [&](size_t count) {
		std::vector<float> x(count * kDim);

		for (size_t i = 0; i < count; i++)
		{
			int			c = pick(rng);
			double		norm = 0;

			for (int d = 0; d < kDim; d++)
			{
				float		v = centre[(size_t) c * kDim + d] + sigma * gauss(rng);

				x[i * kDim + d] = v;
				norm += (double) v * v;
			}
			norm = std::sqrt(norm);
			for (int d = 0; d < kDim; d++)
				x[i * kDim + d] = (float) (x[i * kDim + d] / norm);
		}
		return x;
	};
	std::vector<float> base = points(n);
	std::vector<float> query = points(q);

	write_raw(dir + "/base.f32", base);
	write_raw(dir + "/query.f32", query);
	write_copy(dir + "/base.copy", base, n);
	write_copy(dir + "/query.copy", query, q);

	// exact top 10 by inner product (all threads: this is not timed)
	std::vector<float> dist(q * kTopK);
	std::vector<faiss::Index::idx_t> ids(q * kTopK);

	faiss::knn_inner_product(query.data(), base.data(), kDim, q, n, kTopK, dist.data(), ids.data());
	FILE	   *f = fopen((dir + "/truth.tsv").c_str(), "w");

	for (size_t i = 0; i < q; i++)
		for (int k = 0; k < kTopK; k++)
			fprintf(f, "%zu\t%d\t%lld\n", i + 1, k + 1, (long long) ids[i * kTopK + k] + 1);
	fclose(f);
	printf("generated %zu base and %zu query fingerprints, %d centres x %d songs, sigmas %.2f %.2f\n",
		   n, q, centres, songs, songSigma, sigma);
}

static std::vector<std::vector<faiss::Index::idx_t>>
read_truth(const std::string &dir, size_t q)
{
	std::vector<std::vector<faiss::Index::idx_t>> truth(q);
	FILE	   *f = fopen((dir + "/truth.tsv").c_str(), "r");
	size_t		qid;
	int			rank;
	long long	id;

	while (fscanf(f, "%zu\t%d\t%lld\n", &qid, &rank, &id) == 3)
		truth[qid - 1].push_back(id - 1);
	fclose(f);
	return truth;
}

// One query per call, single thread: QPS and recall@10.  rerank > 0 asks
// the index for that many candidates and re-scores them exactly.
static void
measure(faiss::Index &index, const char *label, int probes, int rerank,
		const std::vector<float> &base, const std::vector<float> &query,
		const std::vector<std::vector<faiss::Index::idx_t>> &truth)
{
	size_t		q = truth.size();
	int			k = rerank > 0 ? rerank : kTopK;
	std::vector<float> dist(k);
	std::vector<faiss::Index::idx_t> ids(k);
	std::vector<std::pair<float, faiss::Index::idx_t>> exact(k);
	size_t		hits = 0;
	double		t0 = now();

	for (size_t i = 0; i < q; i++)
	{
		const float *x = query.data() + i * kDim;

		index.search(1, x, k, dist.data(), ids.data());
		if (rerank > 0)
		{
			int			found = 0;

			for (int j = 0; j < k; j++)
				if (ids[j] >= 0)
					exact[found++] = {-faiss::fvec_inner_product(x, base.data() + ids[j] * kDim, kDim), ids[j]};
			std::partial_sort(exact.begin(), exact.begin() + std::min(found, kTopK), exact.begin() + found);
			for (int j = 0; j < kTopK; j++)
				ids[j] = j < found ? exact[j].second : -1;
		}
		for (int j = 0; j < kTopK; j++)
			if (std::find(truth[i].begin(), truth[i].end(), ids[j]) != truth[i].end())
				hits++;
	}
	double		elapsed = now() - t0;

	printf("%s\tprobes=%d\tqps=%.1f\trecall@10=%.4f\n", label, probes, q / elapsed,
		   (double) hits / (q * kTopK));
}

static void
run_faiss(const std::string &dir, int lists, int m, int nbits, int rerank, const std::vector<int> &probes)
{
	std::vector<float> base = read_raw(dir + "/base.f32");
	std::vector<float> query = read_raw(dir + "/query.f32");
	size_t		n = base.size() / kDim;
	size_t		q = query.size() / kDim;
	auto		truth = read_truth(dir, q);

	// the same training sample size as the ivfpq build, drawn at random
	size_t		ntrain = std::min(n, (size_t) std::max(lists * 64, (1 << nbits) * 128));
	std::vector<size_t> perm(n);
	std::mt19937_64 rng(1234);

	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	std::shuffle(perm.begin(), perm.end(), rng);
	std::vector<float> train(ntrain * kDim);

	for (size_t i = 0; i < ntrain; i++)
		memcpy(&train[i * kDim], &base[perm[i] * kDim], sizeof(float) * kDim);

	omp_set_num_threads(1);
	openblas_set_num_threads(1);

	// built once per setting and cached, so that later calls measure
	// queries right next to the PostgreSQL measurement of the same probes
	std::string cache = dir + "/faiss_" + std::to_string(lists) + "_" + std::to_string(m) +
		"_" + std::to_string(nbits) + ".index";
	std::unique_ptr<faiss::IndexIVFPQ> index;
	FILE	   *cached = fopen(cache.c_str(), "rb");

	if (cached)
	{
		fclose(cached);
		index.reset(dynamic_cast<faiss::IndexIVFPQ *>(faiss::read_index(cache.c_str())));
	}
	else
	{
		faiss::IndexFlatIP *quantizer = new faiss::IndexFlatIP(kDim);

		index.reset(new faiss::IndexIVFPQ(quantizer, kDim, lists, m, nbits, faiss::METRIC_INNER_PRODUCT));
		index->own_fields = true;
		index->cp.niter = 20;
		index->pq.cp.niter = 20;
		double		t0 = now();

		index->train(ntrain, train.data());
		index->add(n, base.data());
		double		build = now() - t0;
		size_t		bytes = n * (index->code_size + sizeof(faiss::Index::idx_t)) +
			(size_t) lists * kDim * sizeof(float) + index->pq.centroids.size() * sizeof(float);

		printf("faiss_ivfpq\tbuild_s=%.1f\tbytes=%zu\tthreads=1\n", build, bytes);
		faiss::write_index(index.get(), cache.c_str());
	}
	faiss::IndexIVFPQ &ivfpq = *index;

	for (int p : probes)
	{
		ivfpq.nprobe = p;
		measure(ivfpq, "faiss_ivfpq", p, 0, base, query, truth);
	}

	for (int p : probes)
	{
		ivfpq.nprobe = p;
		measure(ivfpq, "faiss_ivfpq_rerank", p, rerank, base, query, truth);
	}
}

int
main(int argc, char **argv)
{
	if (argc >= 10 && strcmp(argv[1], "gen") == 0)
	{
		generate(argv[2], strtoul(argv[3], nullptr, 10), strtoul(argv[4], nullptr, 10),
				 atoi(argv[5]), atoi(argv[6]), (float) atof(argv[7]), (float) atof(argv[8]),
				 (unsigned) atoi(argv[9]));
		return 0;
	}
	if (argc >= 7 && strcmp(argv[1], "faiss") == 0)
	{
		std::vector<int> probes;

		for (int i = 7; i < argc; i++)
			probes.push_back(atoi(argv[i]));
		run_faiss(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), probes);
		return 0;
	}
	fprintf(stderr, "usage: %s gen DIR N Q CENTRES SONGS SONG_SIGMA NOISE_SIGMA SEED | faiss DIR LISTS M NBITS RERANK PROBES...\n", argv[0]);
	return 2;
}
