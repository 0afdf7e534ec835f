/* SPDX-License-Identifier: Apache-2.0 */
/* The mbedTLS versions, told apart here only (tls_compat.h): X.509 and
 * TLS. The crypto calls are in tls_compat_crypto.c. */
#include "tls/tls_compat.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/bignum.h>
#include <mbedtls/cipher.h>
#include <mbedtls/entropy.h>
#include <mbedtls/x509.h>
#include <mbedtls/platform_util.h>

#include "tls/tls_internal.h"


/* ---- certificates ----------------------------------------------------------------- */

bool mqtls_crt_is_ca(const mbedtls_x509_crt *crt)
{
    /* Private in 3.6 with no accessor; read where the parser put it. */
    return crt->MQTLS_PRIV(ca_istrue) != 0;
}

#if defined(MBEDTLS_X509_CSR_PARSE_C)
int mqtls_csr_self_signed(const mbedtls_x509_csr *csr)
{
    /* 3.6 keeps the signature's algorithm and value private and offers no
     * call that checks a CSR's self-signature. */
    const mbedtls_md_type_t md_type = csr->MQTLS_PRIV(sig_md);
    const mbedtls_pk_type_t pk_type = csr->MQTLS_PRIV(sig_pk);
    const void *opts = csr->MQTLS_PRIV(sig_opts);
    const mbedtls_x509_buf *sig = &csr->MQTLS_PRIV(sig);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(md_type);
    if (md == NULL || mbedtls_md(md, csr->cri.p, csr->cri.len, hash) != 0)
        return -1;
    return mbedtls_pk_verify_ext(pk_type, opts, (mbedtls_pk_context *)(uintptr_t)&csr->pk,
                                 md_type, hash, mbedtls_md_get_size(md), sig->p, sig->len) == 0
               ? 0
               : -1;
}

#endif

#if defined(MBEDTLS_X509_CRT_WRITE_C)
mbedtls_asn1_named_data **mqtls_x509write_crt_issuer(mbedtls_x509write_cert *w)
{
    return &w->MQTLS_PRIV(issuer);
}

mbedtls_asn1_named_data **mqtls_x509write_crt_subject(mbedtls_x509write_cert *w)
{
    return &w->MQTLS_PRIV(subject);
}
#endif

/* ---- TLS ---------------------------------------------------------------------------- */

int mqtls_ssl_conf_versions(mbedtls_ssl_config *conf, unsigned versions)
{
#if MQTLS_MBEDTLS_3
#if !defined(MBEDTLS_SSL_PROTO_TLS1_3)
    versions &= ~MQTLS_TLS_1_3;
#endif
#if !defined(MBEDTLS_SSL_PROTO_TLS1_2)
    versions &= ~MQTLS_TLS_1_2;
#endif
    if (versions == 0)
        return -1;
    mbedtls_ssl_conf_min_tls_version(conf, (versions & MQTLS_TLS_1_2) ? MBEDTLS_SSL_VERSION_TLS1_2
                                                                         : MBEDTLS_SSL_VERSION_TLS1_3);
    mbedtls_ssl_conf_max_tls_version(conf, (versions & MQTLS_TLS_1_3) ? MBEDTLS_SSL_VERSION_TLS1_3
                                                                         : MBEDTLS_SSL_VERSION_TLS1_2);
    return 0;
#else
    if ((versions & MQTLS_TLS_1_2) == 0)
        return -1; /* 2.28 has no TLS 1.3 client */
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    return 0;
#endif
}

void mqtls_ssl_conf_ticket_signal(mbedtls_ssl_config *conf)
{
#if MQTLS_MBEDTLS_3 && defined(MBEDTLS_SSL_PROTO_TLS1_3) && defined(MBEDTLS_SSL_SESSION_TICKETS) && \
    MBEDTLS_VERSION_NUMBER >= 0x03060100
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#else
    (void)conf;
#endif
}

int mqtls_ssl_setup(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf)
{
    int ret = mbedtls_ssl_setup(ssl, conf);
    if (ret != 0) {
        /* mbedTLS 3.6.6 with MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH: when the
         * handshake state was allocated and a later allocation failed, the
         * error path clears ssl->conf but keeps the handshake, and
         * mbedtls_ssl_free() then reads the configuration through the NULL
         * pointer. Give it the configuration back, free, start clean. */
        ssl->MQTLS_PRIV(conf) = conf;
        mbedtls_ssl_free(ssl);
        mbedtls_ssl_init(ssl);
    }
    return ret;
}

void mqtls_ssl_set_ca_chain(mbedtls_ssl_context *ssl, mbedtls_x509_crt *chain)
{
    /* Meant for a server's SNI callback, but the client's verification
     * reads the same per-handshake chain first (ssl_tls.c in both
     * versions), so a shared configuration is never written. */
    mbedtls_ssl_set_hs_ca_chain(ssl, chain, NULL);
}

/* The handshake state is private in 3.6; 3.6 offers is_handshake_over()
 * but not "before ServerHello", which the failure reasons need. */
