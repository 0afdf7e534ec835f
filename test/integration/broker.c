/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L

#include "test/integration/broker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int make_addr(const char *address, uint16_t port, struct sockaddr_storage *ss,
                     socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(address, ':') != NULL) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        *len = sizeof *a;
        return inet_pton(AF_INET6, address, &a->sin6_addr) == 1 ? 0 : -1;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        *len = sizeof *a;
        return inet_pton(AF_INET, address, &a->sin_addr) == 1 ? 0 : -1;
    }
}

/* The lowest port the kernel hands out for outgoing connections
 * (ip_local_port_range), or 32768. */
static unsigned ephemeral_low(void)
{
    unsigned low = 32768;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f != NULL) {
        if (fscanf(f, "%u", &low) != 1 || low < 12000 || low > 65535)
            low = 32768;
        fclose(f);
    }
    return low;
}

/* A free port on that address, below the ephemeral range: a port the
 * kernel picked for us (bind to 0) is ephemeral, and between our close and
 * the broker's bind any outgoing connection on the machine (make check runs
 * suites side by side) may take it. Below the range only another picker
 * can, and the broker's start then fails and is retried on another port. */
static uint16_t free_port(const char *address)
{
    static unsigned seed;
    const unsigned low = ephemeral_low();
    struct sockaddr_storage ss;
    socklen_t len;
    int tries;

    if (seed == 0)
        seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
    for (tries = 0; tries < 100; tries++) {
        uint16_t port;
        int fd, ok;
        seed = seed * 1103515245u + 12345u;
        port = (uint16_t)(10000u + (seed >> 8) % (low - 10000u));
        if (make_addr(address, port, &ss, &len) != 0)
            return 0;
        fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd < 0)
            return 0;
        ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
        close(fd);
        if (ok)
            return port;
    }
    return 0;
}

static int accepts(const char *address, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, ok;

    if (make_addr(address, port, &ss, &len) != 0)
        return 0;
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    ok = connect(fd, (struct sockaddr *)&ss, len) == 0;
    close(fd);
    return ok;
}

static void print_log(const broker *b)
{
    char path[256], line[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/mosquitto.log", b->dir);
    f = fopen(path, "r");
    if (f == NULL)
        return;
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof line, f) != NULL)
        fputs(line, stderr);
    fclose(f);
}

static const char *mosquitto_path(void)
{
    const char *env = getenv("MQTLS_MOSQUITTO");
    if (env != NULL && env[0] != 0)
        return env;
    return access("/usr/sbin/mosquitto", X_OK) == 0 ? "/usr/sbin/mosquitto" : "mosquitto";
}

/* Makes b's temp dir and picks its port. */
static int prepare(broker *b, const char *address)
{
    const char *base = getenv("MQTLS_TEST_TMP");

    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "%s/broker-XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(b->dir) == NULL)
        return -1;
    b->port = free_port(address);
    return b->port != 0 ? 0 : -1;
}

/* Forks and execs argv ("{port}" replaced by b->port), output to the log,
 * stdin from /dev/null; waits (bounded) until address:port accepts. */
static int spawn(broker *b, const char *address, const char *const *argv)
{
    static char expanded[32][256];
    char log[256], *args[32];
    int i, status;

    snprintf(log, sizeof log, "%s/mosquitto.log", b->dir);
    for (i = 0; argv[i] != NULL && i < 31; i++) {
        const char *at = strstr(argv[i], "{port}");
        if (at != NULL) {
            snprintf(expanded[i], sizeof expanded[i], "%.*s%u%s", (int)(at - argv[i]), argv[i],
                     (unsigned)b->port, at + 6);
            args[i] = expanded[i];
        } else {
            args[i] = (char *)(uintptr_t)argv[i];
        }
    }
    args[i] = NULL;

    b->pid = fork();
    if (b->pid < 0)
        return -1;
    if (b->pid == 0) {
        int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600), in = open("/dev/null", O_RDONLY);
#ifdef __linux__
        /* A test that dies early (a failed assertion) must not leave its
         * server behind: it is stopped when its parent goes. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (in >= 0)
            dup2(in, 0);
        execvp(args[0], args);
        _exit(127);
    }
    /* Bounded wait: 100 tries, 50 ms apart. */
    for (i = 0; i < 100; i++) {
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            fprintf(stderr, "%s exited at start (status %d)\n", args[0], status);
            print_log(b);
            b->pid = 0;
            return -1;
        }
        if (accepts(address, b->port))
            return 0;
        sleep_ms(50);
    }
    fprintf(stderr, "%s did not accept on %s port %u within 5 s\n", args[0], address,
            (unsigned)b->port);
    print_log(b);
    broker_stop(b);
    return -1;
}

