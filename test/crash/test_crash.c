/* SPDX-License-Identifier: Apache-2.0 */
/* Power loss, simulated: the file store's journal and the blob directory
 * are driven through their work while every file call they make is
 * interposed (ld --wrap). After each call the harness takes down what a
 * disk would still hold if power failed right then, pessimistically:
 *   - a file's content is what it held at its last fsync/fdatasync (all
 *     later writes lost; never synced: empty);
 *   - the directory is what it held at its last fsync of the directory
 *     (later creates, renames and unlinks lost).
 * Each such image is then rebuilt in a scratch directory and opened, and
 * the promises checked: every message add() acknowledged (and on which no
 * remove had started) is in the store; a blob is the value its last acknowledged
 * write put there, or one a write was busy putting there; never damaged,
 * never missing once written. Dropping any one fsync or fdatasync from
 * store_file.c or blobs_posix.c makes this fail (make crash). */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "mqtt/posix/store_file.h"
#include "net/blobs_posix.h"

#define MAX_FILES 8
#define MAX_CONTENT 65536
#define MAX_POINTS 4000

int __real_open(const char *path, int flags, ...);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_rename(const char *a, const char *b);
int __real_unlink(const char *path);
int __real_ftruncate(int fd, off_t len);

/* ---- what the disk holds for sure ------------------------------------------ */

typedef struct durable_file {
    ino_t ino;
    size_t len;
    uint8_t *data; /* as of the last sync of the file */
} durable_file;

typedef struct durable_name {
    char name[64];
    ino_t ino;
} durable_name;

typedef struct image {
    durable_name names[MAX_FILES]; /* the directory as of its last sync */
    size_t nnames;
    durable_file files[MAX_FILES * 4]; /* every file ever synced, by inode */
    size_t nfiles;
} image;

static char workdir[128];  /* where the code under test works */
static image disk;          /* updated as calls happen */
static int recording;       /* interposition active */
static int failing_dir_syncs; /* the next this many directory fsyncs fail (EIO) */
static long calls;          /* interposed calls so far */

/* The crash points: a copy of the image after each call, and what the API
 * had acknowledged by then (filled in by the workloads). */
typedef struct point {
    image img; /* what the disk holds after call (index + 1) */
} point;

static point *points;
static long npoints;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("crash: ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    printf("0 passed, 1 failed\n");
    exit(1);
}

static durable_file *file_of(image *img, ino_t ino, int create)
{
    size_t i;
    for (i = 0; i < img->nfiles; i++)
        if (img->files[i].ino == ino)
            return &img->files[i];
    if (!create)
        return NULL;
    if (img->nfiles == sizeof img->files / sizeof img->files[0])
        fail("too many files");
    img->files[img->nfiles].ino = ino;
    img->files[img->nfiles].len = 0;
    img->files[img->nfiles].data = NULL;
    return &img->files[img->nfiles++];
}

/* fsync of a file: its durable content is what it holds now. */
static void sync_file(int fd)
{
    struct stat st;
    durable_file *f;
    ssize_t n;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    f = file_of(&disk, st.st_ino, 1);
    free(f->data);
    f->len = (size_t)st.st_size;
    if (f->len > MAX_CONTENT)
        fail("file too large");
    f->data = malloc(f->len + 1);
    { /* through /proc: the descriptor may be write-only */
        char self[64];
        int rfd;
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        rfd = __real_open(self, O_RDONLY);
        if (rfd < 0)
            fail("reopen %s: %s", self, strerror(errno));
        n = pread(rfd, f->data, f->len, 0);
        close(rfd);
    }
    if (n < 0 || (size_t)n != f->len)
        fail("pread: %s", strerror(errno));
}

