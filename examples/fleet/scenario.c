/* SPDX-License-Identifier: Apache-2.0 */
/* The scenarios: connect, storm, rehearse, rollover. Each runs the fleet
 * through its phases, every wait bounded by --timeout, and prints what it
 * saw; the exit status says whether the fleet came through whole. */
#define _POSIX_C_SOURCE 200809L
#include "examples/fleet/fleet.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "net/error.h"

static uint32_t ms_of(double s)
{
    return s <= 0 ? 0 : s > 86400.0 ? 86400000u : (uint32_t)(s * 1000.0);
}

/* ---- what every round does besides the loop: ramp, commands, a command run */

static uint32_t to_start;      /* devices not started yet */
static uint32_t ramp_from_ms;  /* when the ramp began */
static int child = -1;         /* the cut or switch command, while it runs */
static int child_status;
static uint32_t cmd_cursor, cmd_next_ms;

static void start_some(fleet *f)
{
    uint32_t allowed = f->n;
    if (f->o.ramp_per_s > 0)
        allowed = (uint32_t)((uint64_t)(fleet_now(f) - ramp_from_ms) * f->o.ramp_per_s / 1000u) + 1;
    while (to_start > 0 && f->n - to_start < allowed) {
        fleet_dev_start(f->dev[f->n - to_start]);
        to_start--;
    }
}

/* The operator's commands: each device one every cmd_interval_s, spread
 * evenly; only to a device that has subscribed (and, with clean sessions,
 * only while it is connected: a clean session keeps nothing). */
static void send_commands(fleet *f)
{
    const uint32_t now = fleet_now(f);
    const uint32_t step = ms_of(f->o.cmd_interval_s) / (f->n ? f->n : 1);
    int sent;

    if (f->op == NULL || f->o.cmd_interval_s <= 0 || !f->publishing)
        return;
    for (sent = 0; sent < 256 && (int32_t)(now - cmd_next_ms) >= 0; sent++) {
        fleet_dev *d = f->dev[cmd_cursor];
        if (d->subacked > 0 && (d->up || !f->o.clean)) {
            char payload[32];
            mqtls_publish p = {0};
            int n = snprintf(payload, sizeof payload, "%u %u", d->idx, d->cmd_sent);
            p.topic = (mqtls_str){d->cmd_topic, strlen(d->cmd_topic)};
            p.payload = (mqtls_bytes){(const uint8_t *)payload, (size_t)n};
            p.qos = (uint8_t)f->o.cmd_qos;
            if (mqtls_client_publish(&f->op->c, &p, NULL) != MQTLS_OK)
                break; /* the operator's store is full: next round */
            d->cmd_sent++;
        }
        cmd_cursor = (cmd_cursor + 1) % f->n;
        cmd_next_ms += step ? step : 1;
    }
    if (sent > 0)
        fleet_dev_service(f->op);
}

static void reap(void)
{
    if (child > 0 && waitpid(child, &child_status, WNOHANG) == child)
        child = -1;
}

static void tick(fleet *f)
{
    start_some(f);
    send_commands(f);
    reap();
}

static bool ticking(fleet *f)
{
    tick(f);
    return false;
}

/* The waits below look at every device: at most every 20 ms, so that at
 * 10,000 devices they do not take the loop's time from the devices. */
static bool look(fleet *f)
{
    static uint32_t last;
    const uint32_t now = fleet_now(f);
    if (now - last < 20u)
        return false;
    last = now;
    return true;
}

/* ---- waits ---------------------------------------------------------------- */

static bool operator_ready(fleet *f)
{
    tick(f);
    return f->op == NULL || (f->op->up && (f->op->subacked > 0 || !f->o.telemetry));
}

static bool all_up(fleet *f)
{
    tick(f);
    return to_start == 0 && f->up == f->n && (f->op == NULL || f->op->up);
}

/* Every device has connected, or tried once and failed (rehearse). */
static bool all_settled(fleet *f)
{
    uint32_t i;
    tick(f);
    if (to_start > 0 || !look(f))
        return false;
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        if (!d->up && !(d->c.state == MQTLS_CLIENT_DISCONNECTED && d->attempts > 0))
            return false;
    }
    return true;
}

/* Everything published is acknowledged and, where the operator counts,
 * received; every command sent has arrived. */
static bool drained(fleet *f)
{
    uint64_t pub = 0, rx = 0, csent = 0, crx = 0;
    uint32_t i;
    tick(f);
    if (!look(f) || (f->op != NULL && mqtls_ram_store_count(&f->op->store) > 0))
        return false;
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        if (mqtls_ram_store_count(&d->store) > 0)
            return false;
        pub += d->next_seq;
        rx += d->tel_rx;
        csent += d->cmd_sent;
        crx += d->cmd_rx;
    }
    return (!fleet_operator_judges(f) || f->o.qos == 0 || rx >= pub) && crx >= csent;
}

