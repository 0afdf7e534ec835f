/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls port — a transport through an AT-command modem on a serial line,
 * as a device behind a cellular or Wi-Fi module reaches the network.
 *
 * The modem (the host bridge in the emulator, test/firmware/modem_bridge.c)
 * speaks a small AT dialect:
 *   "AT\r"                -> "OK\r\n"
 *   "ATD<host>:<port>\r"  -> "CONNECT\r\n", then data mode, or "NO CARRIER\r\n"
 *   in data mode: bytes pass both ways; when the link drops the modem sends
 *   "\r\nNO CARRIER\r\n" and is back in command mode; one second of
 *   silence, "+++", one second of silence -> "OK\r\n", command mode
 *   "ATH\r"               -> "OK\r\n" (the link is closed)
 * A byte pipe has no notion of a connection's end; the modem's NO CARRIER
 * gives it one, so a new TLS session never sees an old one's bytes. The
 * transport holds back bytes that could be the start of "\r\nNO CARRIER"
 * until they prove not to be: a byte that breaks the pattern, or a quarter
 * second of silence (a modem sends its result code whole). Portable C: the
 * serial line and the clock are the caller's. */
#ifndef MPS2_MODEM_H
#define MPS2_MODEM_H

#include <stddef.h>
#include <stdint.h>

#include "net/transport.h"

typedef struct modem_line {
    void *ctx;
    int (*getc)(void *ctx, uint8_t *out); /* 1 and a byte, or 0: none waiting */
    int (*putc)(void *ctx, uint8_t c);    /* 1, or 0: no room now */
    uint32_t (*now_ms)(void *ctx);
    /* Optional: nothing to read, wait a little (a board halts the core
     * until its next interrupt). NULL: poll again at once. */
    void (*idle)(void *ctx);
} modem_line;

typedef struct modem {
    modem_line line;
    uint32_t guard_ms;  /* silence around "+++": 1000 */
    int carrier;        /* data mode, link up */
    uint8_t held;       /* bytes of "\r\nNO CARRIER\r\n" matched and held back */
    uint32_t held_at;   /* when the last of them came */
    uint8_t release[16];
    uint8_t nrelease, released; /* held bytes that proved to be data */
} modem;

void modem_init(modem *m, const modem_line *line);
/* Dials host:port ("ATD..."): MQTLS_OK and data mode; MQTLS_ERR_NET_REFUSED
 * (NO CARRIER, ERROR) or MQTLS_ERR_NET_TIMEOUT. */
int modem_dial(modem *m, const char *host_port, uint32_t timeout_ms);
/* Back to command mode ("+++") and hang up ("ATH"). Bounded. */
int modem_hangup(modem *m, uint32_t timeout_ms);
/* The transport over the data-mode link; close hangs up. */
void modem_transport(modem *m, mqtls_transport *out);

#endif
