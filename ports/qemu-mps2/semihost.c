/* SPDX-License-Identifier: Apache-2.0 */
#include "ports/qemu-mps2/semihost.h"

#include <string.h>

/* Operation numbers from Arm's semihosting specification. */
enum {
    SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05, SYS_READ = 0x06,
    SYS_SEEK = 0x0A, SYS_FLEN = 0x0C, SYS_TIME = 0x11, SYS_EXIT = 0x18
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023u

static int call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_puts(const char *s)
{
    (void)call(SYS_WRITE0, s);
}

uint32_t sh_time(void)
{
    return (uint32_t)call(SYS_TIME, NULL);
}

int sh_open(const char *path, const char *mode)
{
    /* The mode is an index into fopen's list of modes. */
    static const char *const modes[] = {"r", "rb", "r+", "r+b", "w", "wb", "w+", "w+b",
                                        "a", "ab", "a+", "a+b"};
    uint32_t arg[3];
    uint32_t m;
    for (m = 0; m < sizeof modes / sizeof modes[0] && strcmp(modes[m], mode) != 0; m++)
        ;
    arg[0] = (uint32_t)(uintptr_t)path;
    arg[1] = m;
    arg[2] = (uint32_t)strlen(path);
    return call(SYS_OPEN, arg);
}

int sh_close(int fd)
{
    uint32_t arg[1] = {(uint32_t)fd};
    return call(SYS_CLOSE, arg);
}

int sh_read(int fd, void *buf, size_t len)
{
    uint32_t arg[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    return call(SYS_READ, arg);
}

int sh_write(int fd, const void *buf, size_t len)
{
    uint32_t arg[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    return call(SYS_WRITE, arg);
}

int sh_seek(int fd, uint32_t pos)
{
    uint32_t arg[2] = {(uint32_t)fd, pos};
    return call(SYS_SEEK, arg);
}

long sh_flen(int fd)
{
    uint32_t arg[1] = {(uint32_t)fd};
    return call(SYS_FLEN, arg);
}

void sh_exit(int status)
{
    /* On 32-bit Arm the reason is passed in r1 itself: the host exits 0
     * for "application exit", 1 for anything else. */
    (void)call(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                                : ADP_STOPPED_RUN_TIME_ERROR));
    for (;;)
        ;
}

/* picolibc's hooks: stdout and stderr write to the host's console (a
 * character at a time: for error paths and diagnostics), and _exit ends
 * the emulation. */
#include <stdio.h>

static int console_putc(char c, FILE *f)
{
    char s[2] = {c, '\0'};
    (void)f;
    sh_puts(s);
    return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(console_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &console;
FILE *const stderr = &console;

void _exit(int status);
void _exit(int status)
{
    sh_exit(status);
}
