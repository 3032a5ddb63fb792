// The quantized network: what the hardware computes, as integer layers over activation codes.
//
// Contract
//  - Produced by quantize() (quantizer.h) from a simplified ir::Graph and an ArchSpec's
//    `quantization` section; consumed by the integer reference interpreter
//    (compiler/reference/integer_interpreter.h) and by the backend (compiler/backend/),
//    which maps each layer onto crossbars and the vector unit. Both sides apply exactly the
//    arithmetic written here with the functions of platform/spec/qmath.h, so a lossless,
//    noise-free simulation equals run_integer() bit for bit.
//  - Tensors hold activation codes with zero point 0 (see qmath.h) for ONE image; their
//    logical layout is the ONNX one without the batch dimension: {C, H, W} or {F}.
//    (The hardware stores {C,H,W} tensors channels-last (HWC); that is the backend's business.)
//  - Layers are in topological order; layer i reads only tensors produced earlier or model inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/spec/qmath.h"

namespace cimsim::q {

struct QTensor {
  std::string name;             // ONNX value name
  std::vector<int64_t> shape;   // {C, H, W} or {F}, no batch
  float scale = 1.0f;           // real = code * scale
  bool is_unsigned = false;     // codes in [0, 2^bits-1] instead of [-2^(bits-1), 2^(bits-1)-1]
  int bits = 8;
  int32_t qmin() const { return qmath::qmin_for(bits, is_unsigned); }
  int32_t qmax() const { return qmath::qmax_for(bits, is_unsigned); }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

enum class LayerKind {
  // out[m, y, x] = requantize(bias[m] + sum_{c,ky,kx} W[m][c][ky][kx] * in[g*C/G + c, y*s - p + ky*d, x*s - p + kx*d],
  //                           requant[m], out.qmin, out.qmax)  with zero padding.
  // Gemm/MatMul with constant weights and BatchNormalization that could not be folded are
  // Conv layers too (FC: in {F} or {C,H,W} flattened in CHW order, kernel 1x1, out {N}).
  kConv,
  // out = add_requantize(a, mult_a, b, mult_b, add_shift, out.qmin, out.qmax), elementwise,
  // same shapes (broadcast adds are rejected by the quantizer).
  kAdd,
  // out = max over the window of in (padding never wins); scales equal, no requant.
  kMaxPool,
  // out = requantize(sum over the window of in, avg_multiplier[count], out.qmin, out.qmax)
  // where count = window elements counted (count_include_pad decides whether padding counts).
  // GlobalAveragePool is an AvgPool whose window is the whole plane.
  kAvgPool,
  // Channel concatenation of inputs; each input i is re-scaled through lut_per_input[i]
  // (identity table when its scale equals the output's).
  kConcat,
  // out[i] = lut[in[i] - in.qmin()]: any elementwise function of one code (Sigmoid, Tanh,
  // LeakyRelu, Clip/Relu not fused into a producer, Mul/Div/Add/Sub by a scalar constant,
  // requantization to another scale). Tables are computed in float at compile time.
  kLut,
  // Data no-op: logical reshape (Flatten, Reshape, Squeeze/Unsqueeze) of the codes in CHW order.
  kReshape,
};

const char* layer_kind_name(LayerKind k);

struct ConvParams {
  int64_t in_channels = 0, out_channels = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t group = 1;
  bool is_fc = false;                    // input is flattened (CHW order) to in_channels features
  std::vector<int8_t> weights;           // [M][C/group][kh][kw] codes, |w| <= 2^(Bw-1)-1
  std::vector<float> weight_scale;       // per output channel (size M) — per-tensor repeats one value
  std::vector<int32_t> bias;             // per output channel, in units of in.scale * weight_scale[m]
  std::vector<qmath::QuantizedMultiplier> requant;  // per output channel: in.scale*weight_scale[m]/out.scale
};

struct PoolParams {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  bool count_include_pad = false;
  std::vector<qmath::QuantizedMultiplier> avg_multiplier;  // index = count (0 unused)
};

struct AddParams {
  int32_t mult_a = 0, mult_b = 0;
  int add_shift = 0;
};

struct Layer {
  std::string name;  // ONNX node name of the layer's main node (fused nodes listed in `fused`)
  LayerKind kind = LayerKind::kConv;
  std::vector<int> inputs;  // QTensor ids
  int output = -1;          // QTensor id
  std::vector<std::string> fused;  // names of ONNX nodes folded into this layer (Relu, Clip, BN...)
  ConvParams conv;
  PoolParams pool;
  AddParams add;
  std::vector<int32_t> lut;                        // kLut: 2^in.bits entries
  std::vector<std::vector<int32_t>> lut_per_input;  // kConcat
};

struct QModel {
  std::string name;
  int weight_bits = 8, activation_bits = 8;
  std::vector<QTensor> tensors;
  std::vector<Layer> layers;
  std::vector<int> inputs;   // QTensor ids of the model inputs (quantized on the host)
  std::vector<int> outputs;  // QTensor ids of the model outputs (dequantized on the host)
  std::vector<bool> output_host_softmax;  // per output: a final Softmax runs in float on the host
};

}  // namespace cimsim::q
