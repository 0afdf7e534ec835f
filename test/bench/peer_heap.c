/* SPDX-License-Identifier: Apache-2.0 */
/* Heap counting for the peer programs: malloc and friends interposed
 * (glibc: the real ones are __libc_*), bytes in use and calls counted
 * atomically, since Paho's libraries allocate on their own threads. */
#define _GNU_SOURCE /* malloc_usable_size, __libc_* */

#include <malloc.h>
#include <stddef.h>

#include "test/bench/peer.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static size_t in_use;
static unsigned long calls;

static void *counted(void *p)
{
    if (p != NULL) {
        __atomic_add_fetch(&in_use, malloc_usable_size(p), __ATOMIC_RELAXED);
        __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    }
    return p;
}

void *malloc(size_t n)
{
    return counted(__libc_malloc(n));
}

void *calloc(size_t n, size_t s)
{
    return counted(__libc_calloc(n, s));
}

void *realloc(void *p, size_t n)
{
    if (p != NULL)
        __atomic_sub_fetch(&in_use, malloc_usable_size(p), __ATOMIC_RELAXED);
    return counted(__libc_realloc(p, n));
}

void free(void *p)
{
    if (p != NULL)
        __atomic_sub_fetch(&in_use, malloc_usable_size(p), __ATOMIC_RELAXED);
    __libc_free(p);
}

size_t peer_heap_now(void)
{
    return __atomic_load_n(&in_use, __ATOMIC_RELAXED);
}

unsigned long peer_heap_calls(void)
{
    return __atomic_load_n(&calls, __ATOMIC_RELAXED);
}
