/* SPDX-License-Identifier: Apache-2.0 */
/* Makes a broker send small TLS records: preloaded into Mosquitto
 * (LD_PRELOAD), it sets OpenSSL's max_send_fragment on every connection
 * (SSL_set_max_send_fragment(), 2048 bytes by default, or
 * MQTLS_MAX_SEND_FRAGMENT). Mosquitto has no option for it, OpenSSL's
 * configuration commands have none, and OpenSSL does not implement
 * record_size_limit (RFC 8449), so a TLS 1.3 client cannot ask for small
 * records: this is how the firmware profile measures a TLS 1.3 device
 * whose input buffer is smaller than 16 KB (scripts/fwprofile.sh). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
SSL *SSL_new(SSL_CTX *ctx);
long SSL_ctrl(SSL *s, int cmd, long larg, void *parg);

#define CTRL_SET_MAX_SEND_FRAGMENT 52 /* SSL_CTRL_SET_MAX_SEND_FRAGMENT */

SSL *SSL_new(SSL_CTX *ctx)
{
    SSL *(*real)(SSL_CTX *) = (SSL * (*)(SSL_CTX *)) dlsym(RTLD_NEXT, "SSL_new");
    const char *env = getenv("MQTLS_MAX_SEND_FRAGMENT");
    SSL *s = real != NULL ? real(ctx) : NULL;
    if (s != NULL)
        (void)SSL_ctrl(s, CTRL_SET_MAX_SEND_FRAGMENT, env != NULL ? atol(env) : 2048, NULL);
    return s;
}
