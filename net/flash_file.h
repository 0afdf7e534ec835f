/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls — NOR flash in a file (POSIX), for hosts, tests and simulators:
 * the flash interface (net/flash.h) over pread/pwrite, with NOR manners
 * kept (a program ANDs into what is there; an erase writes 0xFF). Each
 * program and erase is one pwrite, so a process killed at any instant
 * (SIGKILL) leaves the image as a power cut between two flash operations
 * would. Not synced: a host that loses power may lose recent writes, so
 * this is not a durable store for hosts (use mqtls_file_store there). */
#ifndef MQTLS_NET_FLASH_FILE_H
#define MQTLS_NET_FLASH_FILE_H

#include <stdint.h>

#include "flash.h"
#include "api.h"

#ifdef __cplusplus
extern "C" {
#endif
MQTLS_API_BEGIN

typedef struct mqtls_flash_file {
    int fd;         /* the image, or -1 */
    int last_errno; /* behind the last MQTLS_ERR_FLASH_IO */
    uint32_t size;  /* bytes */
    uint32_t sector_size; /* bytes per sector */
} mqtls_flash_file;

/* Opens the image at path (created erased, all 0xFF, if missing) of
 * count sectors of sector_size bytes, programmed in units of unit bytes,
 * and fills *out. MQTLS_OK, MQTLS_ERR_FLASH_IO (last_errno says why; also
 * when an existing file has another size) or MQTLS_ERR_FLASH_ALIGN. */
int mqtls_flash_file_open(mqtls_flash_file *f, const char *path, uint32_t sector_size,
                          uint32_t count, uint32_t unit, mqtls_flash *out);
void mqtls_flash_file_close(mqtls_flash_file *f);

MQTLS_API_END
#ifdef __cplusplus
}
#endif

#endif
