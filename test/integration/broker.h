/* SPDX-License-Identifier: Apache-2.0 */
/* A Mosquitto broker for one test: its own config in a temp dir, a free
 * loopback port, started as a child process and stopped by its pid. */
#ifndef MQTLS_TEST_BROKER_H
#define MQTLS_TEST_BROKER_H

#include <stdint.h>
#include <sys/types.h>

typedef struct broker {
    pid_t pid;       /* the mosquitto process, or 0 */
    uint16_t port;   /* where it listens */
    char dir[128];   /* temp dir: mosquitto.conf, mosquitto.log */
} broker;

/* The test PKI, written by make certs. */
#define CERTS MQTLS_SOURCE_DIR "/build/certs/"

/* Starts mosquitto listening on address ("127.0.0.1" or "::1") with the
 * given extra listener lines (TLS options, or "" for plain TCP; "{dir}"
 * stands for the broker's temp dir). Waits
 * until the port accepts connections (at most 5 s). Returns 0 or -1 (the
 * log is printed to stderr). */
int broker_start(broker *b, const char *address, const char *listener_lines);

/* Any other server: argv (NULL-terminated; "{port}" anywhere in an
 * argument is replaced by the port picked) run with its output in the temp dir and stdin from /dev/null,
 * until address:port accepts (at most 5 s). Returns 0 or -1. */
int server_start(broker *b, const char *address, const char *const *argv);

/* Stops the broker (SIGTERM: a persistent broker saves its state) and
 * starts it again with the same config and port; waits until it accepts. */
int broker_restart(broker *b, const char *address);

/* The same, with new listener lines (e.g. another server certificate):
 * same port, same temp dir (a persistent broker keeps its state). */
int broker_reconfigure(broker *b, const char *address, const char *listener_lines);

/* Stops it (SIGTERM, then SIGKILL after 2 s) and removes its temp dir. */
void broker_stop(broker *b);

/* Lines for a TLS listener serving certfile/keyfile (names in build/certs);
 * with mutual set, clients must present a certificate from Root A, and the
 * certificate's CN becomes the user name. Written into out. */
void broker_tls_lines(char *out, size_t cap, const char *certfile, const char *keyfile,
                      int mutual);

#endif
