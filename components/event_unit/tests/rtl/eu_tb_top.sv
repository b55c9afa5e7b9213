// Testbench shell around event_unit_flex's event_unit_top (as pulp_cluster pins it, 28e0499): the
// eight cores' demux ports (eu_direct_link) flattened for eu_tb.cpp; the global port idle.
interface XBAR_PERIPH_BUS #(parameter ID_WIDTH = 9);
  logic req; logic [31:0] add; logic wen; logic [31:0] wdata; logic [3:0] be; logic gnt;
  logic [ID_WIDTH-1:0] id; logic r_valid; logic r_opc; logic [ID_WIDTH-1:0] r_id;
  logic [31:0] r_rdata;
  modport Master (output req, add, wen, wdata, be, id, input gnt, r_rdata, r_opc, r_id, r_valid);
  modport Slave (input req, add, wen, wdata, be, id, output gnt, r_rdata, r_opc, r_id, r_valid);
endinterface

interface MESSAGE_BUS #(parameter ID_WIDTH = 9);
  logic req; logic [31:0] add; logic wen; logic [31:0] wdata; logic [3:0] be; logic gnt;
  logic [ID_WIDTH-1:0] id; logic r_valid; logic r_opc; logic [ID_WIDTH-1:0] r_id;
  logic [31:0] r_rdata;
  modport Master (output req, add, wen, wdata, be, id, input gnt, r_rdata, r_opc, r_id, r_valid);
  modport Slave (input req, add, wen, wdata, be, id, output gnt, r_rdata, r_opc, r_id, r_valid);
endinterface

// one-hot to binary (common_cells' is deprecated behind an include)
module onehot_to_bin #(parameter int unsigned ONEHOT_WIDTH = 16,
                       parameter int unsigned BIN_WIDTH = ONEHOT_WIDTH == 1 ? 1 : $clog2(ONEHOT_WIDTH))
  (input logic [ONEHOT_WIDTH-1:0] onehot, output logic [BIN_WIDTH-1:0] bin);
  always_comb begin
    bin = '0;
    for (int i = 0; i < ONEHOT_WIDTH; i++) if (onehot[i]) bin = bin | BIN_WIDTH'(i);
  end
endmodule

module eu_tb_top (
  input  logic clk_i, input logic rst_ni,
  input  logic [7:0] req_i, input logic [7:0][31:0] add_i, input logic [7:0] wen_i,
  input  logic [7:0][31:0] wdata_i,
  output logic [7:0] gnt_o, output logic [7:0] r_valid_o, output logic [7:0][31:0] r_rdata_o,
  input  logic [7:0][3:0] acc_events_i,
  input  logic [7:0] core_busy_i,
  output logic [7:0] core_clock_en_o
);
  XBAR_PERIPH_BUS #(.ID_WIDTH(9)) speriph();
  XBAR_PERIPH_BUS #(.ID_WIDTH(9)) link[7:0]();
  assign speriph.req = 1'b0; assign speriph.add = '0; assign speriph.wen = 1'b1;
  assign speriph.wdata = '0; assign speriph.be = '1; assign speriph.id = '0;
  for (genvar i = 0; i < 8; i++) begin : g_link
    assign link[i].req = req_i[i]; assign link[i].add = add_i[i]; assign link[i].wen = wen_i[i];
    assign link[i].wdata = wdata_i[i]; assign link[i].be = 4'hF; assign link[i].id = '0;
    assign gnt_o[i] = link[i].gnt; assign r_valid_o[i] = link[i].r_valid;
    assign r_rdata_o[i] = link[i].r_rdata;
  end
  MESSAGE_BUS #(.ID_WIDTH(9)) message();
  assign message.gnt = 1'b0; assign message.r_valid = 1'b0; assign message.r_opc = 1'b0;
  assign message.r_id = '0; assign message.r_rdata = '0;
  logic [7:0] barrier_matched;
  logic [7:0] irq_req; logic [7:0][4:0] irq_id; logic [7:0] dbg; logic evt_ready;
  event_unit_top #(.NB_CORES(8), .NB_BARR(8), .PER_ID_WIDTH(9), .EVNT_WIDTH(8)) eu (
    .clk_i, .rst_ni, .test_mode_i(1'b0),
    .acc_events_i, .dma_events_i('0), .timer_events_i('0), .cluster_events_i('0),
    .core_irq_req_o(irq_req), .core_irq_id_o(irq_id), .core_irq_ack_i('0), .core_irq_ack_id_i('0),
    .core_busy_i, .core_clock_en_o, .dbg_req_i('0), .core_dbg_req_o(dbg),
    .soc_periph_evt_valid_i(1'b0), .soc_periph_evt_ready_o(evt_ready), .soc_periph_evt_data_i('0),
    .barrier_matched_o(barrier_matched),
    .speriph_slave(speriph), .eu_direct_link(link), .message_master(message));
endmodule

// Stand-in for common_cells' generic_fifo: only on the global peripheral port, which this
// testbench never drives (its request is tied low), so it passes nothing through.
module generic_fifo #(parameter int DATA_WIDTH = 32, parameter int DATA_DEPTH = 2) (
  input logic clk, input logic rst_n, input logic test_mode_i,
  input logic [DATA_WIDTH-1:0] data_i, input logic valid_i, output logic grant_o,
  output logic [DATA_WIDTH-1:0] data_o, output logic valid_o, input logic grant_i);
  assign grant_o = 1'b0; assign valid_o = 1'b0; assign data_o = '0;
endmodule
