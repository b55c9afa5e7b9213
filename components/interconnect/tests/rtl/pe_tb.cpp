// Verilator testbench of pe_tb_top.sv (the peripheral crossbar; see there). Written for
// this project; no RTL is kept here.
//
// usage: sim < SCRIPT
// SCRIPT: one access per line, "core gap addr write" (decimal, hex address), each core's
// in order: the core presents it `gap` cycles after the cycle following its previous
// grant (the first `gap` cycles after reset) and holds it until granted. Prints
// "G core cycle" for each grant and "R core cycle data" for each response, in cycle
// order, then "END cycle"; exit status 1 if the accesses are not all granted within
// 100,000 cycles.
#include "verilated.h"
#include "Vpe_tb_top.h"
#include <cstdint>
#include <cstdio>
#include <deque>
#include <vector>

struct Access { uint64_t gap; uint32_t addr; bool write; };

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  const int NC = 8;
  std::vector<std::deque<Access>> q(NC);
  unsigned c, w; unsigned long long gap; unsigned addr;
  size_t left = 0;
  while (scanf("%u %llu %x %u", &c, &gap, &addr, &w) == 4) {
    if (c >= NC) return 2;
    q[c].push_back({gap, addr, w != 0});
    left++;
  }
  Vpe_tb_top *t = new Vpe_tb_top;
  t->clk_i = 0; t->rst_ni = 0; t->req_i = 0; t->wen_i = 0xFF;
  for (int i = 0; i < 4; i++) { t->clk_i = !t->clk_i; t->eval(); }
  t->rst_ni = 1;
  std::vector<uint64_t> ready(NC, 0);
  std::vector<bool> on(NC, false);
  for (int i = 0; i < NC; i++) if (!q[i].empty()) ready[i] = q[i].front().gap;
  for (uint64_t cyc = 0; cyc < 100000; cyc++) {
    t->clk_i = 0;
    uint32_t req = 0, wen = 0;
    for (int i = 0; i < NC; i++) {
      if (!on[i] && !q[i].empty() && cyc >= ready[i]) on[i] = true;
      if (on[i]) {
        req |= 1u << i;
        t->add_i[i] = q[i].front().addr;
        if (!q[i].front().write) wen |= 1u << i;
      } else {
        t->add_i[i] = 0;
        wen |= 1u << i;
      }
    }
    t->req_i = req; t->wen_i = wen;
    t->eval();
    for (int i = 0; i < NC; i++) {
      if ((t->r_valid_o >> i) & 1)
        printf("R %d %llu %08x\n", i, (unsigned long long)cyc, t->r_rdata_o[i]);
    }
    for (int i = 0; i < NC; i++) {
      if (on[i] && ((t->gnt_o >> i) & 1)) {
        printf("G %d %llu\n", i, (unsigned long long)cyc);
        q[i].pop_front();
        on[i] = false;
        left--;
        if (!q[i].empty()) ready[i] = cyc + 1 + q[i].front().gap;
      }
    }
    t->clk_i = 1;
    t->eval();
    if (left == 0) {
      // the last responses
      for (int k = 0; k < 3; k++) {
        t->clk_i = 0; t->req_i = 0; t->eval();
        for (int i = 0; i < NC; i++)
          if ((t->r_valid_o >> i) & 1)
            printf("R %d %llu %08x\n", i, (unsigned long long)(cyc + 1 + k), t->r_rdata_o[i]);
        t->clk_i = 1; t->eval();
      }
      printf("END %llu\n", (unsigned long long)cyc);
      delete t;
      return 0;
    }
  }
  delete t;
  return 1;
}
