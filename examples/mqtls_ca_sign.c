/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls-ca-sign: the operator's tool for CA updates (tls/ca_update.h).
 *
 *   mqtls-ca-sign -k update-signer.key -V 7 [-d DAYS | -e UNIXTIME]
 *                 [-P passphrase] -o update.bin bundle.pem [more.pem ...]
 *
 * Concatenates the bundle files (PEM or DER CA certificates), checks that
 * every certificate parses and is a CA (a device would refuse the update
 * otherwise), and writes the signed update: version -V, expiring in -d
 * days (default 30) or at -e. Publish the file to the devices' update
 * topic, e.g. `mosquitto_pub -t devices/ca/update -f update.bin -q 1 -r`.
 * Exit status 0 on success, 1 on failure (with the reason), 2 on usage. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tls/ca_update.h"

#define MAX_BUNDLE (64u * 1024u)

static int usage(void)
{
    fprintf(stderr, "usage: mqtls-ca-sign -k KEY -V VERSION [-d DAYS | -e UNIXTIME] "
                    "[-P PASSPHRASE] -o OUT BUNDLE...\n");
    return 2;
}

static int append_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (f == NULL) {
        fprintf(stderr, "mqtls-ca-sign: cannot read %s\n", path);
        return -1;
    }
    n = fread(buf + *len, 1, cap - *len, f);
    if (!feof(f)) {
        fprintf(stderr, "mqtls-ca-sign: %s: bundle larger than %u bytes\n", path, MAX_BUNDLE);
        fclose(f);
        return -1;
    }
    fclose(f);
    *len += n;
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t bundle[MAX_BUNDLE], key[16384], out[MAX_BUNDLE + 128];
    const char *key_path = NULL, *out_path = NULL, *pass = NULL;
    long long version = -1, expires = -1, days = 30;
    size_t bundle_len = 0, key_len = 0, out_len = 0, count = 0, bad = 0;
    mqtls_castore check;
    FILE *f;
    int opt, ret;

    while ((opt = getopt(argc, argv, "k:V:d:e:P:o:h")) != -1) {
        switch (opt) {
        case 'k': key_path = optarg; break;
        case 'V': version = strtoll(optarg, NULL, 10); break;
        case 'd': days = strtoll(optarg, NULL, 10); break;
        case 'e': expires = strtoll(optarg, NULL, 10); break;
        case 'P': pass = optarg; break;
        case 'o': out_path = optarg; break;
        default: return usage();
        }
    }
    if (key_path == NULL || out_path == NULL || optind >= argc || version < 1 ||
        version > 0xffffffffLL || days < 0)
        return usage();
    if (expires < 0)
        expires = (long long)time(NULL) + days * 86400LL;
    for (; optind < argc; optind++)
        if (append_file(argv[optind], bundle, sizeof bundle, &bundle_len) != 0)
            return 1;
    if (append_file(key_path, key, sizeof key, &key_len) != 0)
        return 1;

    /* What a device will do with it: refuse it here rather than there. */
    mqtls_castore_init(&check);
    ret = mqtls_castore_load(&check, MQTLS_CA_STAGED, bundle, bundle_len, 0, &bad);
    count = mqtls_castore_count(&check, MQTLS_CA_STAGED);
    mqtls_castore_free(&check);
    if (ret != MQTLS_OK) {
        fprintf(stderr, "mqtls-ca-sign: certificate %u of the bundle: %s\n", (unsigned)bad,
                mqtls_strerror(ret));
        return 1;
    }
    ret = mqtls_ca_update_sign(bundle, bundle_len, (uint32_t)version, (int64_t)expires, key,
                               key_len, pass, out, sizeof out, &out_len);
    memset(key, 0, sizeof key);
    if (ret != MQTLS_OK) {
        fprintf(stderr, "mqtls-ca-sign: cannot sign with %s: %s\n", key_path, mqtls_strerror(ret));
        return 1;
    }
    f = fopen(out_path, "wb");
    if (f == NULL || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0) {
        fprintf(stderr, "mqtls-ca-sign: cannot write %s\n", out_path);
        return 1;
    }
    printf("%s: update version %lld, %u CA certificate%s, expires %lld, %u bytes\n", out_path,
           version, (unsigned)count, count == 1 ? "" : "s", expires, (unsigned)out_len);
    return 0;
}
