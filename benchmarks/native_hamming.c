/* Native reference for the distance kernel: all pairs i < j of n random codes, XOR +
 * popcount over 64-bit words, OpenMP over rows. Compiled by benchmarks/distances.py
 * --native with gcc -O3 -march=native -fopenmp; prints one line of key=value figures.
 * It is a yardstick for the numba kernel, not part of the pipeline. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s N BITS MAX_DISTANCE\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]);
    long bits = atol(argv[2]);
    uint64_t cap = (uint64_t)atol(argv[3]);
    long w = (bits + 63) / 64;
    uint64_t *a = aligned_alloc(64, ((size_t)n * w * 8 + 63) / 64 * 64);
    if (!a) return 1;
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < (size_t)n * w; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        a[i] = ((long)(i % w) == w - 1 && bits % 64) ? s & ((1ull << (bits % 64)) - 1) : s;
    }
    double t = omp_get_wtime();
    long long kept = 0;
#pragma omp parallel for schedule(dynamic, 8) reduction(+ : kept)
    for (long i = 0; i < n; i++) {
        const uint64_t *x = a + (size_t)i * w;
        for (long j = i + 1; j < n; j++) {
            const uint64_t *y = a + (size_t)j * w;
            uint64_t d = 0;
            for (long k = 0; k < w; k++) d += __builtin_popcountll(x[k] ^ y[k]);
            kept += d <= cap;
        }
    }
    double dt = omp_get_wtime() - t;
    printf("native n=%ld bits=%ld seconds=%.4f pairs_per_second=%.0f pairs_kept=%lld threads=%d\n",
           n, bits, dt, (double)n * (n - 1) / 2 / dt, kept, omp_get_max_threads());
    free(a);
    return 0;
}
