// Test wrapper (ours): pulp-platform/hci hci_interconnect as pulp_cluster instantiates it
// (8 cores, 4 external and 4 DMA ports in the LIC, NMEM banks of a 128 KiB TCDM, one
// or NHWPE HWPE ports of WORDS words; 16, 1 and 9 in the cluster) with flat ports for
// hci_tb.cpp; the banks always grant and answer the next cycle.
module hci_tb_top
  import hci_package::*;
#(
  parameter int unsigned NMEM  = 16,
  parameter int unsigned WORDS = 9,
  parameter int unsigned NHWPE = 1
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic [7:0]  max_stall_i,   // pinned: low_prio_max_stall; v2.4: the numerator
  input  logic [7:0]  den_i,         // v2.4: the denominator
  input  logic        invert_prio_i,
  input  logic [15:0] n_req_i,
  input  logic [31:0] n_add_i [16],
  input  logic [15:0] n_wen_i,
  output logic [15:0] n_gnt_o,
  input  logic [NHWPE-1:0] w_req_i,
  input  logic [31:0]      w_add_i [NHWPE],
  input  logic [NHWPE-1:0] w_wen_i,
  output logic [NHWPE-1:0] w_gnt_o,
  output logic [NMEM-1:0] m_req_o
);
  // bank address width in bytes: log2 of the words per bank, + 2
  localparam int unsigned AWM = $clog2(128 * 1024 / 4 / NMEM) + 2;
  localparam hci_size_parameter_t HCI_SIZE_cores = '{DW: 32, AW: 32, BW: 8, UW: 1, IW: 8, EW: 1, EHW: 1};
  localparam hci_size_parameter_t HCI_SIZE_mems  = '{DW: 32, AW: AWM, BW: 8, UW: 1, IW: 17, EW: 1, EHW: 1};
  localparam hci_size_parameter_t HCI_SIZE_hwpe  = '{DW: 32 * WORDS, AW: 32, BW: 8, UW: 1, IW: 8, EW: 1, EHW: 1};

  hci_interconnect_ctrl_t ctrl;
  assign ctrl.arb_policy = '0;
  assign ctrl.invert_prio = invert_prio_i;
`ifdef HCI_V24
  assign ctrl.priority_cnt_numerator = max_stall_i;
  assign ctrl.priority_cnt_denominator = den_i;
`else
  assign ctrl.low_prio_max_stall = max_stall_i;
`endif

  hci_core_intf #(.DW(32), .AW(32), .BW(8), .UW(1), .IW(8), .EW(1), .EHW(1)) cores [0:7] (.clk(clk_i));
  hci_core_intf #(.DW(32), .AW(32), .BW(8), .UW(1), .IW(8), .EW(1), .EHW(1)) dma [0:3] (.clk(clk_i));
  hci_core_intf #(.DW(32), .AW(32), .BW(8), .UW(1), .IW(8), .EW(1), .EHW(1)) ext [0:3] (.clk(clk_i));
  hci_core_intf #(.DW(32), .AW(AWM), .BW(8), .UW(1), .IW(17), .EW(1), .EHW(1)) mems [0:NMEM-1] (.clk(clk_i));
  hci_core_intf #(.DW(32 * WORDS), .AW(32), .BW(8), .UW(1), .IW(8), .EW(1), .EHW(1)) hwpe [0:NHWPE-1] (.clk(clk_i));

  for (genvar i = 0; i < 8; i++) begin : g_cores
    assign cores[i].req = n_req_i[i];
    assign cores[i].add = n_add_i[i];
    assign cores[i].wen = n_wen_i[i];
    assign cores[i].data = '0; assign cores[i].be = '1; assign cores[i].user = '0; assign cores[i].id = '0;
    assign cores[i].r_ready = 1'b1; assign cores[i].ecc = '0; assign cores[i].ereq = '0; assign cores[i].r_eready = '0;
    assign n_gnt_o[i] = cores[i].gnt;
  end
  for (genvar i = 0; i < 4; i++) begin : g_dma
    assign dma[i].req = n_req_i[12+i];
    assign dma[i].add = n_add_i[12+i];
    assign dma[i].wen = n_wen_i[12+i];
    assign dma[i].data = '0; assign dma[i].be = '1; assign dma[i].user = '0; assign dma[i].id = '0;
    assign dma[i].r_ready = 1'b1; assign dma[i].ecc = '0; assign dma[i].ereq = '0; assign dma[i].r_eready = '0;
    assign n_gnt_o[12+i] = dma[i].gnt;
    assign ext[i].req = n_req_i[8+i];
    assign ext[i].add = n_add_i[8+i];
    assign ext[i].wen = n_wen_i[8+i];
    assign ext[i].data = '0; assign ext[i].be = '1; assign ext[i].user = '0; assign ext[i].id = '0;
    assign ext[i].r_ready = 1'b1; assign ext[i].ecc = '0; assign ext[i].ereq = '0; assign ext[i].r_eready = '0;
    assign n_gnt_o[8+i] = ext[i].gnt;
  end
  for (genvar j = 0; j < NHWPE; j++) begin : g_hwpe
    assign hwpe[j].req = w_req_i[j];
    assign hwpe[j].add = w_add_i[j];
    assign hwpe[j].wen = w_wen_i[j];
    assign hwpe[j].data = '0; assign hwpe[j].be = '1; assign hwpe[j].user = '0; assign hwpe[j].id = '0;
    assign hwpe[j].r_ready = 1'b1; assign hwpe[j].ecc = '0; assign hwpe[j].ereq = '0; assign hwpe[j].r_eready = '0;
    assign w_gnt_o[j] = hwpe[j].gnt;
  end

  // banks: always grant, answer the next cycle
  for (genvar b = 0; b < NMEM; b++) begin : g_mems
    logic rv;
    always_ff @(posedge clk_i or negedge rst_ni) if (!rst_ni) rv <= 1'b0; else rv <= mems[b].req;
    assign mems[b].gnt = 1'b1;
    assign mems[b].r_valid = rv;
    assign mems[b].r_data = '0; assign mems[b].r_user = '0; assign mems[b].r_id = '0; assign mems[b].r_opc = '0;
    assign mems[b].r_ecc = '0; assign mems[b].egnt = '0; assign mems[b].r_evalid = '0;
    assign m_req_o[b] = mems[b].req;
  end

  hci_interconnect #(
    .N_HWPE(NHWPE), .N_CORE(8), .N_DMA(4), .N_EXT(4), .N_MEM(NMEM), .TS_BIT(21), .IW(17), .EXPFIFO(0), .SEL_LIC(0),
    .HCI_SIZE_cores(HCI_SIZE_cores), .HCI_SIZE_mems(HCI_SIZE_mems), .HCI_SIZE_hwpe(HCI_SIZE_hwpe)
  ) i_hci (
    .clk_i, .rst_ni, .clear_i(1'b0), .ctrl_i(ctrl),
    .cores, .dma, .ext, .mems, .hwpe
  );
endmodule
