/* SPDX-License-Identifier: Apache-2.0 */
/* Replays fuzz inputs through the fuzz target without libFuzzer, so the
 * committed corpus runs in `make check` with any compiler.
 * Usage: fuzz_replay DIR_OR_FILE...   Exit status 0 when all replayed. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    static uint8_t buf[1 << 20];
    FILE *f = fopen(path, "rb");
    size_t n;
    uint8_t *copy;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* An exact-size heap copy, so ASan sees any read past the input. */
    copy = malloc(n ? n : 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, buf, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    return 0;
}

int main(int argc, char **argv)
{
    size_t count = 0, failed = 0;
    int i;

    for (i = 1; i < argc; i++) {
        struct stat st;
        DIR *dir;
        struct dirent *e;
        char path[4096];

        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            failed += replay_file(argv[i]) != 0;
            count++;
            continue;
        }
        dir = opendir(argv[i]);
        if (dir == NULL) {
            perror(argv[i]);
            return 1;
        }
        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            failed += replay_file(path) != 0;
            count++;
        }
        closedir(dir);
    }
    printf("fuzz replay: %zu passed, %zu failed\n", count - failed, failed);
    return failed == 0 && count > 0 ? 0 : 1;
}
