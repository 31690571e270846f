/*
 * sid_fftw.c - the planner mutex of sid_fftw.h.
 */
#include "sid_fftw.h"

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
