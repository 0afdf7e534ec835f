/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-fleet: one process, N real mqtls devices.
 *
 * Each device is what firmware runs: an mqtls_client over mqtls TLS with
 * its own client id, certificate and key, CA store, saved TLS session and
 * message store, with the client's own backoff, resend and keep-alive.
 * What the tool adds is the event loop that holds them all (one epoll, one
 * timer heap: a device is polled when its socket is ready or
 * mqtls_client_next_due_ms() says so), a non-blocking TCP connect with the
 * TLS handshake in slices, an operator client, and the accounting.
 *
 *   device.c    a device: its stack, its open function, its events
 *   loop.c      the epoll loop, the timer heap, per-second counters
 *   pki.c       the fleet's keys and certificates, its trust groups
 *   report.c    per-device CSV/JSON, the summary, the progress line
 *   scenario.c  connect, storm, rehearse, rollover
 *   main.c      the command line
 * Not part of the library. */
#ifndef MQTLS_EXAMPLES_FLEET_H
#define MQTLS_EXAMPLES_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mqtt/client.h"
#include "tls/ca_update.h"
#include "tls/castore.h"
#include "tls/tcp_tls.h"

#define FLEET_SEQ_MAX 4096         /* messages tracked per device and direction */
#define FLEET_MAX_CAS 8            /* named CAs (--ca) */
#define FLEET_MAX_GROUPS 8         /* trust groups (--trust) */
#define FLEET_MAX_SECONDS 3600     /* per-second counters kept */
#define FLEET_SESSION_CAP 2048     /* a saved TLS session (ticket, peer certificate) */
#define FLEET_TX 1536              /* largest packet a device sends (CA report) */
#define FLEET_RX 4096              /* largest it takes in (a signed CA update) */
#define FLEET_RING 4096            /* its QoS 1/2 store */
#define FLEET_WHY 256              /* bytes kept of a failure sentence */
#define FLEET_UPDATE_TOPIC "fleet/ca/update"

typedef struct fleet fleet;

enum fleet_phase { PH_IDLE = 0, PH_TCP = 1, PH_TLS = 2, PH_UP = 3 };

typedef struct fleet_dev {
    fleet *f;
    uint32_t idx;
    bool operator_;             /* the operator's client, not a device */
    char id[40], tel_topic[64], cmd_topic[64], status_topic[64];
    int group;                  /* trust group */
    /* the MQTT client and its buffers */
    mqtls_client c;
    mqtls_client_config cfg;
    mqtls_ram_store store;
    uint8_t *tx, rx[FLEET_RX];   /* tx: FLEET_TX, the operator's larger */
    uint8_t *ring;              /* FLEET_RING, or the operator's larger one */
    uint16_t qos2[32];
    mqtls_subscription subs[2];
    /* TLS over TCP, opened without blocking */
    mqtls_tls_config tls_cfg;
    mqtls_castore cas;
    mqtls_tls tls;
    mqtls_tcp tcp;
    mqtls_transport lower;
    uint8_t *session;           /* FLEET_SESSION_CAP, when resuming */
    size_t session_len;
    int phase;                  /* enum fleet_phase */
    bool starved;               /* the last lower read found nothing */
    uint32_t open_deadline;     /* fleet ms: TCP connect or handshake gives up */
    bool holds_slot;            /* one of the --max-handshakes slots */
    bool queued, admitted;      /* waiting for a slot; given one, not yet started */
    uint32_t queued_at;
    uint32_t reg_events;        /* what epoll watches for this socket; 0: not added */
    /* timer */
    uint32_t timer_seq, timer_due;
    bool timer_set;             /* an entry for timer_seq is in the heap */
    /* what happened */
    bool up, ever_up, lost_in_event, back, back_session;
    uint32_t start_ms, first_up_ms, lost_at_ms, back_ms; /* fleet ms */
    uint32_t attempts, connects, full, resumed, losses, sessions_found, subacked;
    int last_error, first_error;
    char why[FLEET_WHY];
    /* telemetry, commands */
    uint32_t next_seq, acked, store_full, next_pub_ms, status_sent;
    uint32_t tel_rx, tel_dup;   /* at the operator, from this device */
    uint32_t cmd_sent, cmd_rx, cmd_dup;
    uint32_t tel_dup_new, cmd_dup_new; /* duplicates that came with DUP 0 */
    uint8_t tel_seen[FLEET_SEQ_MAX / 8], cmd_seen[FLEET_SEQ_MAX / 8];
    /* CA updates */
    int pending_update;         /* index into fleet.updates, or -1 */
    uint32_t applied_version;   /* the last update committed */
    int update_error;
    char update_why[FLEET_WHY];
} fleet_dev;

/* A CA named on the command line (--ca NAME=FILE). */
typedef struct fleet_ca {
    char name[32];
    uint8_t sha256[32];
    uint8_t *pem;
    size_t pem_len;
} fleet_ca;

/* A CA seen in the devices' stores at the end, with fleet-wide counts. */
#define FLEET_MAX_SEEN 16
struct fleet_ca_count {
    char name[160];             /* NAME (subject), or the subject */
    uint8_t sha256[32];
    uint64_t uses;              /* connects that ended at it, all devices */
    uint32_t trusted_by;        /* devices whose active bundle holds it */
};

