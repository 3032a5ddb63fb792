// shift_add_pipelined: the worked example of docs/cosim.md, a drop-in replacement for
// models/rtl/cimsim_shift_add.sv with one more pipeline stage.
//
// Stage 1 registers each accepted sample as its signed, shifted term; stage 2 adds it to the
// column's accumulator and, on the column's last sample, writes the saturated result. Same
// ports, same arithmetic, one sample per clock; a column's result is in the output register
// two clocks after its last sample is accepted, so the platform sees a latency of 2.
// Build with:
//   cmake -B build -DCIMSIM_RTL_SHIFT_ADD_SOURCES=$PWD/models/rtl/examples/shift_add_pipelined.sv \
//         -DCIMSIM_RTL_SHIFT_ADD_TOP=shift_add_pipelined -DCIMSIM_RTL_SHIFT_ADD_LATENCY=2
module shift_add_pipelined #(
    parameter int CODE_W = 32,
    parameter int SHIFT_W = 5,
    parameter int ACC_W = 64
) (
    input logic clk,
    input logic rst_n,

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

  // Stage 1: one registered sample.
  logic s1_valid, s1_first, s1_last;
  logic signed [ACC_W-1:0] s1_term, s1_bias;
  // Stage 2: the column's running sum.
  logic signed [ACC_W-1:0] acc, sum, shifted;

  // Stage 2 can take stage 1 unless that would overwrite a result not yet taken.
  logic s2_ready;
  assign s2_ready = !(s1_valid && s1_last) || !out_valid || out_ready;
  assign in_ready = !s1_valid || s2_ready;
  assign shifted  = ACC_W'(in_code) <<< in_shift;
  assign sum      = (s1_first ? s1_bias : acc) + s1_term;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      s1_valid  <= 1'b0;
      s1_first  <= 1'b0;
      s1_last   <= 1'b0;
      s1_term   <= '0;
      s1_bias   <= '0;
      acc       <= '0;
      out_valid <= 1'b0;
      out_value <= '0;
    end else begin
      if (out_valid && out_ready) out_valid <= 1'b0;
      if (s1_valid && s2_ready) begin
        if (s1_last) begin
          out_valid <= 1'b1;
          out_value <= sum > Int32Max ? 32'sh7fffffff : sum < Int32Min ? 32'sh80000000 : sum[31:0];
        end else begin
          acc <= sum;
        end
      end
      if (in_ready) begin
        s1_valid <= in_valid;
        if (in_valid) begin
          s1_term  <= in_negate ? -shifted : shifted;
          s1_bias  <= in_bias;
          s1_first <= in_first;
          s1_last  <= in_last;
        end
      end
    end
  end
endmodule