/* fsync of the directory: its durable entries are what it holds now. */
static void sync_dir(void)
{
    DIR *d = opendir(workdir);
    struct dirent *e;
    disk.nnames = 0;
    if (d == NULL)
        fail("opendir");
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (disk.nnames == MAX_FILES)
            fail("too many names");
        if (strlen(e->d_name) >= sizeof disk.names[0].name)
            fail("name too long: %s", e->d_name);
        memcpy(disk.names[disk.nnames].name, e->d_name, strlen(e->d_name) + 1);
        disk.names[disk.nnames].ino = e->d_ino;
        disk.nnames++;
    }
    closedir(d);
}

static int is_dir_fd(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A deep copy of the image after this call. */
static void crash_point(void)
{
    point *p;
    size_t i;
    if (npoints == MAX_POINTS)
        fail("too many crash points");
    p = &points[npoints++];
    p->img = disk;
    for (i = 0; i < disk.nfiles; i++) {
        p->img.files[i].data = malloc(disk.files[i].len + 1);
        if (disk.files[i].len > 0)
            memcpy(p->img.files[i].data, disk.files[i].data, disk.files[i].len);
    }
}

/* ---- the interposed calls ----------------------------------------------------- */


int __wrap_open(const char *path, int flags, ...);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_rename(const char *a, const char *b);
int __wrap_unlink(const char *path);
int __wrap_ftruncate(int fd, off_t len);

static void after_call(void)
{
    if (recording) {
        calls++;
        crash_point();
    }
}

int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    int fd;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    fd = __real_open(path, flags, mode);
    if (flags & (O_CREAT | O_TRUNC))
        after_call();
    return fd;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    ssize_t r = __real_write(fd, buf, n);
    after_call();
    return r;
}

static int synced(int fd, int r)
{
    if (r == 0 && recording) {
        if (is_dir_fd(fd))
            sync_dir();
        else
            sync_file(fd);
    }
    after_call();
    return r;
}

int __wrap_fsync(int fd)
{
    if (recording && failing_dir_syncs > 0 && is_dir_fd(fd)) {
        failing_dir_syncs--;
        after_call();
        errno = EIO;
        return -1;
    }
    return synced(fd, __real_fsync(fd));
}

int __wrap_fdatasync(int fd)
{
    return synced(fd, __real_fdatasync(fd));
}

int __wrap_rename(const char *a, const char *b)
{
    int r = __real_rename(a, b);
    after_call();
    return r;
}

int __wrap_unlink(const char *path)
{
    int r = __real_unlink(path);
    after_call();
    return r;
}

int __wrap_ftruncate(int fd, off_t len)
{
    int r = __real_ftruncate(fd, len);
    after_call();
    return r;
}

/* ---- rebuilding a crash image ---------------------------------------------------- */

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    if (d == NULL)
        fail("opendir %s", dir);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        __real_unlink(p);
    }
    closedir(d);
}

static void materialise(const image *img, const char *dir)
{
    size_t i;
    empty_dir(dir);
    for (i = 0; i < img->nnames; i++) {
        char p[256];
        const durable_file *f = NULL;
        size_t k;
        int fd;
        for (k = 0; k < img->nfiles; k++)
            if (img->files[k].ino == img->names[i].ino)
                f = &img->files[k];
        snprintf(p, sizeof p, "%s/%s", dir, img->names[i].name);
        fd = __real_open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            fail("create %s", p);
        if (f != NULL && f->len > 0 && __real_write(fd, f->data, f->len) != (ssize_t)f->len)
            fail("write %s", p);
        close(fd);
    }
}

static void free_points(void)
{
    long i;
    size_t k;
    for (i = 0; i < npoints; i++)
        for (k = 0; k < points[i].img.nfiles; k++)
            free(points[i].img.files[k].data);
    npoints = 0;
}

static void start_recording(void)
{
    size_t k;
    for (k = 0; k < disk.nfiles; k++)
        free(disk.files[k].data);
    memset(&disk, 0, sizeof disk);
    empty_dir(workdir);
    calls = 0;
    recording = 1;
}

/* ---- the message store -------------------------------------------------------- */

/* Every store operation the workload made: which, on what, the interposed
 * calls before it started and when it returned, and whether it said OK. */
typedef struct op {
    uint16_t id;
    int remove, ok;
    long start, end;
} op;

