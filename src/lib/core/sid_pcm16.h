/*
 * sid_pcm16.h - 16-bit PCM in memory: the corpus loader keeps decoded
 * tracks as int16 (half the memory of float; the quantisation, -96 dBFS, is
 * far below any noise the trainer mixes in) and the pair generator and
 * validation turn spans of them back into float.
 */
#ifndef SID_PCM16_H
#define SID_PCM16_H

#include <stdint.h>

/* in[n] in [-1, 1] (clipped beyond) to the nearest of -32767 .. 32767. */
void		sid_pcm16_from_float(const float *in, int64_t n, int16_t *out);

/* in[n] back to float: in[i] / 32767. */
void		sid_pcm16_to_float(const int16_t *in, int64_t n, float *out);

#endif
