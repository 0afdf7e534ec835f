/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-sub's output (sub_format.c). Not part of the library. */
#ifndef MQTLS_EXAMPLES_SUB_FORMAT_H
#define MQTLS_EXAMPLES_SUB_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "mqtt/codec.h"

typedef struct sub_format {
    const char *format; /* -F, or NULL */
    bool verbose;       /* -v: "topic payload" */
    bool no_eol;        /* -N */
    bool pretty;        /* --pretty: %j over several lines */
} sub_format;

/* Prints m as mosquitto_sub would with these settings. */
void sub_print(FILE *out, const sub_format *f, const mqtls_publish *m);

/* NULL when format is one this prints, else why not. */
const char *sub_format_check(const char *format);

#endif
