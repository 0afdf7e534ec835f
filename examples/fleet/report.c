/* SPDX-License-Identifier: Apache-2.0 */
/* What the fleet did: the progress line while it runs, one row per device
 * (CSV, JSON), the per-second counters, the fleet-wide CA counters and
 * the summary on the terminal. */
#define _POSIX_C_SOURCE 200809L
#include "examples/fleet/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/error.h"

void fleet_progress(fleet *f, bool final)
{
    uint32_t i, opening = 0, stored = 0;
    uint64_t sent = 0, acked = 0;
    const fleet_second *s;
    uint32_t now = fleet_now(f), sec = now / 1000u;

    if (f->o.quiet || (!f->progress_tty && !f->o.progress && !final))
        return;
    if (!f->progress_tty && !final && now - f->last_line_ms < 2000u)
        return;
    f->last_line_ms = now;
    fflush(stdout);
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        opening += d->c.state == MQTLS_CLIENT_OPENING || d->c.state == MQTLS_CLIENT_CONNECTING;
        sent += d->next_seq;
        acked += d->acked;
        stored += (uint32_t)mqtls_ram_store_count(&d->store);
    }
    s = &f->sec[sec > 0 && sec <= FLEET_MAX_SECONDS ? sec - 1 : 0];
    fprintf(stderr, "%s%7.1f s  up %u/%u  connecting %u  last second: %u attempts, %u handshakes "
                    "(%u resumed)  published %llu, acked %llu, stored %u%s",
            f->progress_tty ? "\r" : "", now / 1000.0, f->up, f->n, opening, s->attempts,
            s->full + s->resumed, s->resumed, (unsigned long long)sent, (unsigned long long)acked,
            stored, f->progress_tty && !final ? "   " : "\n");
}

/* ---- per-device rows ------------------------------------------------------ */

static const char *state_name(const fleet_dev *d)
{
    switch (d->c.state) {
    case MQTLS_CLIENT_CONNECTED: return "connected";
    case MQTLS_CLIENT_CONNECTING: return "connecting";
    case MQTLS_CLIENT_OPENING: return "opening";
    default: return d->ever_up ? "disconnected" : "never-connected";
    }
}

/* A field for CSV: quoted, quotes doubled. */
static void csv_text(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static void json_text(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(fp, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(fp, "\\u%04x", (unsigned)*s);
        else
            fputc(*s, fp);
    }
    fputc('"', fp);
}

static long since_start(const fleet_dev *d)
{
    return d->ever_up ? (long)(d->first_up_ms - d->start_ms) : -1;
}

int fleet_write_csv(fleet *f, const char *path)
{
    FILE *fp = fopen(path, "w");
    uint32_t i;
    if (fp == NULL)
        return -1;
    fprintf(fp, "id,trust,state,attempts,connects,full,resumed,losses,sessions_found,"
                "connect_ms,lost_at_ms,back_ms,published,acked,store_full,telemetry_received,"
                "telemetry_dup,telemetry_dup_new,commands_sent,commands_received,commands_dup,"
                "commands_dup_new,ca_version,"
                "update_error,last_error,why\n");
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        fprintf(fp, "%s,", d->id);
        csv_text(fp, f->groups[d->group].names);
        fprintf(fp, ",%s,%u,%u,%u,%u,%u,%u,%ld,%ld,%ld,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%s,%s,",
                state_name(d), d->attempts, d->connects, d->full, d->resumed, d->losses,
                d->sessions_found, since_start(d),
                d->lost_in_event ? (long)(d->lost_at_ms - f->event_ms) : -1L,
                d->back ? (long)d->back_ms : -1L, d->next_seq, d->acked, d->store_full, d->tel_rx,
                d->tel_dup, d->tel_dup_new, d->cmd_sent, d->cmd_rx, d->cmd_dup, d->cmd_dup_new,
                mqtls_castore_version(&d->cas, MQTLS_CA_ACTIVE),
                d->update_error != 0 ? mqtls_errname(d->update_error) : "",
                d->last_error != 0 ? mqtls_errname(d->last_error) : "");
        csv_text(fp, d->update_error != 0 ? d->update_why : d->why);
        fputc('\n', fp);
    }
    return fclose(fp) == 0 ? 0 : -1;
}