typedef struct fleet_group {
    char names[96];             /* "A,B" */
    unsigned percent;
    uint8_t *bundle;            /* the CAs' PEM, concatenated */
    size_t bundle_len;
    uint32_t devices, lost;
} fleet_group;

typedef struct fleet_opts {
    const char *host, *tls_name, *ca_cert, *ca_key, *id_prefix, *csv, *json;
    const char *cut_cmd, *switch_cmd, *signer_pub, *update_file[2];
    uint16_t port;
    uint32_t n;
    unsigned keepalive_s, qos, cmd_qos, size, tls_versions;
    double interval_s, duration_s, cut_after_s, timeout_s, drain_s, cmd_interval_s;
    uint32_t backoff_min_ms, backoff_max_ms, connect_timeout_ms, ramp_per_s, max_open;
    bool clean, resume, jitter, allow_remote, progress, quiet, operator_, telemetry, once;
} fleet_opts;

/* Counts kept per second of the run. */
typedef struct fleet_second {
    uint32_t attempts, full, resumed, connacks, losses;
} fleet_second;

struct fleet {
    fleet_opts o;
    fleet_dev **dev;            /* n devices, then the operator (if any) */
    uint32_t n, count;          /* devices; devices + operator */
    fleet_dev *op;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int ep;                     /* epoll */
    uint64_t t0_us;             /* the fleet clock's origin */
    /* the timer heap */
    struct fleet_timer *heap;
    size_t heap_len, heap_cap;
    /* trust */
    fleet_ca cas[FLEET_MAX_CAS];
    size_t ca_count;
    fleet_group groups[FLEET_MAX_GROUPS];
    size_t group_count;
    mqtls_ca_signer signer;
    uint8_t *updates[2];
    size_t update_len[2];
    uint32_t update_version[2];
    /* now */
    uint32_t up;                /* devices connected now */
    /* attempts waiting for a handshake slot (the simulator's own CPU) */
    uint32_t opening_now, admitted_pending, *queue;
    size_t q_head, q_len;
    uint64_t queued_total_ms, queued_count;
    uint32_t queued_max_ms;
    bool publishing;
    uint32_t event_ms;          /* when the cut or switch ran; 0: none yet */
    bool event_on;
    fleet_second sec[FLEET_MAX_SECONDS];
    uint64_t rss_base, rss_up;
    uint32_t all_up_ms;
    struct fleet_ca_count ca_seen[FLEET_MAX_SEEN];
    size_t ca_seen_count;
    bool progress_tty;          /* stderr is a terminal: one line, redrawn */
    uint32_t last_line_ms;
    uint32_t applies;           /* CA updates applied (probes run) */
    uint32_t pending;           /* devices holding an update to apply */
    const char *scenario;
    unsigned tls_version;       /* of the last handshake: 12 or 13 */
    const char *suite;          /* its ciphersuite */
};

/* device.c */
int fleet_dev_setup(fleet *f, fleet_dev *d, uint32_t idx, bool operator_);
int fleet_dev_start(fleet_dev *d);
void fleet_dev_service(fleet_dev *d);
void fleet_dev_free(fleet_dev *d);
int fleet_dev_publish_telemetry(fleet_dev *d);
int fleet_dev_apply_update(fleet_dev *d);
bool fleet_seen(uint8_t *bits, uint32_t seq);

/* loop.c */
uint32_t fleet_now(const fleet *f);
int fleet_loop_init(fleet *f);
void fleet_schedule(fleet *f, fleet_dev *d, uint32_t due_in_ms);
void fleet_watch(fleet_dev *d);
/* Runs the loop for up to max_ms, returning early when done(f) says so. */
void fleet_run(fleet *f, uint32_t max_ms, bool (*done)(fleet *f));
fleet_second *fleet_this_second(fleet *f);
int fleet_spawn(fleet *f, const char *cmd);
uint64_t fleet_rss(void);

/* pki.c */
int fleet_pki(fleet *f);
int fleet_add_ca(fleet *f, const char *spec);
int fleet_add_group(fleet *f, const char *spec);
int fleet_default_group(fleet *f, const char *cafile);
int fleet_load_updates(fleet *f);

/* report.c */
void fleet_progress(fleet *f, bool final);
int fleet_write_csv(fleet *f, const char *path);
int fleet_write_json(fleet *f, const char *path);
void fleet_count_cas(fleet *f);
void fleet_summary(fleet *f);
/* The operator kept its session all along, so what it did not receive
 * was lost (else it may have been published while it had none). */
bool fleet_operator_judges(const fleet *f);
/* p50, p90, p99 and max of v[0..n) into out. */
void fleet_percentiles(const uint32_t *v, size_t n, uint32_t out[4]);
/* The busiest second's attempts and handshakes, from second `from` on. */
void fleet_peaks(const fleet *f, uint32_t from, uint32_t *attempts, uint32_t *handshakes);

/* scenario.c */
int fleet_connect(fleet *f);
int fleet_storm(fleet *f);
int fleet_rehearse(fleet *f);
int fleet_rollover(fleet *f);

#endif
