// cimsim_shift_add: the shift-and-add unit of a PE's digital back end (docs/cosim.md).
//
// It turns the ADC samples of one MVM into the tile's int32 outputs, one weight column at a
// time:  out = sat32(bias + sum_i (negate_i ? -1 : 1) * (code_i << shift_i)).
// A column's samples arrive in order; the first carries the column's bias (the encoding's
// correction plus, for an accumulating mvm, the previous output), the last closes it.
//
// Timing contract: one sample per clock (in_ready is high whenever the output register is
// empty or being drained), and a column's result is in the output register one clock after
// its last sample is accepted.
module cimsim_shift_add #(
    parameter int CODE_W = 32,  // ADC code, unsigned, in cell-level units
    parameter int SHIFT_W = 5,  // shift of one sample: DAC step * dac.bits + slice * cell_bits
    parameter int ACC_W = 64    // accumulator and bias, two's complement
) (
    input logic clk,
    input logic rst_n,  // synchronous, active low

    input  logic                    in_valid,
    output logic                    in_ready,
    input  logic [      CODE_W-1:0] in_code,
    input  logic [     SHIFT_W-1:0] in_shift,
    input  logic                    in_negate,
    input  logic                    in_first,
    input  logic                    in_last,
    input  logic signed [ACC_W-1:0] in_bias,

    output logic               out_valid,
    input  logic               out_ready,
    output logic signed [31:0] out_value
);
  localparam logic signed [ACC_W-1:0] Int32Max = ACC_W'(64'sd2147483647);
  localparam logic signed [ACC_W-1:0] Int32Min = -ACC_W'(64'sd2147483648);

  logic signed [ACC_W-1:0] acc;
  logic signed [ACC_W-1:0] term, base, sum;

  // The output register is free when empty or taken in this cycle.
  assign in_ready = !out_valid || out_ready;

  always_comb begin
    term = ACC_W'(in_code) <<< in_shift;
    if (in_negate) term = -term;
    base = in_first ? in_bias : acc;
    sum  = base + term;
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      acc       <= '0;
      out_valid <= 1'b0;
      out_value <= '0;
    end else begin
      if (out_valid && out_ready) out_valid <= 1'b0;
      if (in_valid && in_ready) begin
        if (in_last) begin
          out_valid <= 1'b1;
          out_value <= sum > Int32Max ? 32'sh7fffffff : sum < Int32Min ? 32'sh80000000 : sum[31:0];
        end else begin
          acc <= sum;
        end
      end
    end
  end
endmodule