/* After the cut or switch: its command has ended, every device that lost
 * its connection is back, and all are up. */
static bool recovered(fleet *f)
{
    uint32_t i;
    tick(f);
    if (child > 0 || fleet_now(f) - f->event_ms < 1000u || f->up < f->n || !look(f))
        return false;
    for (i = 0; i < f->n; i++)
        if (f->dev[i]->lost_in_event && !f->dev[i]->back)
            return false;
    return f->op == NULL || f->op->up;
}

/* Every device took the update (committed, or refused it). */
static uint32_t want_version;
static bool updated(fleet *f)
{
    uint32_t i;
    tick(f);
    if (!look(f))
        return false;
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        if (d->applied_version < want_version && (d->update_error == 0 || d->pending_update >= 0))
            return false;
    }
    return true;
}

/* ---- phases --------------------------------------------------------------- */

static int connect_fleet(fleet *f)
{
    const uint32_t timeout = ms_of(f->o.timeout_s);
    to_start = 0;
    if (f->op != NULL) {
        fleet_dev_start(f->op);
        fleet_run(f, timeout, operator_ready);
        if (!operator_ready(f)) {
            printf("the operator's client did not connect: %s: %s\n",
                   mqtls_errname(f->op->last_error), f->op->why);
            return -1;
        }
    }
    ramp_from_ms = fleet_now(f);
    to_start = f->n;
    fleet_run(f, timeout, all_up);
    if (f->up == f->n) {
        f->all_up_ms = fleet_now(f);
        f->rss_up = fleet_rss();
    }
    printf("connect: %u of %u devices connected in %.2f s\n", f->up, f->n,
           (fleet_now(f) - ramp_from_ms) / 1000.0);
    return f->up == f->n ? 0 : -1;
}

/* Telemetry and commands begin: every device looks at its schedule. */
static void start_publishing(fleet *f)
{
    const uint32_t now = fleet_now(f);
    uint32_t i;
    f->publishing = true;
    cmd_next_ms = now;
    for (i = 0; i < f->n; i++) {
        /* The first readings spread over one interval, not all at once. */
        f->dev[i]->next_pub_ms = now + (uint32_t)((double)(i * 7919u % 1000u) * f->o.interval_s);
        fleet_schedule(f, f->dev[i], 0);
    }
}

static void run_and_drain(fleet *f, double seconds)
{
    start_publishing(f);
    fleet_run(f, ms_of(seconds), ticking);
    f->publishing = false;
    fleet_run(f, ms_of(f->o.drain_s), drained);
}

static void disconnect_all(fleet *f)
{
    uint32_t i;
    for (i = 0; i < f->count; i++)
        if (f->dev[i]->c.state == MQTLS_CLIENT_CONNECTED)
            (void)mqtls_client_disconnect(&f->dev[i]->c);
}

/* The fleet came through whole: everyone connected, nothing lost. */
static int verdict(fleet *f)
{
    uint64_t pub = 0, rx = 0, stored = 0, csent = 0, crx = 0;
    uint32_t i;
    for (i = 0; i < f->n; i++) {
        pub += f->dev[i]->next_seq;
        rx += f->dev[i]->tel_rx;
        stored += mqtls_ram_store_count(&f->dev[i]->store);
        csent += f->dev[i]->cmd_sent;
        crx += f->dev[i]->cmd_rx;
    }
    if (f->up != f->n)
        return 1;
    if (fleet_operator_judges(f) && f->o.qos > 0 && rx + stored < pub)
        return 1;
    return crx < csent ? 1 : 0;
}

static void finish(fleet *f)
{
    fleet_progress(f, true);
    fleet_summary(f);
    if (f->o.csv != NULL && fleet_write_csv(f, f->o.csv) != 0)
        fprintf(stderr, "mqtls-fleet: cannot write %s\n", f->o.csv);
    if (f->o.json != NULL && fleet_write_json(f, f->o.json) != 0)
        fprintf(stderr, "mqtls-fleet: cannot write %s\n", f->o.json);
}

int fleet_connect(fleet *f)
{
    int ok = connect_fleet(f);
    if (ok == 0)
        run_and_drain(f, f->o.duration_s);
    ok = ok == 0 ? verdict(f) : 1;
    finish(f);
    disconnect_all(f);
    return ok;
}

