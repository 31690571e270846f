/*
 * sid_fft_lock.c - the FFTW planner lock (see sid_fft_lock.h).
 */
#include "core/sid_fft_lock.h"

#include <pthread.h>

static pthread_mutex_t planner_mutex = PTHREAD_MUTEX_INITIALIZER;

void
sid_fftw_planner_lock(void)
{
	pthread_mutex_lock(&planner_mutex);
}

void
sid_fftw_planner_unlock(void)
{
	pthread_mutex_unlock(&planner_mutex);
}
