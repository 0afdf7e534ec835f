/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-pub and mqtls-sub as a user runs them, against Mosquitto over
 * mutual TLS: messages go through, exit statuses mean what they say, every
 * failure is one sentence that names the reason, --insecure warns every
 * time, and nothing but the messages is printed when output is piped. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test/integration/broker.h"
#include "tls/tls_mbedtls.h"

Suite *tools_suite(void);

#define PUB MQTLS_BUILD_DIR "/examples/mqtls-pub"
#define SUB MQTLS_BUILD_DIR "/examples/mqtls-sub"
#define MAX_ARGS 40

static broker brk;
static char dir[160], port[16];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A tool's run: argv, then what it printed and how it ended. */
typedef struct run {
    char *argv[MAX_ARGS]; /* into pool: execv wants them writable */
    char pool[4096];
    size_t used;
    int argc;
    pid_t pid;
    int status; /* exit status, or -1 if it had to be killed */
    char out[8192], err[4096];
    char out_path[200], err_path[200];
} run;

static void more(run *r, const char *a)
{
    size_t n = strlen(a) + 1;
    ck_assert_int_lt(r->argc, MAX_ARGS - 1);
    ck_assert_uint_le(n, sizeof r->pool - r->used);
    memcpy(r->pool + r->used, a, n);
    r->argv[r->argc++] = r->pool + r->used;
    r->used += n;
}

static void args(run *r, const char *tool, ...)
{
    va_list ap;
    const char *a;
    memset(r, 0, sizeof *r);
    more(r, tool);
    va_start(ap, tool);
    while ((a = va_arg(ap, const char *)) != NULL)
        more(r, a);
    va_end(ap);
}

/* The connection flags: our broker at host, trusting cafile, as device. */
static void conn_to(run *r, const char *device, const char *host, const char *cafile)
{
    char crt[160], key[160];
    snprintf(crt, sizeof crt, "%s%s.crt", CERTS, device);
    snprintf(key, sizeof key, "%s%s.key", CERTS, device);
    more(r, "-h");
    more(r, host);
    more(r, "-p");
    more(r, port);
    more(r, "--cafile");
    more(r, cafile);
    more(r, "--cert");
    more(r, crt);
    more(r, "--key");
    more(r, key);
}

/* The usual: localhost, trusting Root A. */
static void conn(run *r, const char *device)
{
    conn_to(r, device, "localhost", CERTS "root-a.crt");
}

static void start(run *r, const char *stdin_text)
{
    static int n;
    char in_path[200];
    int fd;
    n++;
    snprintf(r->out_path, sizeof r->out_path, "%s/out.%d", dir, n);
    snprintf(r->err_path, sizeof r->err_path, "%s/err.%d", dir, n);
    snprintf(in_path, sizeof in_path, "%s/in.%d", dir, n);
    fd = open(in_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    if (stdin_text != NULL)
        ck_assert_int_eq(write(fd, stdin_text, strlen(stdin_text)), (ssize_t)strlen(stdin_text));
    close(fd);
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
        int in = open(in_path, O_RDONLY);
        int out = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(r->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(r->argv[0], r->argv);
        _exit(127);
    }
}

static void slurp_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f != NULL) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

/* Waits (at most seconds) and collects what it printed. */
static int finish(run *r, int seconds)
{
    int i, st;
    for (i = 0; i < seconds * 50; i++) {
        if (waitpid(r->pid, &st, WNOHANG) == r->pid)
            break;
        sleep_ms(20);
    }
    if (i == seconds * 50) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, &st, 0);
        r->status = -1;
    } else {
        r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    slurp_text(r->out_path, r->out, sizeof r->out);
    slurp_text(r->err_path, r->err, sizeof r->err);
    unlink(r->out_path);
    unlink(r->err_path);
    return r->status;
}

static int go(run *r, const char *stdin_text)
{
    start(r, stdin_text);
    return finish(r, 20);
}