/* Runs the cut or switch command and waits for the fleet to be back. */
static void event(fleet *f, const char *what, const char *cmd)
{
    f->event_ms = fleet_now(f);
    f->event_on = true;
    child = fleet_spawn(f, cmd);
    if (child < 0)
        printf("%s: cannot run %s\n", what, cmd);
    fleet_run(f, ms_of(f->o.timeout_s), recovered);
    if (child > 0) {
        kill(child, SIGTERM);
        waitpid(child, &child_status, 0);
        child = -1;
    }
    if (!WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0)
        printf("%s: the command failed (%s)\n", what, cmd);
}

/* Devices whose connection the cut or switch ended. */
static uint32_t lost_in_event(const fleet *f)
{
    uint32_t i, lost = 0;
    for (i = 0; i < f->n; i++)
        lost += f->dev[i]->lost_in_event;
    return lost;
}

static void storm_report(fleet *f)
{
    uint32_t *t = malloc((f->n ? f->n : 1) * sizeof *t), p[4], pa, ph, i, lost = 0, back = 0;
    uint32_t found = 0;
    uint64_t full = 0, res = 0, att = 0;
    const uint32_t from = f->event_ms / 1000u;

    if (t == NULL)
        return;
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        lost += d->lost_in_event;
        found += d->back && d->back_session;
        if (d->back)
            t[back++] = d->back_ms;
    }
    for (i = from; i < FLEET_MAX_SECONDS && i <= fleet_now(f) / 1000u; i++) {
        full += f->sec[i].full;
        res += f->sec[i].resumed;
        att += f->sec[i].attempts;
    }
    fleet_percentiles(t, back, p);
    fleet_peaks(f, from, &pa, &ph);
    printf("storm: %u of %u devices lost their connection; %u back", lost, f->n, back);
    if (back > 0)
        printf(": 50%% in %.2f s, 99%% in %.2f s, 100%% in %.2f s", p[0] / 1000.0, p[2] / 1000.0,
               p[3] / 1000.0);
    printf("\n");
    if (!f->o.clean)
        printf("storm: %u of the %u back found their MQTT session (CONNACK session present 1)\n",
               found, back);
    printf("storm: after the cut the broker saw %llu connection attempts (peak %u/s) and %llu "
           "handshakes (peak %u/s): %llu full, %llu resumed; jitter %s, resumption %s\n",
           (unsigned long long)att, pa, (unsigned long long)(full + res), ph,
           (unsigned long long)full, (unsigned long long)res, f->o.jitter ? "on" : "off",
           f->o.resume ? "on" : "off");
    if (f->o.resume && res == 0 && full > 0)
        printf("storm: no TLS session was resumed after the cut: the server the devices reached "
               "had no record of their sessions (a restarted Mosquitto has new ticket keys and an "
               "empty cache; another node of a cluster never had them), so every device made a "
               "full handshake\n");
    free(t);
}

int fleet_storm(fleet *f)
{
    int ok = connect_fleet(f);
    if (ok == 0) {
        start_publishing(f);
        fleet_run(f, ms_of(f->o.cut_after_s), ticking);
        event(f, "storm", f->o.cut_cmd);
        fleet_run(f, ms_of(f->o.duration_s), ticking);
        f->publishing = false;
        fleet_run(f, ms_of(f->o.drain_s), drained);
        storm_report(f);
        if (lost_in_event(f) == 0) {
            printf("storm: the cut (%s) dropped no connection\n", f->o.cut_cmd);
            ok = -1;
        }
    }
    ok = ok == 0 ? verdict(f) : 1;
    finish(f);
    disconnect_all(f);
    return ok;
}

/* ---- rehearse ------------------------------------------------------------- */

int fleet_rehearse(fleet *f)
{
    uint32_t i, j, lost = 0;
    size_t g;

    to_start = f->n;
    ramp_from_ms = fleet_now(f);
    fleet_run(f, ms_of(f->o.timeout_s), all_settled);
    fleet_progress(f, true);
    for (i = 0; i < f->n; i++)
        if (!f->dev[i]->up) {
            lost++;
            f->groups[f->dev[i]->group].lost++;
        }
    printf("rehearsal against %s:%u: %u of %u devices would be lost\n", f->o.host, f->o.port, lost,
           f->n);
    for (g = 0; g < f->group_count; g++)
        printf("  trust {%s}: %u devices, %u would be lost\n", f->groups[g].names,
               f->groups[g].devices, f->groups[g].lost);
    /* The reasons, in the device's words, each once with its count. */
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        uint32_t same = 0;
        bool first = true;
        if (d->up)
            continue;
        for (j = 0; j < f->n && first; j++)
            if (!f->dev[j]->up && j < i && strcmp(f->dev[j]->why, d->why) == 0 &&
                f->dev[j]->group == d->group)
                first = false;
        if (!first)
            continue;
        for (j = 0; j < f->n; j++)
            same += !f->dev[j]->up && f->dev[j]->group == d->group &&
                    strcmp(f->dev[j]->why, d->why) == 0;
        printf("  %u device%s with trust {%s}, e.g. %s: %s: %s\n", same, same == 1 ? "" : "s",
               f->groups[d->group].names, d->id, mqtls_errname(d->last_error), d->why);
    }
    if (f->o.csv != NULL)
        (void)fleet_write_csv(f, f->o.csv);
    if (f->o.json != NULL)
        (void)fleet_write_json(f, f->o.json);
    disconnect_all(f);
    return lost == 0 ? 0 : 1;
}

