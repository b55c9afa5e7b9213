/* Host stand-in for sdk/hal.h: runs an example's main() on 8 POSIX threads so that its
 * logic and printed results can be checked without the virtual platform (cycles read 0,
 * RedMulE is emulated with fp16_fma). Test-only; the firmware never uses it. */
#ifndef HOST_HAL_H
#define HOST_HAL_H
#include <stdint.h>
#include <stdarg.h>
#define NUM_CORES 8
#define L1
#define L1_DATA
typedef uint16_t fp16_t;
enum { RM_MATMUL = 0, RM_GEMM, RM_ADDMAX, RM_ADDMIN, RM_MULMAX, RM_MULMIN, RM_MAXMIN, RM_MINMAX };
enum { RM_FP8 = 0, RM_FP16 = 1, RM_FP8ALT = 2, RM_FP16ALT = 3 };
extern __thread uint32_t host_core;
static inline uint32_t core_id(void) { return host_core; }
static inline uint32_t num_cores(void) { return NUM_CORES; }
static inline uint32_t cycles(void) { return 0; }
void barrier(void);
int host_printf(const char *fmt, ...);
#define printf host_printf
fp16_t fp16_fma(fp16_t a, fp16_t b, fp16_t c);
int  redmule_start(const void *x, const void *w, void *z,
                   uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt);
void redmule_wait(void);
void redmule_run(const void *x, const void *w, void *z,
                 uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt);
static inline uint32_t xorshift32(uint32_t *s) {
  uint32_t x = *s; x ^= x << 13; x ^= x >> 17; x ^= x << 5; return *s = x;
}
#endif
