/* matmul_fp: C = A * B, 32x32 float (hardware FPU), rows split across the 8 cores. */
#include "hal.h"

#define N 32
static float A[N][N] L1, B[N][N] L1, C[N][N] L1;

static uint32_t fbits(float f) { union { float f; uint32_t u; } v; v.f = f; return v.u; }

int main(void) {
  uint32_t id = core_id(), nc = num_cores();
  uint32_t i, j, k;

  if (id == 0) {
    uint32_t s = 0x2468ACE1;
    for (i = 0; i < N; i++)
      for (j = 0; j < N; j++) {
        /* small integers and halves: every product and sum is exact in float */
        A[i][j] = (float)((int32_t)(xorshift32(&s) % 33) - 16) * 0.5f;
        B[i][j] = (float)((int32_t)(xorshift32(&s) % 33) - 16) * 0.25f;
      }
  }
  barrier();

  uint32_t t0 = cycles();
  for (i = id; i < N; i += nc)
    for (j = 0; j < N; j++) {
      float acc = 0.0f;
      for (k = 0; k < N; k++) acc += A[i][k] * B[k][j];
      C[i][j] = acc;
    }
  uint32_t t1 = cycles();
  barrier();

  if (id != 0) return 0;
  uint32_t ref = 0, got = 0, bad = 0;
  for (i = 0; i < N; i++)
    for (j = 0; j < N; j++) {
      float acc = 0.0f;
      for (k = 0; k < N; k++) acc += A[i][k] * B[k][j];
      ref = ref * 31u + fbits(acc);
      got = got * 31u + fbits(C[i][j]);
      bad += fbits(acc) != fbits(C[i][j]);
    }
  printf("matmul_fp: %dx%d on %d cores, core 0 took %u cycles\n", N, N, nc, t1 - t0);
  printf("checksum 0x%08x expected 0x%08x: %s\n", got, ref, bad == 0 ? "OK" : "FAIL");
  return bad == 0 ? 0 : 1;
}
