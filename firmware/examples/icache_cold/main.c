/* icache_cold: the cost of cold code, seen by the IMISS performance counter.
 *
 * Core 0 times a 128-byte function (cold_fn: 31 32-bit addi and a 32-bit ret, 64-byte
 * aligned, so exactly eight 16-byte I-cache lines), called through `measure`, whose own code
 * is warmed by a call with an empty function first (the private cache is flushed before, so
 * that nothing is evicted):
 *   cold     first call: every line of cold_fn misses both cache levels
 *   warm     second call: every line hits in the private cache
 *   flush    after FLUSH (0x04 of the I-cache control unit): misses both levels again
 *   l1flush  after FLUSH_L1_ONLY (0x08): misses the private cache, hits the shared one
 * and prints IMISS (PCCR 4) and CYCLES (PCCR 0) for each. Every fetch hits (IMISS 0) unless
 * the scenario selects the I-cache model (platform.icache_ctrl.model: hier, see
 * scenarios/icache/icache_cold.yaml). The other cores return at once. */
#include "hal.h"

#define ICACHE_BASE       0x10201400u
#define IC_FLUSH          0x04
#define IC_FLUSH_L1_ONLY  0x08

__asm__(
  "  .section .text.cold_fn,\"ax\",@progbits\n"
  "  .balign 64\n"
  "  .globl cold_fn\n"
  "cold_fn:\n"
  "  .option push\n"
  "  .option norvc\n"
  "  .rept 31\n"
  "  addi a0, a0, 1\n"
  "  .endr\n"
  "  ret\n"
  "  .option pop\n"
  "  .text\n");

int cold_fn(int x);

__attribute__((noinline)) static int empty_fn(int x) { return x; }

typedef int (*fn_t)(int);

/* IMISS of one call of f; its CYCLES in *cyc. */
__attribute__((noinline)) static uint32_t measure(fn_t f, uint32_t *cyc) {
  uint32_t imiss, c;
  __asm__ volatile("csrw 0x79F, zero");                   /* PCCR: reset all counters */
  __asm__ volatile("csrw 0xCC0, %0" :: "r"(0x11));        /* PCER: CYCLES | IMISS */
  __asm__ volatile("csrw 0xCC1, %0" :: "r"(1) : "memory"); /* PCMR: count */
  f(0);
  __asm__ volatile("csrw 0xCC1, zero" ::: "memory");      /* PCMR: stop */
  __asm__ volatile("csrr %0, 0x784" : "=r"(imiss));
  __asm__ volatile("csrr %0, 0x780" : "=r"(c));
  *cyc = c;
  return imiss;
}

int main(void) {
  if (core_id() != 0) return 0;
  static const char *const names[4] = {"cold", "warm", "flush", "l1flush"};
  uint32_t imiss[4], cyc[4], dummy;
  fn_t volatile target = cold_fn; /* an indirect call, as in measure */

  /* Start from an empty private cache, so that the few lines used from here on (this
   * code, measure, empty_fn, cold_fn: at most four per 4-way set) evict nothing. */
  mmio_w(ICACHE_BASE + IC_FLUSH_L1_ONLY, 1);
  measure(empty_fn, &dummy);
  imiss[0] = measure(target, &cyc[0]);
  imiss[1] = measure(target, &cyc[1]);
  mmio_w(ICACHE_BASE + IC_FLUSH, 1);
  measure(empty_fn, &dummy);
  imiss[2] = measure(target, &cyc[2]);
  mmio_w(ICACHE_BASE + IC_FLUSH_L1_ONLY, 1);
  measure(empty_fn, &dummy);
  imiss[3] = measure(target, &cyc[3]);

  for (int k = 0; k < 4; k++)
    printf("icache_cold: %s imiss %u cycles %u\n", names[k], imiss[k], cyc[k]);
  return 0;
}
