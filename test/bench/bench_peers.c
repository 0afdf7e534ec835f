/* mqtls beside the clients users would otherwise pick, in one run, on one
 * broker: starts its own mosquitto on 127.0.0.1 (mutual TLS, ECDSA P-256,
 * Mosquitto's default settings), runs each peer program (test/bench/peer.h)
 * RUNS times per row, interleaved so that drift hits every client alike,
 * and prints the median with min-max and mqtls's ratio to each peer.
 * With a path argument it also writes the table there as Markdown
 * (docs/performance.md), with the date, machine and package versions.
 *
 * Usage: bench_peers RUNS [OUTPUT.md]
 * Figures only: nothing here passes or fails on speed. Every child is
 * bounded in time (its own SECONDS, then killed after a grace period). */
#define _GNU_SOURCE /* wait4 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test/integration/broker.h"

#define MAX_RUNS 15
#define BIN MQTLS_SOURCE_DIR "/build/bench/"

static const struct peer {
    const char *name;
    const char *program;
} peers[] = {
    {"mqtls", BIN "peer_mqtls"},
    {"libmosquitto", BIN "peer_mosquitto"},
    {"Paho C async", BIN "peer_paho_async"},
    {"Paho C sync", BIN "peer_paho_sync"},
};
#define NPEERS (sizeof peers / sizeof peers[0])

static const struct row {
    const char *what;
    int qos, window;
    unsigned size;
    long count;
    double seconds; /* per run: a slow client reports what it managed */
} rows[] = {
    {"QoS 1 publish, 64 B, window 20", 1, 20, 64, 20000, 3.0},
    {"QoS 1 publish, 64 B, window 1", 1, 1, 64, 5000, 3.0},
};
#define NROWS (sizeof rows / sizeof rows[0])

typedef struct figure {
    double rate[MAX_RUNS];
    int n;
    long rss_kb; /* largest peak RSS over the runs */
    int failed;
} figure;

static figure results[NROWS][NPEERS];
static int tty;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const figure *f, double *lo, double *hi)
{
    double v[MAX_RUNS];
    memcpy(v, f->rate, sizeof v);
    qsort(v, (size_t)f->n, sizeof v[0], cmp_double);
    *lo = v[0];
    *hi = v[f->n - 1];
    return f->n % 2 ? v[f->n / 2] : (v[f->n / 2 - 1] + v[f->n / 2]) / 2;
}

/* Runs one peer program; on success stores messages per second and the
 * child's peak RSS. Returns 0 or -1. */
static int run_peer(const struct peer *p, const struct row *r, uint16_t port, double *rate,
                    long *rss_kb)
{
    char a_port[16], a_qos[8], a_window[16], a_size[16], a_count[24], a_secs[24], out[256];
    int fds[2], status = 0, done_reading = 0;
    size_t used = 0;
    struct rusage ru;
    long done = -1;
    double secs = 0, deadline;
    pid_t pid;

    snprintf(a_port, sizeof a_port, "%u", (unsigned)port);
    snprintf(a_qos, sizeof a_qos, "%d", r->qos);
    snprintf(a_window, sizeof a_window, "%d", r->window);
    snprintf(a_size, sizeof a_size, "%u", r->size);
    snprintf(a_count, sizeof a_count, "%ld", r->count);
    snprintf(a_secs, sizeof a_secs, "%.3f", r->seconds);
    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(p->program, p->program, "pub", a_port, CERTS, a_qos, a_window, a_size, a_count,
              a_secs, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    /* The child stops itself after r->seconds; allow 15 s for connecting
     * and closing, then kill it. */
    deadline = (double)time(NULL) + r->seconds + 15;
    while (!done_reading && (double)time(NULL) < deadline) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        ssize_t n;
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        n = read(fds[0], out + used, sizeof out - 1 - used);
        if (n > 0)
            used += (size_t)n;
        if (n == 0 || used == sizeof out - 1)
            done_reading = 1;
        else if (n < 0 && errno != EINTR)
            done_reading = 1;
    }
    close(fds[0]);
    if (!done_reading)
        kill(pid, SIGKILL);
    if (wait4(pid, &status, 0, &ru) != pid)
        return -1;
    out[used] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        sscanf(out, "done=%ld seconds=%lf", &done, &secs) != 2 || done <= 0 || secs <= 0) {
        fprintf(stderr, "%s: run failed (status %d) %s\n", p->name, status, out);
        return -1;
    }
    *rate = (double)done / secs;
    *rss_kb = ru.ru_maxrss;
    return 0;
}

static void package_versions(char *out, size_t cap)
{
    FILE *f = popen("dpkg-query -W -f '${Package} ${Version}, ' mosquitto libmosquitto1 "
                    "libpaho-mqtt1.3 libmbedtls-dev 2>/dev/null",
                    "r");
    size_t n = 0;
    out[0] = '\0';
    if (f != NULL) {
        n = fread(out, 1, cap - 1, f);
        out[n] = '\0';
        pclose(f);
    }
    if (n >= 2 && out[n - 2] == ',')
        out[n - 2] = '\0';
}