/* ---- rollover ------------------------------------------------------------- */

static void publish_update(fleet *f, int k)
{
    mqtls_publish p = {0};
    p.topic = (mqtls_str){FLEET_UPDATE_TOPIC, sizeof FLEET_UPDATE_TOPIC - 1};
    p.payload = (mqtls_bytes){k >= 0 ? f->updates[k] : NULL, k >= 0 ? f->update_len[k] : 0};
    p.qos = 1;
    p.retain = true; /* a device that connects later finds it */
    if (mqtls_client_publish(&f->op->c, &p, NULL) != MQTLS_OK)
        printf("rollover: the operator could not queue the update\n");
    fleet_dev_service(f->op);
}

/* Takes one update through the fleet; the number that refused it. */
static uint32_t roll(fleet *f, int k)
{
    uint32_t i, committed = 0, refused = 0;
    const uint32_t t0 = fleet_now(f);
    want_version = f->update_version[k];
    publish_update(f, k);
    fleet_run(f, ms_of(f->o.timeout_s), updated);
    for (i = 0; i < f->n; i++) {
        if (f->dev[i]->applied_version >= want_version)
            committed++;
        else
            refused++;
    }
    printf("rollover: update %d (version %u): %u devices staged, proved and committed it, %u did "
           "not, in %.2f s (%u probes)\n",
           k + 1, want_version, committed, refused, (fleet_now(f) - t0) / 1000.0, f->applies);
    for (i = 0; i < f->n && refused > 0; i++)
        if (f->dev[i]->applied_version < want_version) {
            printf("  %s: %s: %s\n", f->dev[i]->id, mqtls_errname(f->dev[i]->update_error),
                   f->dev[i]->update_why);
            break;
        }
    return refused;
}

/* Each CA's connects between two snapshots of the fleet's counters. */
static void ca_deltas(fleet *f, const struct fleet_ca_count *before, size_t nbefore)
{
    size_t k, j;
    for (k = 0; k < f->ca_seen_count; k++) {
        uint64_t was = 0;
        for (j = 0; j < nbefore; j++)
            if (memcmp(before[j].sha256, f->ca_seen[k].sha256, 32) == 0)
                was = before[j].uses;
        printf("rollover: since the switch, %llu connects ended at CA %s\n",
               (unsigned long long)(f->ca_seen[k].uses >= was ? f->ca_seen[k].uses - was : 0),
               f->ca_seen[k].name);
    }
}

int fleet_rollover(fleet *f)
{
    struct fleet_ca_count before[FLEET_MAX_SEEN];
    size_t nbefore, k;
    uint32_t refused = 0, lost_at_end;
    int ok = connect_fleet(f);

    if (ok == 0) {
        start_publishing(f);
        refused = roll(f, 0);
    }
    if (ok == 0 && refused == 0) {
        fleet_count_cas(f);
        nbefore = f->ca_seen_count;
        memcpy(before, f->ca_seen, sizeof before);
        event(f, "switch", f->o.switch_cmd);
        printf("rollover: the broker switched (%s); %u of %u devices connected after it\n",
               f->o.switch_cmd, f->up, f->n);
        fleet_count_cas(f);
        ca_deltas(f, before, nbefore);
        refused = roll(f, 1);
        publish_update(f, -1); /* the retained update is cleared */
        f->publishing = false;
        fleet_run(f, ms_of(f->o.drain_s), drained);
        fleet_count_cas(f);
        for (k = 0; k < f->ca_seen_count; k++)
            if (f->ca_seen[k].trusted_by == 0)
                printf("rollover: no device still depends on %s\n", f->ca_seen[k].name);
            else
                printf("rollover: %u devices trust %s\n", f->ca_seen[k].trusted_by,
                       f->ca_seen[k].name);
    }
    lost_at_end = f->n - f->up;
    printf("rollover: %u devices lost\n", lost_at_end);
    ok = ok == 0 && refused == 0 && lost_at_end == 0 ? verdict(f) : 1;
    finish(f);
    disconnect_all(f);
    return ok;
}
