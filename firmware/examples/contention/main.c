/* contention: cores 1..7 hammer the TCDM with loads and stores, first alone, then while
 * RedMulE runs a 96x96x96 FP16 GEMM started by core 0; each core's loop is timed. */
#include "hal.h"

#define GM 96
#define GN 96
#define GK 96
#define WORDS 256                 /* per core buffer (1 KiB) */
#define ITER 1024

static fp16_t X[GM * GN] L1, W[GN * GK] L1, Z[GM * GK] L1;
static uint32_t buf[NUM_CORES][WORDS] L1;
static uint32_t alone[NUM_CORES] L1, shared_[NUM_CORES] L1;

/* prints (b - a) / a as a signed percentage with one decimal */
static void print_slowdown(uint32_t a, uint32_t b) {
  int32_t pm = a ? ((int32_t)b - (int32_t)a) * 1000 / (int32_t)a : 0;   /* fine below 2M cycles */
  uint32_t u = pm < 0 ? (uint32_t)-pm : (uint32_t)pm;
  printf("slowdown %s%u.%u%%\n", pm < 0 ? "-" : "", u / 10, u % 10);
}

static uint32_t hammer(uint32_t id) {
  volatile uint32_t *p = buf[id];
  uint32_t t0 = cycles();
  for (uint32_t i = 0; i < ITER; i++) {
    uint32_t v = p[i % WORDS];
    p[(i + 1) % WORDS] = v + i;
  }
  return cycles() - t0;
}

int main(void) {
  uint32_t id = core_id(), nc = num_cores(), c, rm_alone = 0, rm_shared = 0, t;

  /* phase 1: RedMulE alone */
  if (id == 0) {
    t = cycles();
    redmule_run(X, W, Z, GM, GN, GK, RM_GEMM, RM_FP16);
    rm_alone = cycles() - t;
  }
  barrier();
  /* phase 2: cores alone */
  if (id != 0) alone[id] = hammer(id);
  barrier();
  /* phase 3: cores while RedMulE runs */
  if (id == 0) { t = cycles(); redmule_start(X, W, Z, GM, GN, GK, RM_GEMM, RM_FP16); }
  barrier();
  if (id != 0) shared_[id] = hammer(id);
  else { redmule_wait(); rm_shared = cycles() - t; }
  barrier();

  if (id != 0) return 0;
  printf("contention: %d cores x %d load/store pairs, RedMulE %dx%dx%d FP16 GEMM\n",
         nc - 1, ITER, GM, GN, GK);
  for (c = 1; c < nc; c++) {
    printf("core %d: alone %u cycles, with redmule %u cycles, ", c, alone[c], shared_[c]);
    print_slowdown(alone[c], shared_[c]);
  }
  printf("redmule: alone %u cycles, with cores %u cycles, ", rm_alone, rm_shared);
  print_slowdown(rm_alone, rm_shared);
  return 0;
}
