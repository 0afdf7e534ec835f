/* SPDX-License-Identifier: Apache-2.0 */
/* A factory step for the emulated device: writes a CA bundle into the
 * device's blob flash (the image file the firmware reads through
 * semihosting: 3 sectors of 4 KB, programmed 8 bytes at a time), as the
 * CA store's committed ACTIVE bundle, the way the firmware itself would.
 *
 *   flash_trust IMAGE BUNDLE.pem VERSION
 *
 * test/firmware/tls.sh uses it to show the device trusts what its flash
 * holds, not what was compiled in. */
#include <stdio.h>
#include <stdlib.h>

#include "net/blobs_flash.h"
#include "net/flash_file.h"
#include "tls/castore.h"

int main(int argc, char **argv)
{
    mqtls_flash_file ff;
    mqtls_flash fl;
    mqtls_blobs_flash bf;
    mqtls_blobs blobs;
    mqtls_castore cas;
    int ret;

    if (argc != 4) {
        fprintf(stderr, "usage: flash_trust IMAGE BUNDLE.pem VERSION\n");
        return 2;
    }
    mqtls_castore_init(&cas);
    if ((ret = mqtls_flash_file_open(&ff, argv[1], 4096, 3, 8, &fl)) != MQTLS_OK ||
        (ret = mqtls_blobs_flash_init(&bf, &fl)) != MQTLS_OK)
        goto out;
    mqtls_blobs_flash_interface(&bf, &blobs);
    if ((ret = mqtls_castore_attach(&cas, &blobs)) != MQTLS_OK ||
        (ret = mqtls_castore_load_file(&cas, MQTLS_CA_STAGED, argv[2],
                                       (uint32_t)strtoul(argv[3], NULL, 10), NULL)) != MQTLS_OK)
        goto out;
    ret = mqtls_castore_commit(&cas);
out:
    mqtls_castore_free(&cas);
    mqtls_flash_file_close(&ff);
    if (ret != MQTLS_OK)
        fprintf(stderr, "flash_trust: %s\n", mqtls_strerror(ret));
    return ret == MQTLS_OK ? 0 : 1;
}
