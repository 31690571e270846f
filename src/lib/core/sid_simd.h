/*
 * sid_simd.h - numeric kernels compiled twice on x86-64: for AVX2 and for the
 * baseline (SSE2), the better one chosen once at load time (GNU ifunc).  The
 * build targets the baseline so that one binary runs everywhere; the element
 * loops of the encoder are written so the compiler vectorises them, and
 * without contraction into FMA (-std=c11 keeps -ffp-contract=off) both
 * versions compute the same bits.
 */
#ifndef SID_SIMD_H
#define SID_SIMD_H

/*
 * GCC only: clang 14 (the fuzz build) emits no symbol under the plain name of
 * an external target_clones function, so callers in other files do not link.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SID_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SID_VECTOR_CLONES
#endif

#endif
