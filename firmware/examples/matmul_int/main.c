/* matmul_int: C = A * B, 32x32 int32, rows split across the 8 cores. */
#include "hal.h"

#define N 32
static int32_t A[N][N] L1, B[N][N] L1, C[N][N] L1;

int main(void) {
  uint32_t id = core_id(), nc = num_cores();
  uint32_t i, j, k;

  if (id == 0) {
    uint32_t s = 0x12345678;
    for (i = 0; i < N; i++)
      for (j = 0; j < N; j++) {
        A[i][j] = (int32_t)(xorshift32(&s) % 201) - 100;
        B[i][j] = (int32_t)(xorshift32(&s) % 201) - 100;
      }
  }
  barrier();

  uint32_t t0 = cycles();
  for (i = id; i < N; i += nc)              /* rows id, id+8, ... */
    for (j = 0; j < N; j++) {
      int32_t acc = 0;
      for (k = 0; k < N; k++) acc += A[i][k] * B[k][j];
      C[i][j] = acc;
    }
  uint32_t t1 = cycles();
  barrier();

  if (id != 0) return 0;
  /* reference on core 0: checksum of the product vs checksum of C */
  uint32_t ref = 0, got = 0;
  for (i = 0; i < N; i++)
    for (j = 0; j < N; j++) {
      int32_t acc = 0;
      for (k = 0; k < N; k++) acc += A[i][k] * B[k][j];
      ref = ref * 31u + (uint32_t)acc;
      got = got * 31u + (uint32_t)C[i][j];
    }
  printf("matmul_int: %dx%d on %d cores, core 0 took %u cycles\n", N, N, nc, t1 - t0);
  printf("checksum 0x%08x expected 0x%08x: %s\n", got, ref, got == ref ? "OK" : "FAIL");
  return got == ref ? 0 : 1;
}