/* The broker has seen a SUBSCRIBE from client id (its log, at most 5 s). */
static void wait_subscribed(const char *id)
{
    char path[200], want[96], log[65536];
    int i;
    snprintf(path, sizeof path, "%s/mosquitto.log", brk.dir);
    snprintf(want, sizeof want, "Received SUBSCRIBE from %s", id);
    for (i = 0; i < 250; i++) {
        slurp_text(path, log, sizeof log);
        if (strstr(log, want) != NULL)
            return;
        sleep_ms(20);
    }
    ck_abort_msg("the broker never saw %s subscribe", id);
}

static void one_sentence(const run *r, const char *words)
{
    const char *nl = strchr(r->err, '\n');
    ck_assert_msg(strstr(r->err, words) != NULL, "stderr \"%s\" lacks \"%s\"", r->err, words);
    ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: \"%s\"", r->err);
}

static void stop_all(void)
{
    broker_stop(&brk);
}

static void start_broker(const char *extra_lines)
{
    char lines[2048], tls[1024];
    broker_tls_lines(tls, sizeof tls, "server-a-chain.pem", "server-a.key", extra_lines == NULL);
    snprintf(lines, sizeof lines, "%s%s", tls, extra_lines != NULL ? extra_lines : "");
    ck_assert_int_eq(broker_start(&brk, "127.0.0.1", lines), 0);
    snprintf(port, sizeof port, "%u", (unsigned)brk.port);
}

