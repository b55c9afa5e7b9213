/* Host runner for tests/host/hal.h (test-only). Prints what the example prints and
 * exits with core 0's return value. */
#include <pthread.h>
#include <stdio.h>
#include "hal.h"
#undef printf

int example_main(void);
__thread uint32_t host_core;
static pthread_barrier_t bar;
static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;
static int ret0;

void barrier(void) { pthread_barrier_wait(&bar); }

int host_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pthread_mutex_lock(&out);
  int n = vprintf(fmt, ap);
  fflush(stdout);
  pthread_mutex_unlock(&out);
  va_end(ap);
  return n;
}

int redmule_start(const void *x, const void *w, void *z,
                  uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt) {
  const fp16_t *X = x, *W = w;
  fp16_t *Z = z;
  if (op != RM_GEMM || fmt != RM_FP16) { fprintf(stderr, "host: only FP16 GEMM\n"); return -1; }
  for (uint32_t i = 0; i < m; i++)
    for (uint32_t j = 0; j < k; j++) {
      fp16_t acc = Z[i * k + j];
      for (uint32_t l = 0; l < n; l++) acc = fp16_fma(X[i * n + l], W[l * k + j], acc);
      Z[i * k + j] = acc;
    }
  return 0;
}
void redmule_wait(void) {}
void redmule_run(const void *x, const void *w, void *z,
                 uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt) {
  redmule_start(x, w, z, m, n, k, op, fmt);
}

static void *core(void *arg) {
  host_core = (uint32_t)(uintptr_t)arg;
  int r = example_main();
  barrier();
  if (host_core == 0) ret0 = r;
  return NULL;
}

int main(void) {
  pthread_t t[NUM_CORES];
  pthread_barrier_init(&bar, NULL, NUM_CORES);
  for (uintptr_t i = 0; i < NUM_CORES; i++) pthread_create(&t[i], NULL, core, (void *)i);
  for (int i = 0; i < NUM_CORES; i++) pthread_join(t[i], NULL);
  return ret0;
}