int fleet_write_json(fleet *f, const char *path)
{
    FILE *fp = fopen(path, "w");
    uint32_t i, last = fleet_now(f) / 1000u + 1;
    size_t k;
    if (fp == NULL)
        return -1;
    fprintf(fp, "{\"scenario\":\"%s\",\"devices_total\":%u,\"up\":%u,\"event_ms\":%u,", f->scenario,
            f->n, f->up, f->event_ms);
    fprintf(fp, "\"rss_bytes_base\":%llu,\"rss_bytes_up\":%llu,\"cas\":[",
            (unsigned long long)f->rss_base, (unsigned long long)f->rss_up);
    for (k = 0; k < f->ca_seen_count; k++) {
        const struct fleet_ca_count *c = &f->ca_seen[k];
        fprintf(fp, "%s{\"name\":", k ? "," : "");
        json_text(fp, c->name);
        fprintf(fp, ",\"uses\":%llu,\"trusted_by\":%u}", (unsigned long long)c->uses, c->trusted_by);
    }
    fprintf(fp, "],\"seconds\":[");
    for (i = 0; i < last && i < FLEET_MAX_SECONDS; i++)
        fprintf(fp, "%s{\"attempts\":%u,\"full\":%u,\"resumed\":%u,\"connacks\":%u,\"losses\":%u}",
                i ? "," : "", f->sec[i].attempts, f->sec[i].full, f->sec[i].resumed,
                f->sec[i].connacks, f->sec[i].losses);
    fprintf(fp, "],\"devices\":[");
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        fprintf(fp, "%s\n{\"id\":\"%s\",\"trust\":", i ? "," : "", d->id);
        json_text(fp, f->groups[d->group].names);
        fprintf(fp, ",\"state\":\"%s\",\"attempts\":%u,\"connects\":%u,\"full\":%u,"
                    "\"resumed\":%u,\"losses\":%u,\"sessions_found\":%u,\"connect_ms\":%ld,"
                    "\"back_ms\":%ld,\"published\":%u,\"acked\":%u,\"store_full\":%u,"
                    "\"telemetry_received\":%u,\"telemetry_dup\":%u,\"telemetry_dup_new\":%u,"
                    "\"commands_sent\":%u,\"commands_received\":%u,\"commands_dup\":%u,"
                    "\"commands_dup_new\":%u,\"ca_version\":%u,"
                    "\"update_error\":\"%s\",\"last_error\":\"%s\",\"why\":",
                state_name(d), d->attempts, d->connects, d->full, d->resumed, d->losses,
                d->sessions_found, since_start(d), d->back ? (long)d->back_ms : -1L, d->next_seq,
                d->acked, d->store_full, d->tel_rx, d->tel_dup, d->tel_dup_new, d->cmd_sent,
                d->cmd_rx, d->cmd_dup, d->cmd_dup_new, mqtls_castore_version(&d->cas, MQTLS_CA_ACTIVE),
                d->update_error != 0 ? mqtls_errname(d->update_error) : "",
                d->last_error != 0 ? mqtls_errname(d->last_error) : "");
        json_text(fp, d->update_error != 0 ? d->update_why : d->why);
        fputc('}', fp);
    }
    fprintf(fp, "\n]}\n");
    return fclose(fp) == 0 ? 0 : -1;
}

/* ---- fleet-wide CA counters ----------------------------------------------- */

void fleet_count_cas(fleet *f)
{
    uint32_t i;
    size_t j, k;

    f->ca_seen_count = 0;
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        mqtls_ca_info info;
        for (j = 0; mqtls_castore_info(&d->cas, MQTLS_CA_ACTIVE, j, &info) == MQTLS_OK; j++) {
            struct fleet_ca_count *c = NULL;
            for (k = 0; k < f->ca_seen_count && c == NULL; k++)
                if (memcmp(f->ca_seen[k].sha256, info.sha256, 32) == 0)
                    c = &f->ca_seen[k];
            if (c == NULL && f->ca_seen_count < FLEET_MAX_SEEN) {
                c = &f->ca_seen[f->ca_seen_count++];
                memset(c, 0, sizeof *c);
                memcpy(c->sha256, info.sha256, 32);
                snprintf(c->name, sizeof c->name, "%s", info.subject);
                for (k = 0; k < f->ca_count; k++)
                    if (memcmp(f->cas[k].sha256, info.sha256, 32) == 0)
                        snprintf(c->name, sizeof c->name, "%s (%s)", f->cas[k].name, info.subject);
            }
            if (c != NULL) {
                c->uses += info.uses;
                c->trusted_by++;
            }
        }
    }
    /* A named CA no device trusts any more is reported too, with zeros. */
    for (k = 0; k < f->ca_count; k++) {
        bool found = false;
        for (j = 0; j < f->ca_seen_count; j++)
            found = found || memcmp(f->ca_seen[j].sha256, f->cas[k].sha256, 32) == 0;
        if (!found && f->ca_seen_count < FLEET_MAX_SEEN) {
            struct fleet_ca_count *c = &f->ca_seen[f->ca_seen_count++];
            memset(c, 0, sizeof *c);
            memcpy(c->sha256, f->cas[k].sha256, 32);
            snprintf(c->name, sizeof c->name, "%s", f->cas[k].name);
        }
    }
}

