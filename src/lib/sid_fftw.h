/*
 * sid_fftw.h - one lock around FFTW's planner for the whole library.
 *
 * FFTW's execute functions are thread-safe, its planner is not (it shares
 * global wisdom).  Every plan the library makes or destroys - log-mel,
 * convolution, anything else - goes through this one mutex, so backends'
 * worker threads, the trainer's threads and the CLI can plan concurrently.
 */
#ifndef SID_FFTW_H
#define SID_FFTW_H

void		sid_fftw_planner_lock(void);
void		sid_fftw_planner_unlock(void);

#endif
