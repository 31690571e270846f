/*
 * sid_rng.h - the project's seeded random numbers.
 *
 * xoshiro256** (Blackman & Vigna) with its state derived by SplitMix64 from a
 * (seed, stream) pair.  A stream is an independent sequence: give every
 * training example, query or impulse response its own stream number and the
 * result no longer depends on which thread made it or in what order, so a
 * seed reproduces the same numbers on every run and every machine.
 */
#ifndef SID_RNG_H
#define SID_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sid_rng
{
	uint64_t	s[4];
	double		spare;			/* the second normal of the last pair drawn */
	int			has_spare;
} sid_rng;

/*
 * SplitMix64 (Steele, Lea & Flood): returns the next value and advances
 * *state.  sid_rng_init derives xoshiro's state from it; the encoder draws its
 * initial weights straight from it, seeded with the model's seed, so a seed
 * gives the same weights it gave before sid_rng existed.
 */
uint64_t	sid_splitmix64(uint64_t *state);

/* The top 24 bits of x as a float uniform in [0, 1), exact: how
 * sid_rng_uniform turns a draw into a float. */
static inline float
sid_uniform_from_bits(uint64_t x)
{
	return (float) (x >> 40) * (1.0f / 16777216.0f);
}

/* Start the sequence for (seed, stream). */
void		sid_rng_init(sid_rng *rng, uint64_t seed, uint64_t stream);

uint64_t	sid_rng_next(sid_rng *rng);

/* Uniform in [0, 1) with 24 bits (float) or 53 bits (double). */
float		sid_rng_uniform(sid_rng *rng);
double		sid_rng_uniform_double(sid_rng *rng);

/* Uniform in [lo, hi). */
float		sid_rng_range(sid_rng *rng, float lo, float hi);

/* Uniform integer in [0, n); n > 0.  Unbiased (rejection). */
uint64_t	sid_rng_below(sid_rng *rng, uint64_t n);

/* Standard normal (Marsaglia's polar method: no trigonometry, and each
 * accepted pair gives two values). */
float		sid_rng_normal(sid_rng *rng);

/* Fisher-Yates shuffle of n indices. */
void		sid_rng_shuffle(sid_rng *rng, size_t *idx, size_t n);

/* 64-bit FNV-1a of a string: turns names into stream numbers. */
uint64_t	sid_hash_string(const char *s);

#endif
