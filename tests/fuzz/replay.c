/* replay.c - runs a libFuzzer target over corpus files without libFuzzer,
 * so make check replays every fuzz corpus with the ordinary compiler.
 * Usage: fuzz-NAME-replay FILE-OR-DIR...  (no argument: $srcdir corpus) */
#include <config.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    uint8_t *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int
run_path(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st)) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return run_file(path);
    }
    DIR *d = opendir(path);
    struct dirent *de;
    int errors = 0;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] != '.') {
            char *p = malloc(strlen(path) + strlen(de->d_name) + 2);
            sprintf(p, "%s/%s", path, de->d_name);
            errors += run_path(p, count);
            free(p);
        }
    }
    if (d) {
        closedir(d);
    }
    return errors;
}

int
main(int argc, char *argv[])
{
    int count = 0, errors = 0;
    for (int i = 1; i < argc; i++) {
        errors += run_path(argv[i], &count);
    }
    printf("replayed %d corpus files\n", count);
    return errors || !count;
}
