/* SPDX-License-Identifier: Apache-2.0 */
/* The fleet's event loop: one epoll for every socket, one timer heap for
 * every device's next due time, per-second counters, the operator's
 * commands (a cut, a broker switch) run without stopping the loop. */
#define _GNU_SOURCE
#include "examples/fleet/fleet.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct fleet_timer {
    uint32_t due, idx, seq;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint32_t fleet_now(const fleet *f)
{
    return (uint32_t)((now_us() - f->t0_us) / 1000u);
}

fleet_second *fleet_this_second(fleet *f)
{
    uint32_t s = fleet_now(f) / 1000u;
    return &f->sec[s < FLEET_MAX_SECONDS ? s : FLEET_MAX_SECONDS - 1];
}

int fleet_loop_init(fleet *f)
{
    f->t0_us = now_us();
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    f->heap_cap = 1024;
    f->heap = malloc(f->heap_cap * sizeof *f->heap);
    return f->ep < 0 || f->heap == NULL ? -1 : 0;
}

/* ---- the timer heap: (due, device), stale entries skipped by seq ---------- */

static bool earlier(const struct fleet_timer *a, const struct fleet_timer *b)
{
    return (int32_t)(a->due - b->due) < 0;
}

static void heap_push(fleet *f, struct fleet_timer t)
{
    size_t i;
    if (f->heap_len == f->heap_cap) {
        struct fleet_timer *h = realloc(f->heap, 2 * f->heap_cap * sizeof *h);
        if (h == NULL)
            return; /* the device is still polled on input */
        f->heap = h;
        f->heap_cap *= 2;
    }
    i = f->heap_len++;
    while (i > 0 && earlier(&t, &f->heap[(i - 1) / 2])) {
        f->heap[i] = f->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    f->heap[i] = t;
}

static struct fleet_timer heap_pop(fleet *f)
{
    struct fleet_timer top = f->heap[0], last = f->heap[--f->heap_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= f->heap_len)
            break;
        if (c + 1 < f->heap_len && earlier(&f->heap[c + 1], &f->heap[c]))
            c++;
        if (!earlier(&f->heap[c], &last))
            break;
        f->heap[i] = f->heap[c];
        i = c;
    }
    if (f->heap_len > 0)
        f->heap[i] = last;
    return top;
}

void fleet_schedule(fleet *f, fleet_dev *d, uint32_t due_in_ms)
{
    struct fleet_timer t;
    if (due_in_ms == MQTLS_WAIT_FOREVER)
        due_in_ms = 60000; /* look again now and then anyway */
    t.due = fleet_now(f) + due_in_ms;
    /* An entry at or before this time is there already: it wakes the
     * device, which then schedules again (fewer stale entries). */
    if (d->timer_set && (int32_t)(d->timer_due - t.due) <= 0)
        return;
    t.idx = d->operator_ ? f->n : d->idx;
    t.seq = ++d->timer_seq; /* any earlier entry is stale now */
    d->timer_set = true;
    d->timer_due = t.due;
    heap_push(f, t);
}

/* What epoll watches: the end of a TCP connect (writable), else input. */
void fleet_watch(fleet_dev *d)
{
    struct epoll_event ev;
    const uint32_t want = d->phase == PH_TCP ? EPOLLOUT : EPOLLIN;

    if (d->tcp.fd < 0 || d->phase == PH_IDLE || d->reg_events == want)
        return;
    memset(&ev, 0, sizeof ev);
    ev.events = want;
    ev.data.u32 = d->operator_ ? d->f->n : d->idx;
    if (epoll_ctl(d->f->ep, d->reg_events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, d->tcp.fd, &ev) != 0 &&
        errno == EEXIST)
        (void)epoll_ctl(d->f->ep, EPOLL_CTL_MOD, d->tcp.fd, &ev);
    d->reg_events = want;
}

static fleet_dev *by_index(fleet *f, uint32_t idx)
{
    return idx < f->count ? f->dev[idx] : NULL;
}

void fleet_run(fleet *f, uint32_t max_ms, bool (*done)(fleet *f))
{
    struct epoll_event evs[256];
    const uint32_t end = fleet_now(f) + max_ms;
    uint32_t next_progress = 0;
    long rounds;

    for (rounds = 0; rounds < 100000000L; rounds++) {
        uint32_t now = fleet_now(f);
        int wait = 100, n, i;

        if ((int32_t)(now - end) >= 0 || (done != NULL && done(f)))
            break;
        if ((int32_t)(now - next_progress) >= 0) {
            fleet_progress(f, false);
            next_progress = now + 500;
        }
        /* Timers due, a bounded number per round so input is not starved. */
        for (i = 0; i < 4096 && f->heap_len > 0 && (int32_t)(f->heap[0].due - now) <= 0; i++) {
            struct fleet_timer t = heap_pop(f);
            fleet_dev *d = by_index(f, t.idx);
            if (d != NULL && t.seq == d->timer_seq) {
                d->timer_set = false;
                fleet_dev_service(d);
            }
        }
        if (f->heap_len > 0) {
            int32_t until = (int32_t)(f->heap[0].due - fleet_now(f));
            wait = until <= 0 ? 0 : until < wait ? until : wait;
        }
        /* The operator reads every round: it takes what thousands send. */
        if (f->op != NULL && f->op->c.state == MQTLS_CLIENT_CONNECTED)
            fleet_dev_service(f->op);
        n = epoll_wait(f->ep, evs, (int)(sizeof evs / sizeof evs[0]), wait);
        for (i = 0; i < n; i++) {
            fleet_dev *d = by_index(f, evs[i].data.u32);
            if (d != NULL)
                fleet_dev_service(d);
        }
        /* CA updates: one at a time (each runs a blocking probe). */
        for (i = 0; f->pending > 0 && i < (int)f->count; i++) {
            static uint32_t next_apply;
            fleet_dev *d = f->dev[(next_apply + (uint32_t)i) % f->count];
            if (d->pending_update >= 0) {
                (void)fleet_dev_apply_update(d);
                fleet_dev_service(d);
                next_apply = (next_apply + (uint32_t)i + 1) % f->count;
                break;
            }
        }
    }
}

/* Runs cmd with /bin/sh -c, without waiting; reaped by fleet_reap().
 * The pid, or -1. */
int fleet_spawn(fleet *f, const char *cmd)
{
    pid_t pid;
    char sh[] = "sh", dash_c[] = "-c";
    char *copy = strdup(cmd);
    char *argv[4];
    int ret;
    (void)f;
    if (copy == NULL)
        return -1;
    argv[0] = sh;
    argv[1] = dash_c;
    argv[2] = copy;
    argv[3] = NULL;
    ret = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
    free(copy);
    return ret == 0 ? (int)pid : -1;
}

/* Resident memory of this process, bytes (/proc/self/statm). */
uint64_t fleet_rss(void)
{
    unsigned long size = 0, resident = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (fp == NULL)
        return 0;
    if (fscanf(fp, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(fp);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}
