/*
 * sid_convolve.h - linear convolution by FFT (FFTW3, single precision).
 *
 * A convolver owns one pair of plans for a fixed FFT size, made once (under
 * the library's planner lock) and reused for every call; it is not shared
 * between threads - make one per thread.
 */
#ifndef SID_CONVOLVE_H
#define SID_CONVOLVE_H

#include <stddef.h>

#include "core/sid_error.h"

typedef struct sid_convolver sid_convolver;

/* A convolver for inputs and responses with nx + nh - 1 <= max_full. */
sid_convolver *sid_convolver_create(size_t max_full, sid_error *err);
void		sid_convolver_free(sid_convolver *c);

/* The FFT size it uses (a power of two >= max_full). */
size_t		sid_convolver_size(const sid_convolver *c);

/*
 * y[i] = (x * h)[skip + i] for i < ny, where x * h is the full linear
 * convolution of length nx + nh - 1 (samples past its end are 0).  y may
 * alias x.  skip lets a caller feed audio from before the wanted span so its
 * reverberation tail is present, as in a real room.  nx and nh must each fit
 * the FFT; the full convolution need not, as long as the wanted span does
 * not overlap the part that wraps around: skip >= nx + nh - 1 - size and
 * skip + ny <= size (SID_ELIMIT otherwise).
 */
sid_status	sid_convolve(sid_convolver *c, const float *x, size_t nx,
						 const float *h, size_t nh, size_t skip,
						 float *y, size_t ny, sid_error *err);

#endif
