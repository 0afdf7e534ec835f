/* SPDX-License-Identifier: Apache-2.0 */
/* mqtls port for QEMU mps2-an386 — Arm semihosting: the emulator's host
 * answers for the debug console, files (the flash image), the clock and
 * /dev/urandom. A real board has none of this: it has a UART for the log,
 * its flash controller, an RTC and a TRNG. */
#ifndef MPS2_SEMIHOST_H
#define MPS2_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* Writes a NUL-terminated string to the host's console. */
void sh_puts(const char *s);
/* Seconds since 1970 by the host's clock. */
uint32_t sh_time(void);
/* Opens a host file: mode as fopen's ("rb", "r+b", "wb"...). A handle, or -1. */
int sh_open(const char *path, const char *mode);
int sh_close(int fd);
/* 0 on success (all of len), else the bytes not transferred. */
int sh_read(int fd, void *buf, size_t len);
int sh_write(int fd, const void *buf, size_t len);
int sh_seek(int fd, uint32_t pos);
/* The file's length, or -1. */
long sh_flen(int fd);
/* Ends the emulation: status 0 is success. */
void sh_exit(int status) __attribute__((noreturn));

#endif