/* ---- the summary ---------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The value below which pct% of v[0..n) lie (v sorted). */
static uint32_t pctl(const uint32_t *v, size_t n, double pct)
{
    size_t i;
    if (n == 0)
        return 0;
    i = (size_t)(pct / 100.0 * (double)n + 0.999999);
    return v[(i == 0 ? 1 : i > n ? n : i) - 1];
}

void fleet_percentiles(const uint32_t *v_in, size_t n, uint32_t out[4])
{
    uint32_t *v = malloc((n ? n : 1) * sizeof *v);
    if (v == NULL) {
        memset(out, 0, 4 * sizeof *out);
        return;
    }
    memcpy(v, v_in, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_u32);
    out[0] = pctl(v, n, 50);
    out[1] = pctl(v, n, 90);
    out[2] = pctl(v, n, 99);
    out[3] = pctl(v, n, 100);
    free(v);
}

/* Peak per-second counts from second `from` on. */
void fleet_peaks(const fleet *f, uint32_t from, uint32_t *attempts, uint32_t *handshakes)
{
    uint32_t i, last = fleet_now(f) / 1000u + 1;
    *attempts = *handshakes = 0;
    for (i = from; i < last && i < FLEET_MAX_SECONDS; i++) {
        if (f->sec[i].attempts > *attempts)
            *attempts = f->sec[i].attempts;
        if (f->sec[i].full + f->sec[i].resumed > *handshakes)
            *handshakes = f->sec[i].full + f->sec[i].resumed;
    }
}

/* ", N sent again as new messages (DUP 0)": a broker resending a message
 * as new, which no receiver can tell from a new one. */
static const char *dup_words(uint64_t fresh)
{
    static char buf[96];
    if (fresh == 0)
        return "";
    snprintf(buf, sizeof buf, ", %llu of them sent again as new messages (DUP 0)",
             (unsigned long long)fresh);
    return buf;
}

bool fleet_operator_judges(const fleet *f)
{
    return f->op != NULL && f->o.telemetry && f->op->connects <= f->op->sessions_found + 1;
}

