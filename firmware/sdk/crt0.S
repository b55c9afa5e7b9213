/* redmule-vp firmware SDK start-up code (written for this project).
 *
 * Boot protocol (every core starts at _start, the ELF entry):
 *   1. all cores: mtvec = trap handler, enable counters (mcountinhibit = 0),
 *      FPU on (mstatus.FS) when built for F, sp = top of TCDM - core * 2 KiB.
 *   2. core 0: zero .bss (L2) and .l1_bss (TCDM), program barrier 0
 *      (trigger = target = all cores), then write BOOT_MAGIC to the boot flag
 *      __boot_flag (first word of TCDM, never cleared).
 *      cores 1..NUM_CORES-1: spin until the boot flag equals BOOT_MAGIC; cores from
 *      NUM_CORES on (a cluster with more cores than the firmware was built for) go to
 *      sleep at once, as in step 5, and take no part in barrier 0.
 *   3. all cores: event-unit mask |= barrier event (bit 16), call main().
 *   4. all cores: barrier 0 (main must return on every core).
 *   5. core 0: RETURN (0x10200100) = main's value | 1<<31, EOC (0x10200000) = 1.
 *      the other cores (and core 0 after EOC): clear their event mask and sleep
 *      forever on an event-unit wait load.
 * A trap on any core writes RETURN = 0x80000000 | 0x7EAD and EOC = 1.
 */
#ifndef NUM_CORES
#define NUM_CORES       8      /* as sdk/hal.h: the cores the firmware runs on */
#endif
#define TCDM_BOOT_MAGIC 0xB007F1A6
#define EU_CORE         0x10204000
#define EU_MASK_AND     0x04
#define EU_MASK_OR      0x08
#define EU_WAIT         0x38
#define EU_BAR0         0x200
#define EU_BAR_TRIG     0x00
#define EU_BAR_TARGET   0x0C
#define EU_BAR_TWC      0x1C
#define CL_CTRL         0x10200000
#define CL_EOC          0x000
#define CL_RETURN       0x100

  .file "crt0.S"                /* fixed file symbol: reproducible builds */
  .section .text.start, "ax"
  .globl _start
_start:
  la    t0, __trap
  ori   t0, t0, 1
  csrw  mtvec, t0
  csrw  0x320, zero            /* mcountinhibit: run mcycle/minstret */
#ifdef __riscv_flen
  li    t0, 1 << 13            /* mstatus.FS = initial */
  csrs  mstatus, t0
  fscsr zero
#endif
.option push
.option norelax
  la    gp, __global_pointer$
.option pop
  csrr  s0, mhartid
  andi  s0, s0, 15             /* s0 = core id */
  la    sp, __stack_top
  slli  t0, s0, 11             /* core * 0x800 (__stack_size) */
  sub   sp, sp, t0

  la    s1, __boot_flag
  li    s2, TCDM_BOOT_MAGIC
  bnez  s0, 3f

  /* core 0: clear .bss and .l1_bss */
  la    t0, __bss_start
  la    t1, __bss_end
1: bgeu t0, t1, 1f
  sw    zero, 0(t0)
  addi  t0, t0, 4
  j     1b
1:
  la    t0, __l1_bss_start
  la    t1, __l1_bss_end
2: bgeu t0, t1, 2f
  sw    zero, 0(t0)
  addi  t0, t0, 4
  j     2b
2:
  /* barrier 0: all NUM_CORES cores trigger it and are woken by it */
  li    t0, EU_CORE + EU_BAR0
  li    t1, (1 << NUM_CORES) - 1
  sw    t1, EU_BAR_TRIG(t0)
  sw    t1, EU_BAR_TARGET(t0)
  fence
  sw    s2, 0(s1)              /* release the other cores */
  j     4f

3: /* cores 1..NUM_CORES-1: wait for core 0; the cores beyond sleep */
  li    t0, NUM_CORES
  bgeu  s0, t0, 5f
8: lw    t0, 0(s1)
  bne   t0, s2, 8b

4: /* every core: listen to the barrier event, run main */
  li    t0, EU_CORE
  li    t1, 1 << 16
  sw    t1, EU_MASK_OR(t0)
  call  main
  mv    s3, a0
  li    t0, EU_CORE + EU_BAR0
  lw    t1, EU_BAR_TWC(t0)     /* barrier: everyone returned from main */
  bnez  s0, 5f
  li    t0, CL_CTRL
  li    t1, 1 << 31
  or    t1, t1, s3
  sw    t1, CL_RETURN(t0)
  li    t1, 1
  sw    t1, CL_EOC(t0)
5: /* sleep forever */
  li    t0, EU_CORE
  li    t1, -1
  sw    t1, EU_MASK_AND(t0)
6: lw   t1, EU_WAIT(t0)
  j     6b

  /* mtvec is vectored on CV32E40P: base must be 256-byte aligned */
  .section .text.trap, "ax"
  .balign 256
__trap:
  li    t0, CL_CTRL
  li    t1, 0x80007EAD
  sw    t1, CL_RETURN(t0)
  li    t1, 1
  sw    t1, CL_EOC(t0)
7: j    7b

  .section .l1_boot, "aw", @nobits
  .balign 4
  .globl __boot_flag
__boot_flag:
  .space 4
