/*
 * test_faiss_nearest.cpp - the build's nearest-centroid search
 * (ivfpq_faiss_nearest, src/ivfpq/ivfpq_faiss.cpp) against FAISS's own
 * knn_inner_product with k = 1, whose heap it replaced: the same label for
 * every vector, over shapes that cross its 4096-row and 1024-centroid
 * blocks and its 8-lane tails, with tied centroids (the first one wins),
 * rows whose products are all NaN or -inf (-1), and a NaN among finite ones.
 */
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <faiss/utils/distances.h>

extern "C"
{
#include "ivfpq/ivfpq_faiss.h"
#include "tap.h"
}

static bool
same_labels(int dim, int64_t n, int k, const std::vector<float> &x,
			const std::vector<float> &c, int64_t *first_difference)
{
	std::vector<int64_t> ours(n), theirs(n);
	std::vector<float> products(n);
	char		errbuf[256] = "";

	if (ivfpq_faiss_nearest(dim, n, x.data(), k, c.data(), 1, ours.data(), errbuf,
							sizeof(errbuf)) != 0)
		return false;
	faiss::knn_inner_product(x.data(), c.data(), dim, n, k, 1, products.data(), theirs.data());
	for (int64_t i = 0; i < n; i++)
		if (ours[i] != theirs[i])
		{
			*first_difference = i;
			return false;
		}
	return true;
}

static std::vector<float>
random_floats(size_t count, std::mt19937 &rng)
{
	std::normal_distribution<float> normal(0.0f, 1.0f);
	std::vector<float> v(count);

	for (float &f : v)
		f = normal(rng);
	return v;
}

int
main(void)
{
	std::mt19937 rng(13);
	const struct
	{
		int			dim;
		int64_t		n;
		int			k;
	}			shapes[] = {
		{128, 5000, 1000}, {128, 4096, 1024}, {8, 300, 7}, {16, 9000, 2051},
		{129, 100, 1}, {3, 4097, 1025}, {64, 50, 16},
	};

	for (const auto &s : shapes)
	{
		std::vector<float> x = random_floats((size_t) s.n * s.dim, rng);
		std::vector<float> c = random_floats((size_t) s.k * s.dim, rng);
		int64_t		at = -1;

		CHECK(same_labels(s.dim, s.n, s.k, x, c, &at),
			  "dim %d, %lld vectors, %d centroids: FAISS's labels (first difference at %lld)",
			  s.dim, (long long) s.n, s.k, (long long) at);
	}

	{
		/* every centroid duplicated at a later index, twice in one block, across blocks */
		const int	dim = 32,
					k = 2048;
		const int64_t n = 600;
		std::vector<float> x = random_floats((size_t) n * dim, rng);
		std::vector<float> c = random_floats((size_t) k * dim, rng);
		int64_t		at = -1;

		for (int j = 0; j < 512; j++)
		{
			std::memcpy(&c[(size_t) (j + 512) * dim], &c[(size_t) j * dim], sizeof(float) * dim);
			std::memcpy(&c[(size_t) (j + 1536) * dim], &c[(size_t) j * dim], sizeof(float) * dim);
		}
		CHECK(same_labels(dim, n, k, x, c, &at),
			  "tied centroids: the first of equal products, as FAISS (first difference at %lld)",
			  (long long) at);
	}

	{
		const int	dim = 16,
					k = 40;
		const int64_t n = 3;
		std::vector<float> x = random_floats((size_t) n * dim, rng);
		std::vector<float> c = random_floats((size_t) k * dim, rng);
		std::vector<int64_t> labels(n);
		char		errbuf[256] = "";

		x[0] = std::numeric_limits<float>::quiet_NaN();	/* row 0: every product NaN */
		for (int d = 0; d < dim; d++)	/* row 1: every product -inf or NaN */
			x[dim + d] = d == 0 ? -std::numeric_limits<float>::infinity() : 0.0f;
		for (int j = 0; j < k; j++)
			c[(size_t) j * dim] = 1.0f;
		c[(size_t) 5 * dim + 1] = std::numeric_limits<float>::quiet_NaN();	/* row 2: one NaN */
		CHECK(ivfpq_faiss_nearest(dim, n, x.data(), k, c.data(), 1, labels.data(), errbuf,
								  sizeof(errbuf)) == 0, "a call with NaN and -inf returns");
		CHECK(labels[0] == -1 && labels[1] == -1,
			  "no label where every product is NaN or -inf (%lld, %lld)",
			  (long long) labels[0], (long long) labels[1]);
		{
			std::vector<int64_t> theirs(n);
			std::vector<float> products(n);

			faiss::knn_inner_product(x.data(), c.data(), dim, n, k, 1, products.data(),
									 theirs.data());
			CHECK(labels[2] == theirs[2] && labels[2] >= 0 && labels[2] != 5,
				  "a NaN product among finite ones is passed over: %lld, FAISS %lld",
				  (long long) labels[2], (long long) theirs[2]);
			CHECK(theirs[0] == -1 && theirs[1] == -1,
				  "FAISS too gives none there (%lld, %lld)",
				  (long long) theirs[0], (long long) theirs[1]);
		}
	}
	return tap_done();
}
