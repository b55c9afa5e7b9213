// Testbench top for comparing the model's peripheral crossbar with pulp_cluster's
// (components/interconnect/src/periph.rs, test `periph_rtl_compare`; build with
// build_pe.sh). Written for this project; no RTL is kept here.
//
// NC cores, each through its own data_periph_demux (with its periph_FIFO) into one
// xbar_pe_wrap of NB_SPERIPHS targets, as core_region.sv and cluster_interconnect_wrap.sv
// connect them. The cores' request signals are inputs, their grant and response outputs.
// Every target grants at once and answers one cycle later; the external target
// (SPER_EXT_ID: per2axi, L2) answers EXT_LAT cycles later than that. A target's read data
// is its address mixed with the cycle of the grant.

// The constants of pulp_cluster_package.sv that xbar_pe_wrap.sv uses (the package itself
// pulls in the redundancy cells).
package pulp_cluster_package;
  localparam int unsigned NB_SPERIPH_PLUGS_EU = 2;
  localparam int unsigned SPER_EOC_ID = 0;
  localparam int unsigned SPER_TIMER_ID = 1;
  localparam int unsigned SPER_EVENT_U_ID = 2;
  localparam int unsigned SPER_HWPE_ID = 4;
  localparam int unsigned SPER_ICACHE_CTRL = 5;
  localparam int unsigned SPER_EXT_ID = 11;
  localparam int unsigned SPER_ERROR_ID = 12;
endpackage

module pe_tb_top #(
  parameter int unsigned NC = 8,
  parameter int unsigned NS = 12,
  parameter int unsigned EXT_LAT = 0
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic [NC-1:0]   req_i,
  input  logic [31:0]     add_i [NC],
  input  logic [NC-1:0]   wen_i,
  output logic [NC-1:0]   gnt_o,
  output logic [NC-1:0]   r_valid_o,
  output logic [31:0]     r_rdata_o [NC],
  output logic [31:0]     cycle_o
);
  XBAR_PERIPH_BUS #(.ID_WIDTH(NC+1)) pe_bus [NC-1:0] ();
  XBAR_PERIPH_BUS #(.ID_WIDTH(NC+1)) sp_bus [NS-1:0] ();
  XBAR_TCDM_BUS mp_bus [0:0] ();
  logic [31:0] cycle_q;
  always_ff @(posedge clk_i, negedge rst_ni)
    if (!rst_ni) cycle_q <= '0; else cycle_q <= cycle_q + 1;
  assign cycle_o = cycle_q;

  for (genvar i = 0; i < NC; i++) begin : gen_core
    logic sh_req, ext_req, sh_rv, ext_rv;
    always_ff @(posedge clk_i, negedge rst_ni)
      if (!rst_ni) begin sh_rv <= 1'b0; ext_rv <= 1'b0; end
      else begin sh_rv <= sh_req; ext_rv <= ext_req; end
    data_periph_demux #(
      .REMAP_ADDRESS(1), .CLUSTER_ALIAS(1), .CLUSTER_ALIAS_BASE(12'h000)
    ) i_demux (
      .clk(clk_i), .rst_ni, .test_en_i(1'b0), .base_addr_i(4'h1),
      .data_req_i(req_i[i]), .data_add_i(add_i[i]), .data_wen_i(wen_i[i]),
      .data_wdata_i(32'h0), .data_be_i(4'hF), .data_gnt_o(gnt_o[i]),
      .data_r_valid_o(r_valid_o[i]), .data_r_rdata_o(r_rdata_o[i]), .data_r_opc_o(),
      .data_req_o_SH(sh_req), .data_add_o_SH(), .data_wen_o_SH(), .data_wdata_o_SH(),
      .data_be_o_SH(), .data_gnt_i_SH(1'b1), .data_r_valid_i_SH(sh_rv),
      .data_r_rdata_i_SH(32'h0),
      .data_req_o_EXT(ext_req), .data_add_o_EXT(), .data_wen_o_EXT(), .data_wdata_o_EXT(),
      .data_be_o_EXT(), .data_gnt_i_EXT(1'b1), .data_r_valid_i_EXT(ext_rv),
      .data_r_rdata_i_EXT(32'h0), .data_r_opc_i_EXT(1'b0),
      .data_req_o_PE(pe_bus[i].req), .data_add_o_PE(pe_bus[i].add),
      .data_wen_o_PE(pe_bus[i].wen), .data_wdata_o_PE(pe_bus[i].wdata),
      .data_be_o_PE(pe_bus[i].be), .data_gnt_i_PE(pe_bus[i].gnt),
      .data_r_valid_i_PE(pe_bus[i].r_valid), .data_r_opc_i_PE(pe_bus[i].r_opc),
      .data_r_rdata_i_PE(pe_bus[i].r_rdata),
      .perf_l2_ld_o(), .perf_l2_st_o(), .perf_l2_ld_cyc_o(), .perf_l2_st_cyc_o()
    );
  end
  assign mp_bus[0].req = 1'b0;
  assign mp_bus[0].add = '0;
  assign mp_bus[0].wen = 1'b1;
  assign mp_bus[0].wdata = '0;
  assign mp_bus[0].be = '0;

  xbar_pe_wrap #(
    .NB_CORES(NC), .NB_MPERIPHS(1), .NB_SPERIPHS(NS), .ADDR_WIDTH(32), .DATA_WIDTH(32),
    .BE_WIDTH(4), .PE_ROUTING_LSB(10), .PE_ROUTING_MSB(13), .HWPE_PRESENT(1'b1),
    .CLUSTER_ALIAS(1), .CLUSTER_ALIAS_BASE(12'h000), .ADDREXT(1'b0)
  ) i_xbar (
    .clk_i, .rst_ni, .cluster_id_i(6'd0),
    .core_periph_slave(pe_bus), .speriph_master(sp_bus), .mperiph_slave(mp_bus)
  );

  for (genvar s = 0; s < NS; s++) begin : gen_target
    localparam int unsigned D = (s == pulp_cluster_package::SPER_EXT_ID) ? EXT_LAT + 1 : 1;
    logic        v_q  [D];
    logic [NC:0] id_q [D];
    logic [31:0] d_q  [D];
    assign sp_bus[s].gnt = 1'b1;
    always_ff @(posedge clk_i, negedge rst_ni) begin
      if (!rst_ni) begin
        for (int k = 0; k < D; k++) begin v_q[k] <= 1'b0; id_q[k] <= '0; d_q[k] <= '0; end
      end else begin
        v_q[0] <= sp_bus[s].req;
        id_q[0] <= sp_bus[s].id;
        d_q[0] <= sp_bus[s].add ^ (cycle_q << 16);
        for (int k = 1; k < D; k++) begin
          v_q[k] <= v_q[k-1]; id_q[k] <= id_q[k-1]; d_q[k] <= d_q[k-1];
        end
      end
    end
    assign sp_bus[s].r_valid = v_q[D-1];
    assign sp_bus[s].r_id = id_q[D-1];
    assign sp_bus[s].r_rdata = d_q[D-1];
    assign sp_bus[s].r_opc = 1'b0;
  end
endmodule