static int state_of(const mbedtls_ssl_context *ssl)
{
    return ssl->MQTLS_PRIV(state);
}

bool mqtls_ssl_handshake_over(const mbedtls_ssl_context *ssl)
{
#if MQTLS_MBEDTLS_3
    /* 3.6: only post-handshake states follow HANDSHAKE_OVER. */
    return state_of(ssl) >= MBEDTLS_SSL_HANDSHAKE_OVER;
#else
    /* 2.28: MBEDTLS_SSL_SERVER_NEW_SESSION_TICKET follows HANDSHAKE_OVER
     * in the enum but is the middle of the handshake (our reading of the
     * server's ticket, before its ChangeCipherSpec and Finished). */
    return state_of(ssl) == MBEDTLS_SSL_HANDSHAKE_OVER;
#endif
}

unsigned mqtls_ssl_version(const mbedtls_ssl_context *ssl)
{
#if MQTLS_MBEDTLS_3
    switch (mbedtls_ssl_get_version_number(ssl)) {
    case MBEDTLS_SSL_VERSION_TLS1_2: return 12;
    case MBEDTLS_SSL_VERSION_TLS1_3: return 13;
    default: return 0;
    }
#else
    return ssl->minor_ver == MBEDTLS_SSL_MINOR_VERSION_3 ? 12 : 0;
#endif
}

int mqtls_ssl_max_fragment(const mbedtls_ssl_context *ssl)
{
#if MQTLS_MBEDTLS_3
    /* 3.6 has no getter for the negotiated length alone; this is the
     * same figure, bounded by our own buffer too. */
    return mbedtls_ssl_get_max_out_record_payload(ssl);
#else
    return (int)mbedtls_ssl_get_output_max_frag_len(ssl);
#endif
}

const char *mqtls_ssl_hostname(const mbedtls_ssl_context *ssl)
{
    /* Private in 3.6; mbedtls_ssl_get_hostname() wants a non-const context. */
    return ssl->MQTLS_PRIV(hostname);
}

unsigned mqtls_ssl_alert(const mbedtls_ssl_context *ssl)
{
    /* No API returns a received alert: it is the second byte of the
     * message mbedTLS just read. */
    const unsigned char *m = ssl->MQTLS_PRIV(in_msg);
    return m != NULL ? m[1] : 0;
}

int mqtls_ssl_record_minor(const mbedtls_ssl_context *ssl)
{
    /* The record header's version: private, no accessor. */
    const unsigned char *h = ssl->MQTLS_PRIV(in_hdr);
    return h != NULL && h[1] == 3 ? h[2] : -1;
}

bool mqtls_ssl_before_server_hello(const mbedtls_ssl_context *ssl)
{
    return state_of(ssl) <= MBEDTLS_SSL_SERVER_HELLO;
}

int mqtls_ssl_fail_kind(int mret)
{
    switch (mret) {
#if MQTLS_MBEDTLS_3
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE: return MQTLS_FAIL_NO_COMMON;
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION: return MQTLS_FAIL_OLD_VERSION;
#else
    case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO: return MQTLS_FAIL_NO_COMMON;
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION: return MQTLS_FAIL_OLD_VERSION;
#endif
    default:
        if (mqtls_is_out_of_memory(mret))
            return MQTLS_FAIL_NO_MEMORY;
        return mqtls_ssl_is_bad_record(mret) ? MQTLS_FAIL_BAD_RECORD : 0;
    }
}

bool mqtls_is_out_of_memory(int mret)
{
    /* A code may be a high-level one plus a low-level one (mbedTLS adds
     * them): each part is checked. */
    const int high = -((-mret) & 0xFF80), low = -((-mret) & 0x007F);
    int i;
    for (i = 0; i < 3; i++) {
        const int e = i == 0 ? mret : i == 1 ? high : low;
        switch (e) {
        case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        case MBEDTLS_ERR_MD_ALLOC_FAILED:
        case MBEDTLS_ERR_PK_ALLOC_FAILED:
        case MBEDTLS_ERR_X509_ALLOC_FAILED:
        case MBEDTLS_ERR_MPI_ALLOC_FAILED:
        case MBEDTLS_ERR_ECP_ALLOC_FAILED:
        case MBEDTLS_ERR_CIPHER_ALLOC_FAILED: return true;
        default: break;
        }
    }
    return false;
}

bool mqtls_ssl_is_new_ticket(int mret)
{
#if MQTLS_MBEDTLS_3
    return mret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET;
#else
    (void)mret;
    return false;
#endif
}

bool mqtls_ssl_is_bad_record(int mret)
{
    /* A record too big to fetch is BAD_INPUT_DATA in 2.28 ("more data
     * than fits") and INVALID_RECORD or BUFFER_TOO_SMALL in 3.6. */
    return mret == MBEDTLS_ERR_SSL_INVALID_RECORD || mret == MBEDTLS_ERR_SSL_BAD_INPUT_DATA
#if MQTLS_MBEDTLS_3
           || mret == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL
#endif
        ;
}