/* Writes the broker's config: defaults, the listener, the caller's lines
 * ("{dir}" standing for the temp dir). */
static int write_config(const broker *b, const char *address, const char *listener_lines)
{
    char conf[256], log[256];
    FILE *f;

    snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->dir);
    snprintf(log, sizeof log, "%s/mosquitto.log", b->dir);
    f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    /* As root, mosquitto would drop to user "mosquitto", which cannot read
     * the test keys; "user root" keeps it as it is (ignored otherwise). */
    fprintf(f, "persistence false\nuser root\nlog_dest file %s\nlog_type all\n"
               "allow_anonymous true\nlistener %u %s\n",
            log, (unsigned)b->port, address);
    for (;;) {
        const char *at = strstr(listener_lines, "{dir}");
        if (at == NULL)
            break;
        fprintf(f, "%.*s%s", (int)(at - listener_lines), listener_lines, b->dir);
        listener_lines = at + 5;
    }
    fprintf(f, "%s\n", listener_lines);
    return fclose(f) == 0 ? 0 : -1;
}

static int run_config(broker *b, const char *address)
{
    char conf[256];
    const char *argv[4];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->dir);
    argv[0] = mosquitto_path();
    argv[1] = "-c";
    argv[2] = conf;
    argv[3] = NULL;
    return spawn(b, address, argv);
}

/* Whether the broker's log says its port was taken under it. */
static int port_was_taken(const broker *b)
{
    char log[256], line[512];
    int taken = 0;
    FILE *f;
    snprintf(log, sizeof log, "%s/mosquitto.log", b->dir);
    f = fopen(log, "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        taken |= strstr(line, "Address already in use") != NULL;
    if (f != NULL)
        fclose(f);
    return taken;
}

int broker_start(broker *b, const char *address, const char *listener_lines)
{
    int attempt, ret = -1;
    if (prepare(b, address) != 0)
        return -1;
    /* A free port can be taken between picking it and the broker's bind
     * (another suite picking the same one): then another port, at most
     * three times. Any other failure is the test's. */
    for (attempt = 0; attempt < 3; attempt++) {
        if (write_config(b, address, listener_lines) != 0)
            return -1;
        ret = run_config(b, address);
        if (ret == 0 || !port_was_taken(b))
            return ret;
        b->port = free_port(address);
        if (b->port == 0)
            return -1;
    }
    return ret;
}

/* SIGTERM and a bounded wait; SIGKILL if it will not go. */
static void stop_process(broker *b)
{
    int i, status;
    if (b->pid <= 0)
        return;
    kill(b->pid, SIGTERM);
    for (i = 0; i < 100; i++) { /* at most 2 s */
        if (waitpid(b->pid, &status, WNOHANG) == b->pid)
            break;
        sleep_ms(20);
    }
    if (i == 100) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, &status, 0);
    }
    b->pid = 0;
}

int broker_restart(broker *b, const char *address)
{
    stop_process(b);
    return run_config(b, address);
}

int broker_reconfigure(broker *b, const char *address, const char *listener_lines)
{
    stop_process(b);
    if (write_config(b, address, listener_lines) != 0)
        return -1;
    return run_config(b, address);
}

int server_start(broker *b, const char *address, const char *const *argv)
{
    if (prepare(b, address) != 0)
        return -1;
    return spawn(b, address, argv);
}

void broker_stop(broker *b)
{
    char path[256];

    stop_process(b);
    if (b->dir[0] != 0) {
        snprintf(path, sizeof path, "%s/mosquitto.conf", b->dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/mosquitto.log", b->dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/mosquitto.db", b->dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/publisher.journal", b->dir);
        unlink(path);
        rmdir(b->dir);
        b->dir[0] = 0;
    }
}

void broker_tls_lines(char *out, size_t cap, const char *certfile, const char *keyfile,
                      int mutual)
{
    snprintf(out, cap,
             "cafile %sroot-a.crt\ncertfile %s%s\nkeyfile %s%s\n%s", CERTS, CERTS, certfile, CERTS,
             keyfile,
             mutual ? "require_certificate true\nuse_identity_as_username true\n" : "");
}
