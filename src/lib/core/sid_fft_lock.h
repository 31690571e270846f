/*
 * sid_fft_lock.h - the one lock around FFTW's planner.
 *
 * FFTW's planner keeps global state and is not thread-safe; executing a plan
 * is.  Every FFTW user of the library (the log-mel front end, FFT
 * convolution) creates and destroys its plans under this lock, so contexts
 * can be made and freed from any thread.
 */
#ifndef SID_FFT_LOCK_H
#define SID_FFT_LOCK_H

extern void sid_fftw_planner_lock(void);
extern void sid_fftw_planner_unlock(void);

#endif