static op ops[4096];
static long nops;

static uint8_t packet[200];

static void packet_for(uint16_t id, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        packet[i] = (uint8_t)(id * 7 + i);
}

static int store_op(mqtls_store *st, uint16_t id, int remove)
{
    op *o = &ops[nops++];
    o->id = id;
    o->remove = remove;
    o->start = calls;
    if (remove) {
        o->ok = st->remove(st->ctx, id) == MQTLS_OK;
    } else {
        packet_for(id, 60);
        o->ok = st->add(st->ctx, id, packet, 60, 0) == MQTLS_OK;
    }
    o->end = calls;
    return o->ok;
}

static void store_workload(const char *path, int rounds)
{
    static uint8_t ring[1024];
    mqtls_file_store fs;
    mqtls_store st;
    uint16_t next = 1, oldest = 1;
    int i, k;

    if (mqtls_file_store_open(&fs, path, ring, sizeof ring) != MQTLS_OK)
        fail("store open");
    mqtls_file_store_interface(&fs, &st);
    nops = 0;
    for (i = 0; i < rounds; i++) { /* add two, remove one: the journal grows, is compacted */
        for (k = 0; k < 2; k++) {
            while (!store_op(&st, next, 0) && oldest != next)
                store_op(&st, oldest++, 1); /* full: make room */
            next++;
        }
        store_op(&st, oldest++, 1);
    }
    mqtls_file_store_close(&fs);
}

/* At crash point c (c calls made): every add acknowledged by then whose id
 * no remove had started on is stored, with its bytes. */
static void check_store_point(long c, const image *img, const char *scratch, const char *name)
{
    static uint8_t ring[1024];
    char path[256];
    mqtls_file_store fs;
    mqtls_store st;
    long i, j;
    int ret;

    materialise(img, scratch);
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    ret = mqtls_file_store_open(&fs, path, ring, sizeof ring);
    if (ret != MQTLS_OK)
        fail("the journal does not open after a power cut at call %ld: %s", c, mqtls_errname(ret));
    mqtls_file_store_interface(&fs, &st);
    for (i = 0; i < nops; i++) {
        mqtls_store_entry e;
        int removing = 0;
        if (ops[i].remove || !ops[i].ok || ops[i].end > c)
            continue;
        for (j = i + 1; j < nops; j++)
            if (ops[j].remove && ops[j].id == ops[i].id && ops[j].start < c)
                removing = 1;
        if (removing)
            continue;
        if (st.find(st.ctx, ops[i].id, &e) != MQTLS_OK) {
            mqtls_file_store_close(&fs);
            fail("message %u, acknowledged at call %ld, is lost after a power cut at call %ld",
                 (unsigned)ops[i].id, ops[i].end, c);
        }
        packet_for(ops[i].id, 60);
        if (e.len != 60 || memcmp(e.packet, packet, 60) != 0)
            fail("message %u changed after a power cut", (unsigned)ops[i].id);
    }
    mqtls_file_store_close(&fs);
}

/* ---- blobs ------------------------------------------------------------------------- */

static char versions[8][32];
static long write_start[8], write_end[8];
static int write_ok[8];
static long remove_start, remove_end; /* the blob removed after the writes */
static int remove_ok;

static void blob_workload(void)
{
    mqtls_blob_dir d;
    mqtls_blobs b;
    int v;
    if (mqtls_blob_dir_setup(&d, workdir, &b) != MQTLS_OK)
        fail("blob dir");
    for (v = 0; v < 8; v++) {
        snprintf(versions[v], sizeof versions[v], "bundle version %d", v);
        write_start[v] = calls;
        write_ok[v] = b.write(b.ctx, "ca", (const uint8_t *)versions[v], strlen(versions[v])) ==
                      MQTLS_OK;
        write_end[v] = calls;
    }
    remove_start = calls;
    remove_ok = b.remove(b.ctx, "ca") == MQTLS_OK;
    remove_end = calls;
}

