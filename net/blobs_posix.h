/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — named blobs as files in one directory (POSIX hosts).
 *
 * Each blob is DIR/NAME: a 16-byte header (magic "mqtlsB1\n", length,
 * CRC-32 of the content) then the content. A write goes to DIR/NAME.tmp,
 * is fsync'd, renamed over DIR/NAME, and the directory is fsync'd: a crash
 * at any step leaves DIR/NAME old or new, whole (a leftover NAME.tmp is
 * ignored and replaced by the next write). A blob whose header or CRC does
 * not match reads as MQTLS_ERR_BLOB_CORRUPT, never as data.
 */
#ifndef MQTLS_NET_BLOBS_POSIX_H
#define MQTLS_NET_BLOBS_POSIX_H

#include "blobs.h"
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

typedef struct mqtls_blob_dir {
    char dir[200];  /* where the blobs are */
    int last_errno; /* errno behind the last MQTLS_ERR_BLOB_IO */
    /* Tests only: called after each step of a write (1 temp file written,
     * 2 temp file synced, 3 renamed, 4 directory synced), so a test can
     * kill the process at each of them. NULL in real use. */
    void (*after_step)(void *test_ctx, int step);
    void *test_ctx;
} mqtls_blob_dir;

/* dir must exist. Fills *out with blob calls over d (which must outlive
 * it). MQTLS_ERR_INVALID_ARG if the path is too long. */
int mqtls_blob_dir_setup(mqtls_blob_dir *d, const char *dir, mqtls_blobs *out);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