static void cpu_model(char *out, size_t cap)
{
    char line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(out, cap, "unknown CPU");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            snprintf(out, cap, "%s", colon + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

static void print_rate(FILE *f, int md, double v)
{
    if (md)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%9.0f", v);
}

/* The table, as text (md = 0) or Markdown (md = 1). */
static void table(FILE *f, int md, int runs)
{
    size_t r, p;
    for (r = 0; r < NROWS; r++) {
        double ours_lo, ours_hi, ours = 0;
        if (!results[r][0].failed && results[r][0].n > 0)
            ours = median(&results[r][0], &ours_lo, &ours_hi);
        if (md)
            fprintf(f, "\n### %s (msgs/s, median of %d, min–max)\n\n| client | msgs/s | min–max | "
                       "mqtls is |\n|---|---:|---:|---:|\n",
                    rows[r].what, runs);
        else
            fprintf(f, "%s (msgs/s: median of %d [min-max], mqtls's ratio)\n", rows[r].what, runs);
        for (p = 0; p < NPEERS; p++) {
            const figure *fg = &results[r][p];
            double lo, hi, m;
            if (fg->failed || fg->n == 0) {
                fprintf(f, md ? "| %s | failed | | |\n" : "  %-14s failed\n", peers[p].name);
                continue;
            }
            m = median(fg, &lo, &hi);
            fprintf(f, md ? "| %s | " : "  %-14s ", peers[p].name);
            print_rate(f, md, m);
            fprintf(f, md ? " | " : "  [");
            print_rate(f, md, lo);
            fprintf(f, md ? "–" : " - ");
            print_rate(f, md, hi);
            if (p == 0 || ours <= 0)
                fprintf(f, md ? " | |\n" : "]\n");
            else
                fprintf(f, md ? " | %.2f× |\n" : "]   mqtls %.2fx\n", ours / m);
        }
    }
    if (md)
        fprintf(f, "\n### Peak RSS of the publishing process (largest over all runs)\n\n"
                   "| client | KB |\n|---|---:|\n");
    else
        fprintf(f, "peak RSS of the publishing process (largest over all runs)\n");
    for (p = 0; p < NPEERS; p++) {
        long kb = 0;
        for (r = 0; r < NROWS; r++)
            if (results[r][p].rss_kb > kb)
                kb = results[r][p].rss_kb;
        fprintf(f, md ? "| %s | %ld |\n" : "  %-14s %6ld KB\n", peers[p].name, kb);
    }
}

int main(int argc, char **argv)
{
    char lines[1024], versions[512], cpu[256], date[32];
    struct utsname un;
    broker b;
    int runs = argc > 1 ? atoi(argv[1]) : 5, k, ok = 1;
    size_t r, p;
    time_t now = time(NULL);

    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: bench_peers RUNS(1..%d) [OUTPUT.md]\n", MAX_RUNS);
        return 2;
    }
    tty = isatty(2);
    signal(SIGPIPE, SIG_IGN);
    broker_tls_lines(lines, sizeof lines, "server-a-chain.pem", "server-a.key", 1);
    if (broker_start(&b, "127.0.0.1", lines) != 0)
        return 1;
    printf("mqtls and its peers: mosquitto on 127.0.0.1:%u, mutual TLS (ECDSA P-256), "
           "broker defaults\n",
           (unsigned)b.port);
    for (k = 0; k < runs; k++) {
        for (r = 0; r < NROWS; r++) {
            for (p = 0; p < NPEERS; p++) {
                figure *fg = &results[r][p];
                double rate;
                long rss;
                if (fg->failed)
                    continue;
                if (tty)
                    fprintf(stderr, "\r  run %d/%d: %-32s %-14s", k + 1, runs, rows[r].what,
                            peers[p].name);
                if (run_peer(&peers[p], &rows[r], b.port, &rate, &rss) != 0) {
                    fg->failed = 1;
                    ok = 0;
                    continue;
                }
                fg->rate[fg->n++] = rate;
                if (rss > fg->rss_kb)
                    fg->rss_kb = rss;
            }
        }
    }
    if (tty)
        fprintf(stderr, "\r%78s\r", "");
    broker_stop(&b);
    table(stdout, 0, runs);

    if (argc > 2) {
        FILE *f = fopen(argv[2], "w");
        if (f == NULL) {
            perror(argv[2]);
            return 1;
        }
        uname(&un);
        cpu_model(cpu, sizeof cpu);
        package_versions(versions, sizeof versions);
        strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
        fprintf(f, "# Performance\n\nWritten by `make bench` on %s: %s %s %s, %s, %ld cores.\n"
                   "Packages: %s.\n\n",
                date, un.sysname, un.release, un.machine, cpu, sysconf(_SC_NPROCESSORS_ONLN),
                versions);
        fprintf(f, "Every client publishes to the same local Mosquitto (127.0.0.1, mutual TLS, "
                   "ECDSA P-256, broker defaults) in the same run, one after the other, "
                   "interleaved run by run. A figure is messages acknowledged per second "
                   "(PUBACK at QoS 1) from the first publish to the last acknowledgement; a "
                   "client that cannot finish in its time budget is measured on what it "
                   "finished. Each peer is used the way its documentation shows, with its "
                   "defaults. Source: `test/bench/bench_peers.c` and `test/bench/peer_*.c`.\n");
        table(f, 1, runs);
        fclose(f);
        printf("written to %s\n", argv[2]);
    }
    return ok ? 0 : 1;
}