void fleet_summary(fleet *f)
{
    uint32_t *t = malloc((f->n ? f->n : 1) * sizeof *t), p[4], pa, ph, i, up = 0, shown = 0;
    uint64_t att = 0, full = 0, res = 0, pub = 0, acked = 0, rx = 0, dup = 0, sfull = 0, stored = 0;
    uint64_t csent = 0, crx = 0, cdup = 0, tnew = 0, cnew = 0;
    size_t n = 0, k;

    if (t == NULL)
        return;
    for (i = 0; i < f->n; i++) {
        const fleet_dev *d = f->dev[i];
        if (d->ever_up)
            t[n++] = d->first_up_ms - d->start_ms;
        up += d->up;
        att += d->attempts;
        full += d->full;
        res += d->resumed;
        pub += d->next_seq;
        acked += d->acked - d->status_sent; /* status reports are QoS 1 too */
        rx += d->tel_rx;
        dup += d->tel_dup;
        sfull += d->store_full;
        stored += mqtls_ram_store_count(&d->store);
        csent += d->cmd_sent;
        crx += d->cmd_rx;
        cdup += d->cmd_dup;
        tnew += d->tel_dup_new;
        cnew += d->cmd_dup_new;
    }
    fleet_percentiles(t, n, p);
    fleet_peaks(f, 0, &pa, &ph);
    printf("devices: %u, %zu connected at least once, %u connected now\n", f->n, n, up);
    printf("connect time (start to CONNACK): p50 %u ms, p90 %u ms, p99 %u ms, max %u ms\n", p[0],
           p[1], p[2], p[3]);
    if (f->tls_version != 0)
        printf("TLS %u.%u, %s\n", f->tls_version / 10, f->tls_version % 10, f->suite);
    printf("handshakes: %llu full, %llu resumed, %llu attempts; peak %u attempts/s, %u "
           "handshakes/s\n",
           (unsigned long long)full, (unsigned long long)res, (unsigned long long)att, pa, ph);
    if (f->o.interval_s > 0)
        printf("telemetry (QoS %u): %llu published, %llu acknowledged, %llu still stored, %llu "
               "refused by a full store; operator received %llu (%llu duplicates%s), %s %lld\n",
               f->o.qos, (unsigned long long)pub, (unsigned long long)acked,
               (unsigned long long)stored, (unsigned long long)sfull, (unsigned long long)rx,
               (unsigned long long)dup, dup_words(tnew), fleet_operator_judges(f) ? "lost" : "not received",
               f->o.telemetry ? (long long)(pub - stored) - (long long)rx : -1LL);
    if (f->o.interval_s > 0 && f->op != NULL && !fleet_operator_judges(f))
        printf("telemetry: not judged: the operator's own session was lost (it reconnected to a "
               "broker that no longer had it), so what was published while it had no "
               "subscription never reached it; use persistent sessions (-c) with a broker that "
               "keeps them\n");
    printf("simulator: %u devices on one thread, at most %u connection attempts at once%s; %llu "
           "attempts waited for one, up to %u ms (mean %.0f ms)\n",
           f->n, f->o.max_open, f->o.max_open == 0 ? " (no limit)" : "",
           (unsigned long long)f->queued_count, f->queued_max_ms,
           f->queued_count ? (double)f->queued_total_ms / (double)f->queued_count : 0.0);
    if (f->op != NULL)
        printf("operator: %s, %u connects (%u found its session), %u subscriptions acknowledged, "
               "%u losses, %u attempts%s%s\n",
               f->op->up ? "connected" : "not connected", f->op->connects, f->op->sessions_found,
               f->op->subacked, f->op->losses, f->op->attempts, f->op->up ? "" : "; last: ",
               f->op->up ? "" : f->op->why);
    if (f->o.cmd_interval_s > 0)
        printf("commands (QoS %u): %llu sent, %llu received (%llu duplicates%s), lost %lld\n",
               f->o.cmd_qos, (unsigned long long)csent, (unsigned long long)crx,
               (unsigned long long)cdup, dup_words(cnew), (long long)csent - (long long)crx);
    if (f->rss_up > 0 && f->all_up_ms > 0) {
        const double per = (double)(f->rss_up - f->rss_base) / 1024.0 / (double)f->n;
        const double own = (double)(sizeof(fleet_dev) + FLEET_RING + FLEET_TX +
                                    (f->o.resume ? FLEET_SESSION_CAP : 0)) / 1024.0;
        printf("memory: %.1f MB resident with %u devices connected, %.1f MB before them: %.1f "
               "KB per device (%.0f devices per GB), of which %.1f KB is the device's own state "
               "(client, TLS and CA-store objects, buffers, store, session, the tool's counters) "
               "and the rest mbedTLS's heap (record buffers, certificates, keys)\n",
               (double)f->rss_up / 1048576.0, f->n, (double)f->rss_base / 1048576.0, per,
               per > 0 ? 1048576.0 / per : 0.0, own);
    }
    fleet_count_cas(f);
    for (k = 0; k < f->ca_seen_count; k++)
        printf("CA %s: trusted by %u devices, %llu connects ended at it\n", f->ca_seen[k].name,
               f->ca_seen[k].trusted_by, (unsigned long long)f->ca_seen[k].uses);
    for (i = 0; i < f->n && shown < 10; i++) {
        const fleet_dev *d = f->dev[i];
        if (d->up)
            continue;
        printf("  %s (trust %s): %s: %s\n", d->id, f->groups[d->group].names,
               mqtls_errname(d->last_error), d->why[0] ? d->why : mqtls_strerror(d->last_error));
        shown++;
    }
    if (shown == 10 && f->n - up > 10)
        printf("  ... and %u more not connected\n", f->n - up - 10);
    free(t);
}
