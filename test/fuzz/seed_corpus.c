/* SPDX-License-Identifier: Apache-2.0 */
/* Writes every test vector into a directory as a fuzz seed.
 * Usage: seed_corpus DIR */
#include <stdio.h>

#include "test/unit/vectors.h"

static int write_vector(const char *dir, const char *prefix, const vector *v)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s-%s", dir, prefix, v->name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(v->bytes, 1, v->len, f) != v->len) {
        perror(path);
        return 1;
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    size_t i;
    int bad = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: seed_corpus DIR\n");
        return 2;
    }
    for (i = 0; i < valid_vector_count; i++)
        bad |= write_vector(argv[1], "valid", &valid_vectors[i]);
    for (i = 0; i < malformed_vector_count; i++)
        bad |= write_vector(argv[1], "bad", &malformed_vectors[i]);
    return bad;
}
