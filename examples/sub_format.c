/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-sub's output: a message as mosquitto_sub prints it, plain, with
 * -v, or through a -F format (its %-codes for MQTT 3.1.1, its backslash
 * escapes, %j as JSON, --pretty). Not part of the library. */
#define _POSIX_C_SOURCE 200809L

#include "examples/sub_format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A string as JSON: quoted, with mosquitto's (cJSON's) escapes. */
static void json_string(FILE *out, const char *p, size_t n)
{
    size_t i;
    fputc('"', out);
    for (i = 0; i < n; i++) {
        const unsigned char ch = (unsigned char)p[i];
        switch (ch) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (ch < 0x20)
                fprintf(out, "\\u%04x", ch);
            else
                fputc(ch, out);
        }
    }
    fputc('"', out);
}

/* "2026-12-06T20:16:38.619327Z+0000", as mosquitto_sub's %j. */
static void iso_time(FILE *out, const struct timespec *t, int micro)
{
    struct tm tm;
    char buf[48];
    time_t s = t->tv_sec;
    gmtime_r(&s, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (micro)
        fprintf(out, "%s.%06ldZ+0000", buf, t->tv_nsec / 1000);
    else
        fprintf(out, "%s+0000", buf);
}

static void json(FILE *out, const mqtls_publish *m, const struct timespec *t, int pretty)
{
    const char *sep = pretty ? ":\t" : ":", *nl = pretty ? ",\n\t" : ",";
    fputs(pretty ? "{\n\t\"tst\"" : "{\"tst\"", out);
    fputs(sep, out);
    fputc('"', out);
    iso_time(out, t, 1);
    fputc('"', out);
    fprintf(out, "%s\"topic\"%s", nl, sep);
    json_string(out, m->topic.ptr, m->topic.len);
    fprintf(out, "%s\"qos\"%s%u%s\"retain\"%s%d%s\"payloadlen\"%s%zu%s\"payload\"%s", nl, sep,
            (unsigned)m->qos, nl, sep, m->retain ? 1 : 0, nl, sep, m->payload.len, nl, sep);
    json_string(out, (const char *)m->payload.ptr, m->payload.len);
    fputs(pretty ? "\n}" : "}", out);
}

void sub_print(FILE *out, const sub_format *f, const mqtls_publish *m)
{
    struct timespec t;
    const char *p;
    size_t i;

    clock_gettime(CLOCK_REALTIME, &t);
    if (f->format == NULL) {
        if (f->verbose) {
            fwrite(m->topic.ptr, 1, m->topic.len, out);
            fputc(' ', out);
        }
        fwrite(m->payload.ptr, 1, m->payload.len, out);
    } else {
        for (p = f->format; *p != '\0'; p++) {
            if (*p == '\\' && p[1] != '\0') {
                static const char from[] = "\\0aenrtv", to[] = "\\\0\a\033\n\r\t\v";
                const char *k = strchr(from, p[1]);
                if (k != NULL && p[1] != '\0') {
                    fputc(to[k - from], out);
                    p++;
                    continue;
                }
            }
            if (*p != '%' || p[1] == '\0') {
                fputc(*p, out);
                continue;
            }
            switch (*++p) {
            case '%': fputc('%', out); break;
            case 't': fwrite(m->topic.ptr, 1, m->topic.len, out); break;
            case 'p': fwrite(m->payload.ptr, 1, m->payload.len, out); break;
            case 'q': fprintf(out, "%u", (unsigned)m->qos); break;
            case 'r': fprintf(out, "%d", m->retain ? 1 : 0); break;
            case 'm': fprintf(out, "%u", (unsigned)m->packet_id); break;
            case 'l': fprintf(out, "%zu", m->payload.len); break;
            case 'x':
            case 'X':
                for (i = 0; i < m->payload.len; i++)
                    fprintf(out, *p == 'x' ? "%02x" : "%02X", m->payload.ptr[i]);
                break;
            case 'j': json(out, m, &t, f->pretty); break;
            case 'I': iso_time(out, &t, 0); break;
            case 'U': fprintf(out, "%lld.%09ld", (long long)t.tv_sec, t.tv_nsec); break;
            default: fputc('%', out); fputc(*p, out); /* not one of ours: as written */
            }
        }
    }
    if (!f->no_eol)
        fputc('\n', out);
    fflush(out);
}

const char *sub_format_check(const char *format)
{
    const char *p;
    for (p = format; *p != '\0'; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '\0')
            return "ends in a lone '%'";
        if (strchr("%tpqrmlxXjIU", p[1]) == NULL)
            return "has a %-code that is not one of %% %t %p %q %r %m %l %x %X %j %I %U "
                   "(MQTT v5 codes have no meaning in 3.1.1)";
        p++;
    }
    return NULL;
}
