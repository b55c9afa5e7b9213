/* redmule-vp firmware SDK: hardware abstraction layer (written for this project). */
#ifndef REDMULE_VP_HAL_H
#define REDMULE_VP_HAL_H

#include <stdint.h>
#include <stdarg.h>
#include <stddef.h>

#ifndef NUM_CORES
#define NUM_CORES 8
#endif

/* ---- address map ---- */
#define TCDM_BASE        0x10000000u
#define TCDM_SIZE        0x00020000u
#define CL_CTRL_BASE     0x10200000u
#define CL_EOC           (CL_CTRL_BASE + 0x000)
#define CL_FETCH_EN      (CL_CTRL_BASE + 0x008)
#define CL_HWPE_CFG      (CL_CTRL_BASE + 0x018)
#define CL_RETURN        (CL_CTRL_BASE + 0x100)
#define CL_HWPE_EN_BIT   (1u << 11)
#define EU_CORE_BASE     0x10204000u   /* per-core event-unit alias */
#define EU_MASK          0x00
#define EU_MASK_AND      0x04
#define EU_MASK_OR       0x08
#define EU_BUFFER        0x1C
#define EU_BUFFER_CLEAR  0x28
#define EU_EVENT_WAIT    0x38
#define EU_EVENT_WAIT_CLEAR 0x3C
#define EU_SW_EVENT(e)   (0x100 + 4 * (e))
#define EU_BARRIER(id)   (0x200 + 0x20 * (id))
#define EU_BAR_TRIGGER_MASK      0x00
#define EU_BAR_TARGET_MASK       0x0C
#define EU_BAR_TRIGGER_WAIT_CLEAR 0x1C
#define EVT_REDMULE      12
#define EVT_BARRIER      16
#define REDMULE_BASE     0x10201000u
#define STDOUT_BASE      0x40000000u
#define L1               __attribute__((section(".l1_bss"), aligned(32)))  /* zeroed TCDM */
#define L1_DATA          __attribute__((section(".l1"), aligned(32)))      /* initialised TCDM */

static inline void     mmio_w(uint32_t a, uint32_t v) { *(volatile uint32_t *)(uintptr_t)a = v; }
static inline uint32_t mmio_r(uint32_t a)             { return *(volatile uint32_t *)(uintptr_t)a; }

/* ---- cores and time ---- */
static inline uint32_t core_id(void) {
  uint32_t h; __asm__ volatile("csrr %0, mhartid" : "=r"(h)); return h & 15;
}
static inline uint32_t cluster_id(void) {
  uint32_t h; __asm__ volatile("csrr %0, mhartid" : "=r"(h)); return (h >> 5) & 63;
}
static inline uint32_t num_cores(void) { return NUM_CORES; }
static inline uint32_t cycles(void) {           /* mcycle, low 32 bits */
  uint32_t c; __asm__ volatile("csrr %0, mcycle" : "=r"(c)); return c;
}

/* ---- event unit (this core's alias) ---- */
static inline void     eu_mask_set(uint32_t m)   { mmio_w(EU_CORE_BASE + EU_MASK_OR, m); }
static inline void     eu_mask_clear(uint32_t m) { mmio_w(EU_CORE_BASE + EU_MASK_AND, m); }
static inline void     eu_buffer_clear(uint32_t m) { mmio_w(EU_CORE_BASE + EU_BUFFER_CLEAR, m); }
static inline uint32_t eu_buffer(void)           { return mmio_r(EU_CORE_BASE + EU_BUFFER); }
/* sleep until (buffer & mask) != 0, return those bits (wait_clear also clears them) */
static inline uint32_t eu_wait(void)             { return mmio_r(EU_CORE_BASE + EU_EVENT_WAIT); }
static inline uint32_t eu_wait_clear(void)       { return mmio_r(EU_CORE_BASE + EU_EVENT_WAIT_CLEAR); }
/* raise software event e (0..7) on the cores of core_mask (0 = all) */
static inline void     eu_sw_trigger(uint32_t e, uint32_t core_mask) {
  mmio_w(EU_CORE_BASE + EU_SW_EVENT(e), core_mask);
}
/* barrier 0, set up by crt0 for all NUM_CORES cores; every core must call it */
static inline void barrier(void) {
  __asm__ volatile("" ::: "memory");
  (void)mmio_r(EU_CORE_BASE + EU_BARRIER(0) + EU_BAR_TRIGGER_WAIT_CLEAR);
  __asm__ volatile("" ::: "memory");
}

/* ---- output ---- */
void hal_putchar(int c);
void hal_puts(const char *s);              /* no newline added */
int  printf(const char *fmt, ...);         /* %d %u %x %X %s %c %%, width, '0' pad, '-' */
int  vprintf(const char *fmt, va_list ap);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* ---- RedMulE ---- */
#define REDMULE_TRIGGER   0x00
#define REDMULE_ACQUIRE   0x04
#define REDMULE_FINISHED  0x08
#define REDMULE_STATUS    0x0C
#define REDMULE_RUNNING   0x10
#define REDMULE_SOFT_CLEAR 0x14
#define REDMULE_X_PTR     0x40
#define REDMULE_W_PTR     0x44
#define REDMULE_Z_PTR     0x48
#define REDMULE_MCFG0     0x4C
#define REDMULE_MCFG1     0x50
#define REDMULE_ARITH     0x54
enum { RM_MATMUL = 0, RM_GEMM, RM_ADDMAX, RM_ADDMIN, RM_MULMAX, RM_MULMIN, RM_MAXMIN, RM_MINMAX };
enum { RM_FP8 = 0, RM_FP16 = 1, RM_FP8ALT = 2, RM_FP16ALT = 3 };

/* enable the HWPE, soft clear, acquire; returns the job id */
int  redmule_init(void);
/* program X (MxN), W (NxK), Z (MxK, read as Y) and start; returns the job id */
int  redmule_start(const void *x, const void *w, void *z,
                   uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt);
/* sleep on event 12 until STATUS reads 0 */
void redmule_wait(void);
/* all of the above */
void redmule_run(const void *x, const void *w, void *z,
                 uint32_t m, uint32_t n, uint32_t k, uint32_t op, uint32_t fmt);

/* ---- FP16 helpers (integer only, no FPU needed) ---- */
typedef uint16_t fp16_t;
uint32_t fp16_to_f32bits(fp16_t h);          /* exact */
fp16_t   f32bits_to_fp16(uint32_t f);        /* round to nearest even */
fp16_t   fp16_fma(fp16_t a, fp16_t b, fp16_t c); /* round_f16(a*b + c), one rounding, RNE */
static inline float fp16_to_float(fp16_t h) {
  union { uint32_t u; float f; } v; v.u = fp16_to_f32bits(h); return v.f;
}
static inline fp16_t float_to_fp16(float f) {
  union { uint32_t u; float f; } v; v.f = f; return f32bits_to_fp16(v.u);
}

/* deterministic pseudo-random numbers (xorshift32, state must be non-zero) */
static inline uint32_t xorshift32(uint32_t *s) {
  uint32_t x = *s; x ^= x << 13; x ^= x >> 17; x ^= x << 5; return *s = x;
}

#endif