static void setup(void)
{
    static int registered;
    const char *tmp = getenv("MQTLS_TEST_TMP");
    if (!registered++)
        atexit(stop_all);
    snprintf(dir, sizeof dir, "%s/mqtls-tools-XXXXXX", tmp != NULL ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    start_broker(NULL);
}

static void teardown(void)
{
    char p[256];
    int i;
    broker_stop(&brk);
    for (i = 0; i < 64; i++) {
        snprintf(p, sizeof p, "%s/in.%d", dir, i);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/payload.bin", dir);
    unlink(p);
    rmdir(dir);
}

START_TEST(messages_go_through_and_nothing_else_is_printed_when_piped)
{
    run sub, pub;
    char file[200];
    FILE *f;

    args(&sub, SUB, NULL);
    conn(&sub, "device-002");
    {
        static const char *const rest[] = {"-t", "tools/#", "-q", "2", "-v", "-C", "4", "-i", "tsub"};
        size_t i;
        for (i = 0; i < sizeof rest / sizeof rest[0]; i++)
            more(&sub, rest[i]);
    }
    start(&sub, NULL);
    wait_subscribed("tsub");

    args(&pub, PUB, "-t", "tools/a", "-m", "hello", "-q", "1", NULL);
    conn(&pub, "device-001");
    ck_assert_msg(go(&pub, NULL) == 0, "exit status: %s", pub.err);
    ck_assert_str_eq(pub.err, "");
    ck_assert_str_eq(pub.out, "");

    snprintf(file, sizeof file, "%s/payload.bin", dir);
    f = fopen(file, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("from a file", f);
    fclose(f);
    args(&pub, PUB, "-t", "tools/b", "-f", file, "-q", "2", NULL);
    conn(&pub, "device-001");
    ck_assert_msg(go(&pub, NULL) == 0, "exit status: %s", pub.err);

    args(&pub, PUB, "-t", "tools/c", "-l", "-q", "1", NULL);
    conn(&pub, "device-001");
    ck_assert_int_eq(go(&pub, "line one\nline two\n"), 0);
    ck_assert_str_eq(pub.err, ""); /* no progress line into a pipe */

    ck_assert_int_eq(finish(&sub, 20), 0);
    ck_assert_str_eq(sub.out, "tools/a hello\ntools/b from a file\ntools/c line one\n"
                              "tools/c line two\n");
    ck_assert_str_eq(sub.err, "");
}
END_TEST

START_TEST(repeated_and_retained_messages)
{
    run sub, pub;
    args(&pub, PUB, "-t", "tools/kept", "-m", "kept", "-r", "-q", "1", NULL);
    conn(&pub, "device-001");
    ck_assert_msg(go(&pub, NULL) == 0, "exit status: %s", pub.err);
    args(&sub, SUB, "-t", "tools/#", "-C", "201", "-i", "rsub", NULL);
    conn(&sub, "device-002");
    start(&sub, NULL);
    wait_subscribed("rsub");
    args(&pub, PUB, "-t", "tools/many", "-m", "x", "-C", "200", "-q", "1", NULL);
    conn(&pub, "device-001");
    ck_assert_msg(go(&pub, NULL) == 0, "exit status: %s", pub.err);
    ck_assert_int_eq(finish(&sub, 20), 0);
    ck_assert_msg(strncmp(sub.out, "kept\nx\nx\n", 9) == 0, "%.40s", sub.out);
    ck_assert_uint_eq(strlen(sub.out), 5 + 200 * 2);
}
END_TEST

START_TEST(each_failure_is_one_sentence_with_its_reason)
{
    run r;
    /* Trusting only the next root. */
    args(&r, PUB, "-t", "x", "-m", "y", NULL);
    conn_to(&r, "device-001", "localhost", CERTS "bundle-next.pem");
    ck_assert_msg(go(&r, NULL) == 1, "exit status: %s", r.err);
    one_sentence(&r, "server certificate is not signed by a trusted CA");
    one_sentence(&r, "(MQTLS_ERR_TLS_CERT_UNTRUSTED)");
    /* By address: the certificate names localhost and IP:127.0.0.1, which
     * every build matches (2.28 through mqtls's own iPAddress check). */
    args(&r, PUB, "-t", "x", "-m", "y", NULL);
    conn_to(&r, "device-001", "127.0.0.1", CERTS "root-a.crt");
    ck_assert_msg(go(&r, NULL) == 0, "exit status: %s", r.err);
    /* No client certificate for a broker that requires one. */
    args(&r, PUB, "-h", "localhost", "-p", port, "--cafile", CERTS "root-a.crt", "-t", "x", "-m",
         "y", NULL);
    ck_assert_msg(go(&r, NULL) == 1, "exit status: %s", r.err);
    one_sentence(&r, "cannot connect to localhost:");
    one_sentence(&r, "(MQTLS_ERR_TLS_");
    /* Nothing listening. */
    broker_stop(&brk);
    args(&r, SUB, "-t", "x", NULL);
    conn(&r, "device-001");
    ck_assert_msg(go(&r, NULL) == 1, "exit status: %s", r.err);
    one_sentence(&r, "connection refused (nothing listens there) (MQTLS_ERR_NET_REFUSED)");
}
END_TEST

START_TEST(a_connack_refusal_is_named)
{
    run r;
    broker_stop(&brk);
    /* TLS without client certificates, and no anonymous users. */
    start_broker("allow_anonymous false\n");
    args(&r, PUB, "-h", "localhost", "-p", port, "--cafile", CERTS "root-a.crt", "-t", "x", "-m",
         "y", NULL);
    ck_assert_msg(go(&r, NULL) == 1, "exit status: %s", r.err);
    one_sentence(&r, "the broker at localhost:");
    one_sentence(&r, "refused the connection: ");
    one_sentence(&r, "(MQTLS_ERR_CONNACK_");
}
END_TEST

START_TEST(insecure_warns_every_time_and_other_tls_flags_work)
{
    run r;
    int i;
    for (i = 0; i < 2; i++) {
        args(&r, PUB, "-t", "x", "-m", "y", "--insecure", NULL);
        conn_to(&r, "device-001", "127.0.0.1", CERTS "root-a.crt"); /* fails the name check */
        ck_assert_msg(go(&r, NULL) == 0, "exit status: %s", r.err);
        one_sentence(&r, "WARNING: --insecure: the broker's certificate and name are not checked");
    }
    /* Several bundle files; ALPN offered; a maximum fragment length. */
    args(&r, PUB, "-h", "localhost", "-p", port, "--ca-bundle", CERTS "other-ca.crt",
         "--ca-bundle", CERTS "root-a.crt", "--cert", CERTS "device-001.crt", "--key",
         CERTS "device-001.key", "--alpn", "mqtt", "--tls-max-frag", "2048", "-t", "x", "-m", "y",
         "-q", "2", NULL);
    ck_assert_msg(go(&r, NULL) == 0, "exit status: %s", r.err);
    ck_assert_str_eq(r.err, "");
}
END_TEST

/* Every value is checked before anything connects, and the sentence
 * names the flag and the value; --help and --version answer on stdout. */
START_TEST(bad_usage_exits_2_and_says_why)
{
    static const struct {
        const char *tool, *a[9], *says;
    } cases[] = {
        {PUB, {"-m", "y", NULL}, "a topic (-t) is needed"},
        {PUB, {"-t", "x", "-m", "y", "-q", "3", NULL}, "invalid QoS given for -q: '3'"},
        {PUB, {"-t", "x", "-m", "y", "-p", "70000", NULL}, "invalid port given for -p: '70000'"},
        {PUB, {"-t", "x", "-m", "y", "-k", "-1", NULL}, "invalid keep-alive given for -k: '-1'"},
        {PUB, {"-t", "x", "-m", "y", "-f", "z", NULL}, "exactly one of -m, -f, -s, -n, -l"},
        {PUB, {"-t", "a/+", "-m", "y", NULL}, "invalid topic 'a/+': a topic to publish to cannot hold"},
        {SUB, {"-t", "a/#/b", NULL}, "invalid filter 'a/#/b': '#' must be the last level"},
        {SUB, {"-t", "a/b+", NULL}, "invalid filter 'a/b+': '+' must be a whole level"},
        {SUB, {"-t", "", NULL}, "a topic cannot be empty"},
        {PUB, {"-t", "x", "-n", "-V", "mqttv5", NULL}, "-V mqttv5: mqtls speaks MQTT 3.1.1 only"},
        {PUB, {"-t", "x", "-n", "-x", "60", NULL}, "-x is an MQTT v5 option"},
        {SUB, {"-t", "x", "-c", NULL}, "-c keeps a session by client id"},
        {PUB, {"-t", "x", "-n", "--will-qos", "1", NULL}, "need --will-topic"},
        {PUB, {"-t", "x", "-n", "--will-topic", "a/#", NULL}, "invalid will topic 'a/#'"},
        {PUB, {"-L", "http://h/t", "-n", NULL}, "does not start with mqtt:// or mqtts://"},
        {PUB, {"-t", "x", "-n", "-A", "eth0", NULL}, "-A: 'eth0' is not an IPv4 or IPv6 address"},
        {SUB, {"-t", "x", "--unix", "", NULL}, "--unix: '' is not a usable socket path"},
        {SUB, {"-t", "x", "--cert", "y", "--key", "z", NULL}, "--capath or --ca-bundle (or --insecure)"},
        {SUB, {"-t", "x", "--cafile", "x", "--cert", "y", NULL}, "--cert and --key go together"},
        {PUB, {"-t", "x", "-m", "y", "--tls-version", "tlsv1.1", "--cafile", "x", NULL}, "tlsv1.2 or tlsv1.3"},
        {PUB, {"-t", "x", "-n", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL}, "is not a suite this mbedTLS offers (IANA names"},
        {PUB, {"-t", "x", "-n", "--keyform", "engine", NULL}, "--keyform engine: pem, der or pkcs11 (a --key pkcs11: URI)"},
        {SUB, {"-t", "x", "--random-filter", "0", NULL}, "invalid chance given for --random-filter: '0'"},
        {PUB, {"-t", "x", "-n", "--bogus", NULL}, "--bogus: a flag it does not know"},
    };
    size_t i;
    run r;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].a;
        args(&r, cases[i].tool, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], NULL);
        ck_assert_msg(go(&r, NULL) == 2, "case %zu: exit status: %s", i, r.err);
        ck_assert_msg(strstr(r.err, cases[i].says) != NULL, "case %zu: said: %s", i, r.err);
        ck_assert_msg(strchr(r.err, '\n') == strrchr(r.err, '\n'), "case %zu: one line: %s", i, r.err);
    }
    args(&r, PUB, "-t", "x", "-m", "y", "--quiet", "-q", "3", NULL);
    ck_assert_int_eq(go(&r, NULL), 2);
    ck_assert_str_eq(r.err, ""); /* --quiet: nothing, whatever the order */
    args(&r, PUB, "-t", "x", "-m", "y", "--cafile", "/nonexistent", NULL);
    ck_assert_msg(go(&r, NULL) == 1, "exit status: %s", r.err);
    one_sentence(&r, "cannot use /nonexistent");
    args(&r, PUB, "--help", NULL);
    ck_assert_int_eq(go(&r, NULL), 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: mqtls-pub -t TOPIC"));
    ck_assert_ptr_nonnull(strstr(r.out, "--will-topic"));
    ck_assert_ptr_nonnull(strstr(r.out, "--repeat-delay"));
    args(&r, SUB, "--version", NULL);
    ck_assert_int_eq(go(&r, NULL), 0);
    ck_assert_ptr_nonnull(strstr(r.out, "mqtls-sub "));
}
END_TEST

START_TEST(telemetry_rides_through_a_broker_restart)
{
    run t;
    char journal[256];
    snprintf(journal, sizeof journal, "%stelemetry.journal", CERTS);
    unlink(journal); /* a fresh device */
    args(&t, MQTLS_BUILD_DIR "/examples/telemetry", port, CERTS, "30", "100", NULL);
    start(&t, NULL);
    sleep_ms(1200);
    ck_assert_int_eq(broker_restart(&brk, "127.0.0.1"), 0);
    ck_assert_int_eq(finish(&t, 40), 0);
    ck_assert_msg(strstr(t.out, "telemetry: 30 of 30 readings acknowledged") != NULL, "%s", t.out);
    ck_assert_msg(strstr(t.err, "connection ended") != NULL && strstr(t.err, "reconnected") != NULL,
                  "%s", t.err);
    /* About one status line a second over the 3 s run, not one per reading. */
    {
        int lines = 0;
        const char *p;
        for (p = t.out; (p = strstr(p, ", sent ")) != NULL; p++)
            lines++;
        ck_assert_msg(lines >= 3 && lines <= 12, "%d status lines:\n%s", lines, t.out);
    }
}
END_TEST

/* On a terminal (a pty from script(1)), -C shows progress on stderr. */
START_TEST(long_runs_show_progress_on_a_terminal)
{
    run r;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s -h localhost -p %s --cafile %sroot-a.crt --cert %sdevice-001.crt --key "
             "%sdevice-001.key -t tools/p -m x -q 1 -C 300",
             PUB, port, CERTS, CERTS, CERTS);
    args(&r, "/usr/bin/script", "-qec", cmd, "/dev/null", NULL);
    ck_assert_msg(go(&r, NULL) == 0, "exit status: %s", r.err);
    ck_assert_msg(strstr(r.out, "acknowledged 300/300") != NULL, "%s", r.out);
}
END_TEST

Suite *tools_suite(void)
{
    Suite *s = suite_create("tools");
    TCase *tc = tcase_create("mosquitto");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, messages_go_through_and_nothing_else_is_printed_when_piped);
    tcase_add_test(tc, repeated_and_retained_messages);
    tcase_add_test(tc, each_failure_is_one_sentence_with_its_reason);
    tcase_add_test(tc, a_connack_refusal_is_named);
    tcase_add_test(tc, insecure_warns_every_time_and_other_tls_flags_work);
    tcase_add_test(tc, bad_usage_exits_2_and_says_why);
    tcase_add_test(tc, telemetry_rides_through_a_broker_restart);
    tcase_add_test(tc, long_runs_show_progress_on_a_terminal);
    suite_add_tcase(s, tc);
    return s;
}
