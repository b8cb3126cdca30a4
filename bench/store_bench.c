/* store_bench: sequential single-client writes to reef's object store, each one committed with
 * fsync (synchronous=FULL) before the next starts, as a client waiting for every reply would see
 * them. Built and run by bench/store.sh.
 *
 * Usage: store_bench DBPATH COUNT VALUE_BYTES
 * Prints one line per phase: "reef <phase> ops=N ops_per_s=X median_us=Y p99_us=Z". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrate/store.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *phase, double *lat, int n, double total_us)
{
    qsort(lat, (size_t)n, sizeof(*lat), cmp);
    printf("reef %s ops=%d ops_per_s=%.0f median_us=%.0f p99_us=%.0f\n", phase, n,
           n / (total_us / 1e6), lat[n / 2], lat[(int)(n * 0.99)]);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DBPATH COUNT VALUE_BYTES\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[2]), vbytes = atoi(argv[3]);
    if (n <= 0 || vbytes <= 0 || vbytes > 100000)
        return 2;
    struct reef_err err = {0};
    struct reef_store *s;
    if (reef_store_open(argv[1], NULL, &s, &err) < 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    char *val = malloc((size_t)vbytes + 1);
    char *obj = malloc((size_t)vbytes + 256);
    double *lat = malloc(sizeof(double) * (size_t)n);
    if (!val || !obj || !lat)
        return 1;
    for (int phase = 0; phase < 2; phase++) {
        memset(val, phase ? 'u' : 'c', (size_t)vbytes);
        val[vbytes] = '\0';
        double start = now_us();
        for (int i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof(name), "k%06d", i);
            snprintf(obj, (size_t)vbytes + 256,
                     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"v\":\"%s\"}}", val);
            struct reef_store_cmd c = {
                .op = phase ? REEF_STORE_UPDATE : REEF_STORE_CREATE,
                .resource = "configmaps",
                .namespace = "bench",
                .name = name,
                .object = obj,
                .object_len = strlen(obj),
                .timestamp_ms = (int64_t)(now_us() / 1000),
            };
            if (!phase && reef_store_new_uid(c.uid, &err) < 0)
                return 1;
            double t0 = now_us();
            struct reef_store_result res;
            if (reef_store_apply(s, &c, &res, &err) < 0) {
                fprintf(stderr, "apply: %s\n", err.msg);
                return 1;
            }
            lat[i] = now_us() - t0;
            reef_store_result_free(&res);
        }
        report(phase ? "update" : "create", lat, n, now_us() - start);
    }
    reef_store_close(s);
    free(val);
    free(obj);
    free(lat);
    return 0;
}
