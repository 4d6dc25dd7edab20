/*
 * Corpus replayer: links with one fuzz target when libFuzzer is not used, and feeds it every file
 * under the directories (or files) named on the command line. This keeps each committed corpus a
 * regression test that runs in every ctest, under ASan+UBSan in the sanitizer pass.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                perror(path);
                return -1;
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (len == cap) {
                        cap = cap ? cap * 2 : 4096;
                        uint8_t *nb = realloc(buf, cap);
                        if (!nb) {
                                free(buf);
                                fclose(f);
                                return -1;
                        }
                        buf = nb;
                }
                size_t n = fread(buf + len, 1, cap - len, f);
                if (n == 0)
                        break;
                len += n;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        return 0;
}

static int run_path(const char *path, int *n_files)
{
        struct stat st;
        if (stat(path, &st) != 0) {
                perror(path);
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                (*n_files)++;
                return run_file(path);
        }
        DIR *d = opendir(path);
        if (!d) {
                perror(path);
                return -1;
        }
        int rc = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                char sub[4096];
                if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= sizeof sub)
                        continue;
                if (run_path(sub, n_files) != 0)
                        rc = -1;
        }
        closedir(d);
        return rc;
}

int main(int argc, char **argv)
{
        int n_files = 0, rc = 0;
        for (int i = 1; i < argc; i++)
                if (run_path(argv[i], &n_files) != 0)
                        rc = 1;
        printf("replayed %d inputs\n", n_files);
        if (n_files == 0) {
                fprintf(stderr, "no corpus inputs found\n");
                return 1;
        }
        return rc;
}
