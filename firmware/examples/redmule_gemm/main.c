/* redmule_gemm: Z = X*W + Y on RedMulE (FP16), checked against an exact FP16 FMA chain. */
#include "hal.h"

#define M 24
#define N 32
#define K 16

static fp16_t X[M * N] L1, W[N * K] L1, Z[M * K] L1;
static fp16_t Y[M * K];                      /* copy of Y in L2 for the reference */

/* random FP16 in +-[0.125, 1): random sign and mantissa, exponent 12..14 */
static fp16_t rand_fp16(uint32_t *s) {
  uint32_t r = xorshift32(s);
  return (fp16_t)(((r >> 31) << 15) | ((12 + (r >> 10) % 3) << 10) | (r & 0x3FF));
}

int main(void) {
  if (core_id() != 0) return 0;
  uint32_t s = 0xC0FFEE01, i, m, n, k;
  for (i = 0; i < M * N; i++) X[i] = rand_fp16(&s);
  for (i = 0; i < N * K; i++) W[i] = rand_fp16(&s);
  for (i = 0; i < M * K; i++) Z[i] = Y[i] = rand_fp16(&s);

  uint32_t t0 = cycles();
  redmule_run(X, W, Z, M, N, K, RM_GEMM, RM_FP16);
  uint32_t t1 = cycles();

  uint32_t bad = 0, sum = 0;
  for (m = 0; m < M; m++)
    for (k = 0; k < K; k++) {
      fp16_t acc = Y[m * K + k];
      for (n = 0; n < N; n++) acc = fp16_fma(X[m * N + n], W[n * K + k], acc);
      sum = sum * 31u + acc;
      if (Z[m * K + k] != acc) {
        if (bad < 8) printf("mismatch Z[%d][%d] = 0x%04x expected 0x%04x\n", m, k, Z[m * K + k], acc);
        bad++;
      }
    }
  printf("redmule_gemm: M=%d N=%d K=%d, %u cycles\n", M, N, K, t1 - t0);
  printf("reference checksum 0x%08x\n", sum);
  printf("mismatches %d of %d: %s\n", bad, M * K, bad ? "FAIL" : "OK");
  return bad ? 1 : 0;
}
