/* mqtls — the POSIX monotonic clock as an mqtls_clock. */
#ifndef MQTLS_NET_CLOCK_POSIX_H
#define MQTLS_NET_CLOCK_POSIX_H

#include "net/clock.h"

/* Fills *out with a clock reading CLOCK_MONOTONIC. */
int mqtls_clock_posix(mqtls_clock *out);

#endif
