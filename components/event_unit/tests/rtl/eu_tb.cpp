// Scripted cores on event_unit_top's demux ports. stdin: one op per line,
//   CORE CYCLE R ADDR        read (request held until granted)
//   CORE CYCLE W ADDR DATA   write
//   - CYCLE E CORE LINE      pulse accelerator event LINE (0..3) for CORE in that cycle
// A core's op requests from max(CYCLE, the cycle after its previous op's grant).
// stdout per op: CORE ISSUE GNT RVALID RDATA (hex); runs 2,000 cycles at most (rtl_compare.rs
// HORIZON), then names the ops still requesting: CORE STUCK ISSUE.
#include "Veu_tb_top.h"
#include "verilated.h"
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <vector>
struct Op { int core; unsigned long long cyc; char kind; unsigned addr, data, line; };
int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  std::vector<std::deque<Op>> q(8);
  std::vector<Op> evs;
  char buf[256];
  while (fgets(buf, sizeof buf, stdin)) {
    Op o{}; char c0[8];
    if (sscanf(buf, "%7s %llu %c", c0, &o.cyc, &o.kind) < 3) continue;
    if (o.kind == 'E') { sscanf(buf, "%*s %*llu %*c %d %u", &o.core, &o.line); evs.push_back(o); continue; }
    o.core = atoi(c0);
    if (o.kind == 'R') sscanf(buf, "%*s %*llu %*c %x", &o.addr);
    else sscanf(buf, "%*s %*llu %*c %x %x", &o.addr, &o.data);
    q[o.core].push_back(o);
  }
  Veu_tb_top *t = new Veu_tb_top;
  t->clk_i = 0; t->rst_ni = 0; t->req_i = 0; t->wen_i = 0xff; t->core_busy_i = 0xff;
  t->acc_events_i = 0;
  for (int i = 0; i < 10; i++) { t->clk_i = !t->clk_i; t->eval(); }
  t->rst_ni = 1;
  // per core: requesting the front op (req held until gnt); a granted op's response is
  // printed when r_valid comes; the next op may request from the cycle after a grant
  std::vector<int> req_on(8, 0);
  std::vector<std::deque<std::pair<unsigned long long, unsigned long long>>> out(8);
  std::vector<unsigned long long> ready(8, 0), issue(8);
  for (unsigned long long cyc = 0; cyc < 2000; cyc++) {
    t->clk_i = 0;
    unsigned acc = 0;
    for (auto &e : evs) if (e.cyc == cyc) acc |= 1u << (e.core * 4 + e.line);
    t->acc_events_i = acc;
    unsigned req = 0, wen = 0;
    for (int c = 0; c < 8; c++) {
      if (!req_on[c] && !q[c].empty() && q[c].front().cyc <= cyc && ready[c] <= cyc) {
        req_on[c] = 1; issue[c] = cyc;
      }
      if (req_on[c]) {
        Op &o = q[c].front();
        req |= 1u << c;
        if (o.kind == 'R') wen |= 1u << c;
        t->add_i[c] = o.addr; t->wdata_i[c] = o.data;
      } else {
        wen |= 1u << c;
      }
    }
    t->req_i = req; t->wen_i = wen;
    t->eval();
    for (int c = 0; c < 8; c++) {
      if (!out[c].empty() && (t->r_valid_o >> c & 1)) {
        auto [i, g] = out[c].front();
        printf("%d %llu %llu %llu %08x\n", c, i, g, cyc, t->r_rdata_o[c]);
        out[c].pop_front();
      }
    }
    unsigned g = t->gnt_o;
    for (int c = 0; c < 8; c++)
      if (req_on[c] && (g >> c & 1)) {
        req_on[c] = 0; out[c].push_back({issue[c], cyc}); q[c].pop_front(); ready[c] = cyc + 1;
      }
    t->clk_i = 1;
    t->eval();
    bool left = false;
    for (int c = 0; c < 8; c++) left |= !q[c].empty() || !out[c].empty();
    if (!left) break;
  }
  for (int c = 0; c < 8; c++) if (req_on[c]) printf("%d STUCK %llu\n", c, issue[c]);
  delete t;
  return 0;
}
