/* SPDX-License-Identifier: Apache-2.0 */
/* The modem the emulated device talks to (ports/qemu-mps2/modem.h has the
 * AT dialect): QEMU's UART0 connects here as a TCP client; the bridge
 * dials the broker on loopback when the device says ATD, passes bytes in
 * data mode, reports NO CARRIER when the link drops, and returns to
 * command mode after "+++" framed by a second of silence.
 *
 *   modem_bridge PORTFILE   listens on 127.0.0.1, writes its port to PORTFILE
 *   SIGUSR1                 drops the data link now (a modem reset)
 *   SIGTERM                 exits
 *
 * Loopback only: ATD to any other address answers NO CARRIER. Serves one
 * UART connection after another (the emulator restarting). */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GUARD_MS 1000

static volatile sig_atomic_t drop_link, stop;
static int verbose; /* MODEM_BRIDGE_LOG set: each event on stderr */
static long started_ms;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An event, with the host's milliseconds since the bridge started. */
static void note(const char *what, const char *detail)
{
    if (verbose)
        fprintf(stderr, "modem_bridge: %6ld ms: %s %s\n", now_ms() - started_ms, what, detail);
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        drop_link = 1;
    else
        stop = 1;
}

static void put(int fd, const char *s)
{
    size_t n = strlen(s), done = 0;
    while (done < n) {
        ssize_t w = write(fd, s + done, n - done);
        if (w <= 0 && errno != EINTR)
            return;
        if (w > 0)
            done += (size_t)w;
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ATD<host>:<port>: a loopback connection, or -1. */
static int dial(const char *target)
{
    struct sockaddr_in a;
    const char *colon = strrchr(target, ':');
    char host[64];
    long port;
    int fd, one = 1;

    if (colon == NULL || (size_t)(colon - target) >= sizeof host)
        return -1;
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = '\0';
    port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535 ||
        (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "localhost") != 0))
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* One UART connection, until it closes. */
static void serve(int uart)
{
    char cmd[128], buf[4096], out[sizeof buf + 3];
    size_t ncmd = 0;
    int net = -1, plus = 0;
    long last_rx = now_ms(), plus_at = 0;
    unsigned long up = 0, down = 0; /* bytes of the current link, each way */
    char counts[64];

    while (!stop) {
        struct pollfd p[2] = {{uart, POLLIN, 0}, {net, POLLIN, 0}};
        int n = poll(p, net >= 0 ? 2 : 1, 50), i;
        ssize_t r;

        if (drop_link || (net >= 0 && plus == 3 && now_ms() - plus_at >= GUARD_MS)) {
            snprintf(counts, sizeof counts, "(link %s: %lu bytes up, %lu down)",
                     net >= 0 ? "up" : "down", up, down);
            note(drop_link ? "drop" : "escape", counts);
            if (drop_link && net >= 0) { /* a modem reset: the link is gone */
                close(net);
                net = -1;
                put(uart, "\r\nNO CARRIER\r\n");
            } else if (!drop_link) { /* +++ framed by silence: command mode */
                put(uart, "OK\r\n");
                close(net); /* this modem hangs up on escape too: ATH only confirms */
                net = -1;
            }
            drop_link = 0;
            plus = 0;
        }
        if (n <= 0)
            continue;
        if (net >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            r = read(net, buf, sizeof buf);
            if (r <= 0) {
                snprintf(counts, sizeof counts, "(the far end closed: %lu bytes up, %lu down)", up, down);
                note("NO CARRIER", counts);
                close(net);
                net = -1;
                put(uart, "\r\nNO CARRIER\r\n");
            } else if (write_all(uart, buf, (size_t)r) != 0) {
                break;
            } else {
                down += (unsigned long)r;
            }
        }
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        r = read(uart, buf, sizeof buf);
        if (r <= 0)
            break;
        if (net >= 0) {
            /* Data mode: "+++" after a second of silence is held back;
             * the rest goes on in one write. */
            size_t o = 0;
            for (i = 0; i < r; i++) {
                if (buf[i] == '+' && plus < 3 && (plus > 0 || now_ms() - last_rx >= GUARD_MS)) {
                    if (++plus == 3)
                        plus_at = now_ms();
                    continue;
                }
                memcpy(out + o, "+++", (size_t)plus);
                o += (size_t)plus;
                plus = 0;
                out[o++] = buf[i];
            }
            if (o > 0 && write_all(net, out, o) == 0) /* a failure: the read sees the close */
                up += (unsigned long)o;
            last_rx = now_ms();
            continue;
        }
        for (i = 0; i < r; i++) { /* command mode: lines ending in CR */
            if (buf[i] == '\n')
                continue;
            if (buf[i] != '\r') {
                if (ncmd + 1 < sizeof cmd)
                    cmd[ncmd++] = buf[i];
                continue;
            }
            cmd[ncmd] = '\0';
            ncmd = 0;
            note("command", cmd);
            if (strcmp(cmd, "AT") == 0 || strcmp(cmd, "ATH") == 0 || strcmp(cmd, "+++") == 0) {
                put(uart, "OK\r\n");
            } else if (strncmp(cmd, "ATD", 3) == 0) {
                net = dial(cmd + 3);
                up = down = 0;
                note(net >= 0 ? "CONNECT" : "NO CARRIER", cmd);
                put(uart, net >= 0 ? "CONNECT\r\n" : "NO CARRIER\r\n");
                last_rx = now_ms();
                if (net >= 0 && i + 1 < r && write_all(net, buf + i + 1, (size_t)(r - i - 1)) != 0) {
                    close(net);
                    net = -1;
                }
                up += (unsigned long)(r - i - 1);
                break;
            } else if (cmd[0] != '\0') {
                put(uart, "ERROR\r\n");
            }
        }
    }
    if (net >= 0)
        close(net);
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    struct sigaction sa;
    FILE *f;
    int srv, one = 1;

    verbose = getenv("MODEM_BRIDGE_LOG") != NULL;
    started_ms = now_ms();
    if (argc != 2) {
        fprintf(stderr, "usage: modem_bridge PORTFILE\n");
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srv = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (srv < 0 || bind(srv, (struct sockaddr *)&a, sizeof a) != 0 || listen(srv, 1) != 0 ||
        getsockname(srv, (struct sockaddr *)&a, &alen) != 0) {
        perror("modem_bridge");
        return 1;
    }
    f = fopen(argv[1], "w");
    if (f == NULL || fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0) {
        perror("modem_bridge: port file");
        return 1;
    }
    while (!stop) {
        struct pollfd p = {srv, POLLIN, 0};
        int uart;
        if (poll(&p, 1, 200) <= 0)
            continue;
        uart = accept(srv, NULL, NULL);
        if (uart < 0)
            continue;
        note("UART", "connected");
        (void)setsockopt(uart, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve(uart);
        note("UART", "closed");
        close(uart);
    }
    close(srv);
    return 0;
}
