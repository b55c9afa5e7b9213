// Verilator testbench for the CV32E40P FPU's divide/square-root unit on its own: the
// core's FPU wrapper (cv32e40p_fp_wrapper, FPU_ADDMUL_LAT = 2 as in the PULP cluster),
// driven through its APU port as the core's dispatcher drives it
// (components/core/tests/rtl_compare.rs `divsqrt_*`; build with build.sh). Written for
// this project; no RTL is kept here.
//
// stdin, one operation per line: OP A B RM  (OP 4 = DIV, 5 = SQRT, fpnew_pkg
// operation_e; A, B hex bit patterns; RM the rounding mode 0..4)
// stdout, one line per operation: RESULT FLAGS CYCLES  (hex, hex, decimal), CYCLES
// counting the clock edges from the one that takes the request (apu_gnt) to the first
// one at which apu_rvalid is high (an ADD of this build gives 2).
// Exit status 1 when an operation is not granted or does not finish in 1000 cycles.
#include "Vcv32e40p_fp_wrapper.h"
#include "verilated.h"
#include <cstdio>

static Vcv32e40p_fp_wrapper *t;

// one clock edge, then the combinational outputs of the next cycle
static void edge() {
  t->clk_i = 1;
  t->eval();
  t->clk_i = 0;
  t->eval();
}

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  t = new Vcv32e40p_fp_wrapper;
  t->clk_i = 0;
  t->rst_ni = 0;
  t->apu_req_i = 0;
  t->eval();
  edge();
  edge();
  t->rst_ni = 1;
  edge();
  unsigned op, a, b, rm;
  while (scanf("%u %x %x %u", &op, &a, &b, &rm) == 4) {
    t->apu_operands_i[0] = a;
    t->apu_operands_i[1] = b;
    t->apu_operands_i[2] = 0;
    t->apu_op_i = op;     // {vectorial_op, op_mod, op}: scalar, no modifier
    t->apu_flags_i = rm;  // {int_fmt, src_fmt, dst_fmt, rnd_mode}: FP32 formats are 0
    t->apu_req_i = 1;
    t->eval();
    int n = 0;
    while (!t->apu_gnt_o) {
      edge();
      if (++n > 1000) {
        printf("no grant\n");
        return 1;
      }
    }
    edge(); // the grant edge
    t->apu_req_i = 0;
    t->eval();
    int cycles = 1;
    while (!t->apu_rvalid_o) {
      edge();
      if (++cycles > 1000) {
        printf("no result\n");
        return 1;
      }
    }
    printf("%08x %02x %d\n", t->apu_rdata_o, t->apu_rflags_o, cycles);
    fflush(stdout);
    edge();
  }
  delete t;
  return 0;
}
