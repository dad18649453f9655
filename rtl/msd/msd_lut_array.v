// R x C array of MSD's lut_pe (lut_pe.sv, this folder) wired as MSD's lut_sys.sv: weights along
// the rows, activations and partial sums down the columns, the last row's bottom_out the
// output. Flat buses because Yosys 0.23 does not read lut_sys.sv's packed two-dimensional ports.
module msd_lut_array #(
    parameter ROWS = 4,
    parameter COLS = 4
) (
    input clk,
    input rst_n,
    input psum_sel,
    input [COLS*8-1:0] act_in,
    input [ROWS*4-1:0] wgt_idx,
    output [COLS*8-1:0] psu_out
);
  wire [4-1:0] h[0:ROWS-1][0:COLS];
  wire [8-1:0] v[0:ROWS][0:COLS-1];
  genvar r, c;
  generate
    for (r = 0; r < ROWS; r = r + 1) begin : row
      assign h[r][0] = wgt_idx[r*4+:4];
      for (c = 0; c < COLS; c = c + 1) begin : col
        if (r == 0) begin : top
          assign v[0][c] = act_in[c*8+:8];
        end
        lut_pe pe (.clk(clk), .rst_n(rst_n), .psum_sel(psum_sel), .left_in(h[r][c]),
                   .top_in(v[r][c]), .right_out(h[r][c+1]), .bottom_out(v[r+1][c]));
      end
    end
    for (c = 0; c < COLS; c = c + 1) begin : out
      assign psu_out[c*8+:8] = v[ROWS][c];
    end
  endgenerate
endmodule
