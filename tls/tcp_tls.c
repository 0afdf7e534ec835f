/* SPDX-License-Identifier: Apache-2.0 */
#include "tls/tcp_tls.h"

#include <string.h>

/* A TLS 1.3 ticket arrived: it is the session to offer from now on. */
static void save_ticket(void *ctx, mqtls_tls *tls)
{
    mqtls_tcp_tls *s = ctx;
    size_t len = 0;
    if (s->session != NULL &&
        mqtls_tls_session_save(tls, s->session, s->session_cap, &len) == MQTLS_OK)
        s->session_len = len;
}

void mqtls_tcp_tls_init(mqtls_tcp_tls *s, mqtls_tls_config *cfg, const char *host, uint16_t port)
{
    if (s == NULL)
        return;
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->host = host;
    s->port = port;
    s->connect_timeout_ms = 10000;
    mqtls_tls_init(&s->tls);
    (void)mqtls_tls_set_session_hook(&s->tls, save_ticket, s);
    mqtls_tcp_init(&s->tcp);
}

int mqtls_tcp_tls_open(void *ctx, mqtls_transport *out)
{
    mqtls_tcp_tls *s = ctx;
    mqtls_transport lower;
    int ret;

    if (s == NULL || out == NULL || s->cfg == NULL || s->host == NULL)
        return MQTLS_ERR_INVALID_ARG;
    mqtls_tls_free(&s->tls); /* the previous connection, if any */
    mqtls_tls_init(&s->tls);
    (void)mqtls_tls_set_session_hook(&s->tls, save_ticket, s);
    mqtls_tcp_reset(&s->tcp); /* a fresh connection, with the caller's options */
    if (s->session != NULL && s->session_len > 0 &&
        mqtls_tls_session_load(&s->tls, s->session, s->session_len) != MQTLS_OK)
        s->session_len = 0; /* unusable: a full handshake, and a fresh save */
    ret = mqtls_tcp_connect(&s->tcp, s->host, s->port, s->connect_timeout_ms);
    if (ret == MQTLS_OK) {
        mqtls_tcp_transport(&s->tcp, &lower);
        ret = mqtls_tls_connect(&s->tls, s->cfg, &lower,
                                s->tls_name != NULL ? s->tls_name : s->host);
        if (ret != MQTLS_OK)
            mqtls_tcp_close(&s->tcp);
    }
    s->last_error = ret;
    if (ret == MQTLS_OK && s->session != NULL && !mqtls_tls_get_report(&s->tls)->resumed) {
        ret = mqtls_tls_session_save(&s->tls, s->session, s->session_cap, &s->session_len);
        if (ret != MQTLS_OK && ret != MQTLS_ERR_TLS_NO_TICKET)
            s->session_len = 0;
        ret = MQTLS_OK; /* TLS 1.3: the ticket comes with a read (save_ticket) */
    }
    return ret == MQTLS_OK ? mqtls_tls_transport(&s->tls, out) : ret;
}

void mqtls_tcp_tls_resume(mqtls_tcp_tls *s, uint8_t *buf, size_t cap, size_t len)
{
    if (s == NULL)
        return;
    s->session = buf;
    s->session_cap = buf != NULL ? cap : 0;
    s->session_len = buf != NULL && len <= cap ? len : 0;
}

void mqtls_tcp_tls_free(mqtls_tcp_tls *s)
{
    if (s != NULL)
        mqtls_tls_free(&s->tls);
}
