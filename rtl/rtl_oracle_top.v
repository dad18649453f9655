// The arrays the Verilator oracle test (tests/rtl/test_rtl_oracle.cpp) runs, one top so that one
// verilation builds them all. Widths are small on purpose: a 14-bit accumulator overflows within
// a few products, so the wrap and saturate rules are exercised; a lane offset of 14 gives packed
// chains of 4 products (DSP48E1, 4-bit weights, 8-bit activations), so tiles drain several times.
module rtl_oracle_top #(
    parameter R = 3,
    parameter C = 4,
    parameter A = 8,
    parameter M1 = 2,
    parameter M2 = 1,
    parameter LACC = 14,
    parameter AW = 25,
    parameter D = 14,
    parameter DACC = 24
) (
    input clk,
    // bit-parallel SP2, wrapping
    input lw_start,
    input [15:0] lw_tk,
    input [15:0] lw_passes,
    output lw_step_valid,
    output [15:0] lw_step_k,
    output [15:0] lw_step_pass,
    input [R*(1+M1+M2)-1:0] lw_codes,
    input [C*A-1:0] lw_xs,
    output [R*C*LACC-1:0] lw_outs,
    output lw_out_valid,
    // bit-parallel SP2, saturating
    input ls_start,
    input [15:0] ls_tk,
    input [15:0] ls_passes,
    output ls_step_valid,
    output [15:0] ls_step_k,
    output [15:0] ls_step_pass,
    input [R*(1+M1+M2)-1:0] ls_codes,
    input [C*A-1:0] ls_xs,
    output [R*C*LACC-1:0] ls_outs,
    output ls_out_valid,
    // bit-serial SP2, wrapping (PEs without a product register)
    input bw_start,
    input [15:0] bw_tk,
    input [15:0] bw_passes,
    input [15:0] bw_digits,
    output bw_step_valid,
    output [15:0] bw_step_k,
    output [15:0] bw_step_pass,
    output [15:0] bw_step_sub,
    input [R*(1+M1)-1:0] bw_ds,
    input [C*A-1:0] bw_xs,
    output [R*C*LACC-1:0] bw_outs,
    output bw_out_valid,
    // bit-serial SP2, saturating
    input bs_start,
    input [15:0] bs_tk,
    input [15:0] bs_passes,
    input [15:0] bs_digits,
    output bs_step_valid,
    output [15:0] bs_step_k,
    output [15:0] bs_step_pass,
    output [15:0] bs_step_sub,
    input [R*(1+M1)-1:0] bs_ds,
    input [C*A-1:0] bs_xs,
    output [R*C*LACC-1:0] bs_outs,
    output bs_out_valid,
    // packed DSP
    input dp_start,
    input [15:0] dp_tk,
    input [15:0] dp_passes,
    input [15:0] dp_chain,
    output dp_step_valid,
    output [15:0] dp_step_k,
    output [15:0] dp_step_pass,
    input [R*AW-1:0] dp_as,
    input [C*A-1:0] dp_xs,
    output [R*C*DACC-1:0] dp_outs_hi,
    output [R*C*DACC-1:0] dp_outs_lo,
    output dp_out_valid,
    // unpacked DSP (one row per slice), LACC-bit wrapping accumulators
    input du_start,
    input [15:0] du_tk,
    input [15:0] du_passes,
    output du_step_valid,
    output [15:0] du_step_k,
    output [15:0] du_step_pass,
    input [R*AW-1:0] du_as,
    input [C*A-1:0] du_xs,
    output [R*C*LACC-1:0] du_outs,
    output du_out_valid,
    // unpacked DSP (one row per slice), DACC-bit wrapping accumulators
    input dw_start,
    input [15:0] dw_tk,
    input [15:0] dw_passes,
    output dw_step_valid,
    output [15:0] dw_step_k,
    output [15:0] dw_step_pass,
    input [R*AW-1:0] dw_as,
    input [C*A-1:0] dw_xs,
    output [R*C*DACC-1:0] dw_outs,
    output dw_out_valid,
    // activation-packed DSP
    input ap_start,
    input [15:0] ap_tk,
    input [15:0] ap_passes,
    input [15:0] ap_chain,
    output ap_step_valid,
    output [15:0] ap_step_k,
    output [15:0] ap_step_pass,
    input [R*(1+M1+M2)-1:0] ap_ws,
    input [2*C*A-1:0] ap_xs,
    output [R*C*DACC-1:0] ap_outs_hi,
    output [R*C*DACC-1:0] ap_outs_lo,
    output ap_out_valid
);
  lut_array #(.R(R), .C(C), .A(A), .M1(M1), .M2(M2), .ACC(LACC), .SAT(0)) lw (
      .clk(clk), .start(lw_start), .tk(lw_tk), .passes(lw_passes), .step_valid(lw_step_valid),
      .step_k(lw_step_k), .step_pass(lw_step_pass), .codes(lw_codes), .xs(lw_xs), .shift(1'b0),
      .outs(lw_outs), .out_valid(lw_out_valid));
  lut_array #(.R(R), .C(C), .A(A), .M1(M1), .M2(M2), .ACC(LACC), .SAT(1)) ls (
      .clk(clk), .start(ls_start), .tk(ls_tk), .passes(ls_passes), .step_valid(ls_step_valid),
      .step_k(ls_step_k), .step_pass(ls_step_pass), .codes(ls_codes), .xs(ls_xs), .shift(1'b0),
      .outs(ls_outs), .out_valid(ls_out_valid));
  bitserial_array #(.R(R), .C(C), .A(A), .M1(M1), .ACC(LACC), .SAT(0)) bw (
      .clk(clk), .start(bw_start), .tk(bw_tk), .passes(bw_passes), .digits(bw_digits),
      .step_valid(bw_step_valid), .step_k(bw_step_k), .step_pass(bw_step_pass),
      .step_sub(bw_step_sub), .ds(bw_ds), .xs(bw_xs), .shift(1'b0), .outs(bw_outs),
      .out_valid(bw_out_valid));
  bitserial_array #(.R(R), .C(C), .A(A), .M1(M1), .ACC(LACC), .SAT(1)) bs (
      .clk(clk), .start(bs_start), .tk(bs_tk), .passes(bs_passes), .digits(bs_digits),
      .step_valid(bs_step_valid), .step_k(bs_step_k), .step_pass(bs_step_pass),
      .step_sub(bs_step_sub), .ds(bs_ds), .xs(bs_xs), .shift(1'b0), .outs(bs_outs),
      .out_valid(bs_out_valid));
  dsp_array #(.R(R), .C(C), .A(A), .AW(AW), .D(D), .ACC(DACC), .SAT(0)) dp (
      .clk(clk), .start(dp_start), .tk(dp_tk), .passes(dp_passes), .chain(dp_chain),
      .step_valid(dp_step_valid), .step_k(dp_step_k), .step_pass(dp_step_pass), .as(dp_as),
      .xs(dp_xs), .shift(1'b0), .outs_hi(dp_outs_hi), .outs_lo(dp_outs_lo),
      .out_valid(dp_out_valid));
  wire [R*C*LACC-1:0] du_outs_hi_unused;
  dsp_array #(.R(R), .C(C), .A(A), .AW(AW), .D(D), .ACC(LACC), .SAT(0), .PACKED(0)) du (
      .clk(clk), .start(du_start), .tk(du_tk), .passes(du_passes), .chain(16'd1),
      .step_valid(du_step_valid), .step_k(du_step_k), .step_pass(du_step_pass), .as(du_as),
      .xs(du_xs), .shift(1'b0), .outs_hi(du_outs_hi_unused), .outs_lo(du_outs),
      .out_valid(du_out_valid));
  wire [R*C*DACC-1:0] dw_outs_hi_unused;
  dsp_array #(.R(R), .C(C), .A(A), .AW(AW), .D(D), .ACC(DACC), .SAT(0), .PACKED(0)) dw (
      .clk(clk), .start(dw_start), .tk(dw_tk), .passes(dw_passes), .chain(16'd1),
      .step_valid(dw_step_valid), .step_k(dw_step_k), .step_pass(dw_step_pass), .as(dw_as),
      .xs(dw_xs), .shift(1'b0), .outs_hi(dw_outs_hi_unused), .outs_lo(dw_outs),
      .out_valid(dw_out_valid));
  dsp_actpacked_array #(.R(R), .C(C), .A(A), .WB(1 + M1 + M2), .AW(AW), .D(D), .ACC(DACC), .SAT(0)) ap (
      .clk(clk), .start(ap_start), .tk(ap_tk), .passes(ap_passes), .chain(ap_chain),
      .step_valid(ap_step_valid), .step_k(ap_step_k), .step_pass(ap_step_pass), .ws(ap_ws),
      .xs(ap_xs), .shift(1'b0), .outs_hi(ap_outs_hi), .outs_lo(ap_outs_lo),
      .out_valid(ap_out_valid));
endmodule