/* At crash point c: the blob is the last version acknowledged by then or
 * the one being written at c; missing only before the first write was
 * acknowledged; never damaged. */
static void check_blob_point(long c, const image *img, const char *scratch)
{
    mqtls_blob_dir d;
    mqtls_blobs b;
    uint8_t buf[64];
    size_t len = 0;
    int ret, v, last = -1;

    materialise(img, scratch);
    if (mqtls_blob_dir_setup(&d, scratch, &b) != MQTLS_OK)
        fail("blob dir");
    for (v = 0; v < 8; v++)
        if (write_ok[v] && write_end[v] <= c)
            last = v;
    ret = b.read(b.ctx, "ca", buf, sizeof buf, &len);
    if (ret == MQTLS_ERR_BLOB_NOT_FOUND && (last < 0 || remove_start < c))
        return;
    if (remove_ok && remove_end <= c)
        fail("a removed blob is back after a power cut at call %ld", c);
    if (ret != MQTLS_OK)
        fail("the blob is unreadable after a power cut at call %ld (version %d acknowledged): %s",
             c, last, mqtls_errname(ret));
    for (v = 0; v < 8; v++)
        if ((v == last || (v == last + 1 && write_start[v] < c)) && len == strlen(versions[v]) &&
            memcmp(buf, versions[v], len) == 0)
            return;
    fail("after a power cut at call %ld the blob is \"%.*s\"; version %d was acknowledged", c,
         (int)len, buf, last);
}

int main(void)
{
    char scratch[128];
    long i, store_points, blob_points;

    points = calloc(MAX_POINTS, sizeof *points);
    snprintf(workdir, sizeof workdir, "/tmp/mqtls-crash-XXXXXX");
    snprintf(scratch, sizeof scratch, "/tmp/mqtls-crash-image-XXXXXX");
    if (points == NULL || mkdtemp(workdir) == NULL || mkdtemp(scratch) == NULL)
        fail("setup");

    /* The store: opened fresh, 60 rounds of add, add, remove (the journal
     * is compacted several times on the way). */
    {
        char path[256];
        snprintf(path, sizeof path, "%s/journal", workdir);
        start_recording();
        sync_dir(); /* the empty directory is where we start */
        store_workload(path, 60);
        recording = 0;
        for (i = 0; i < npoints; i++)
            check_store_point(i + 1, &points[i].img, scratch, "journal");
        store_points = npoints;
        free_points();
    }
    /* The same with the directory's fsync failing once, at the first
     * compaction's rename: the store must stop (later changes fail) rather
     * than acknowledge records a power cut would take back. */
    {
        char path[256];
        long failed = 0;
        snprintf(path, sizeof path, "%s/journal", workdir);
        start_recording();
        sync_dir();
        {
            static uint8_t ring[1024];
            mqtls_file_store fs;
            if (mqtls_file_store_open(&fs, path, ring, sizeof ring) != MQTLS_OK)
                fail("store open");
            mqtls_file_store_close(&fs);
        }
        failing_dir_syncs = 1;
        store_workload(path, 60);
        recording = 0;
        for (i = 0; i < nops; i++)
            failed += !ops[i].ok;
        if (failing_dir_syncs != 0 || failed == 0)
            fail("the failing directory sync was not reached, or the store went on");
        for (i = 0; i < npoints; i++)
            check_store_point(i + 1, &points[i].img, scratch, "journal");
        store_points += npoints;
        free_points();
    }
    /* Blobs: eight versions written over each other. */
    start_recording();
    sync_dir();
    blob_workload();
    recording = 0;
    for (i = 0; i < npoints; i++)
        check_blob_point(i + 1, &points[i].img, scratch);
    blob_points = npoints;
    free_points();

    empty_dir(workdir);
    empty_dir(scratch);
    rmdir(workdir);
    rmdir(scratch);
    printf("crash: the message store survived a power cut at each of %ld calls, the blobs at "
           "each of %ld\n",
           store_points, blob_points);
    printf("3 passed, 0 failed\n");
    return 0;
}
