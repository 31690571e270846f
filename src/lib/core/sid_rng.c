/*
 * sid_rng.c - xoshiro256** seeded through SplitMix64; see sid_rng.h.
 */
#include "core/sid_rng.h"

#include <math.h>

uint64_t
sid_splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
sid_rng_init(sid_rng *rng, uint64_t seed, uint64_t stream)
{
	/* Mix the stream into the seed first so (seed, stream) pairs that differ
	 * in either give unrelated states, not shifted copies of one sequence. */
	uint64_t	x = seed;
	uint64_t	mixed = sid_splitmix64(&x) ^ (stream * UINT64_C(0xD1B54A32D192ED03));

	for (int i = 0; i < 4; i++)
		rng->s[i] = sid_splitmix64(&mixed);
	/* xoshiro's only forbidden state is all zeros */
	if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
		rng->s[0] = 1;
	rng->spare = 0;
	rng->has_spare = 0;
}

uint64_t
sid_rng_next(sid_rng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

float
sid_rng_uniform(sid_rng *rng)
{
	return sid_uniform_from_bits(sid_rng_next(rng));
}

double
sid_rng_uniform_double(sid_rng *rng)
{
	return (double) (sid_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

float
sid_rng_range(sid_rng *rng, float lo, float hi)
{
	return lo + (hi - lo) * sid_rng_uniform(rng);
}

uint64_t
sid_rng_below(sid_rng *rng, uint64_t n)
{
	/* reject the top partial block so every residue is equally likely */
	uint64_t	limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t	x;

	do
		x = sid_rng_next(rng);
	while (x >= limit);
	return x % n;
}

float
sid_rng_normal(sid_rng *rng)
{
	double		u,
				v,
				r2,
				f;

	if (rng->has_spare)
	{
		rng->has_spare = 0;
		return (float) rng->spare;
	}
	do
	{
		u = 2.0 * sid_rng_uniform_double(rng) - 1.0;
		v = 2.0 * sid_rng_uniform_double(rng) - 1.0;
		r2 = u * u + v * v;
	} while (r2 >= 1.0 || r2 == 0.0);
	f = sqrt(-2.0 * log(r2) / r2);
	rng->spare = v * f;
	rng->has_spare = 1;
	return (float) (u * f);
}

void
sid_rng_shuffle(sid_rng *rng, size_t *idx, size_t n)
{
	for (size_t i = n; i > 1; i--)
	{
		size_t		j = (size_t) sid_rng_below(rng, i);
		size_t		t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

uint64_t
sid_hash_string(const char *s)
{
	uint64_t	h = UINT64_C(0xCBF29CE484222325);

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= UINT64_C(0x100000001B3);
	}
	return h;
}
