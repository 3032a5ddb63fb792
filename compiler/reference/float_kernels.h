// Float kernels of the reference interpreter, one per operator, plus the SGEMM/im2col they
// are built on. Shared by run_float() and by constant folding in simplify().
//
// Contract: kernels read NCHW row-major FloatTensors and write outputs whose `shape` the
// caller has already set (the statically inferred shape); they size `data` themselves.
// 1-D windows ([N, C, L]) are computed as 2-D with H = 1. Integer-typed outputs of
// Add/Sub/Mul/Div follow ONNX integer semantics (truncating division, wrap to the type).
// im2col order (also used by the mapper): row k of the column matrix is
// k = (c * kH + kh) * kW + kw, column j = oh * OW + ow — i.e. the weight tensor [M, C/g, kH, kW]
// read row-major as [M, K] multiplies it directly.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "compiler/frontend/graph.h"

namespace cimsim::reference {

// Threads used by sgemm/conv (default min(2, hardware threads)); 1 disables threading.
void set_float_threads(int threads);
int float_threads();

// The weight products of conv (all but depthwise) and gemm: Y[M,P] = W[M,K] * X[K,P],
// row-major and dense, W the layer's weights (Gemm's B operand, transposed to [N,K]). Empty
// (the default): sgemm. A tool that models how hardware computes these products (block
// floating point through the crossbar, platform/bfp) installs one around a run_float() call.
using WeightProduct = std::function<void(int64_t M, int64_t P, int64_t K, const float* W,
                                         const float* X, float* Y)>;
// Installs `f` and returns the previous one. Not thread-safe: install before a run.
WeightProduct set_weight_product(WeightProduct f);

// C[M,N] = A[M,K] * B[K,N] (+ C when accumulate); row-major with leading dimensions.
void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc, bool accumulate);

// Column matrix [C*kH*kW, OH*OW] of one image x[C, H, W]; zero where the window reads padding.
void im2col(const float* x, int64_t C, int64_t H, int64_t W, const ir::WindowParams& p,
            int64_t OH, int64_t OW, float* col);

// Spatial dims of a 3-D or 4-D NC[H]W shape as (H, W).
void spatial_hw(const std::vector<int64_t>& shape, int64_t* H, int64_t* W);

void conv(const ir::FloatTensor& x, const ir::FloatTensor& w, const ir::FloatTensor* bias,
          const ir::WindowParams& p, ir::FloatTensor& y);
void max_pool(const ir::FloatTensor& x, const ir::WindowParams& p, ir::FloatTensor& y);
void average_pool(const ir::FloatTensor& x, const ir::WindowParams& p, ir::FloatTensor& y);
void global_average_pool(const ir::FloatTensor& x, ir::FloatTensor& y);
void gemm(const ir::FloatTensor& a, const ir::FloatTensor& b, const ir::FloatTensor* c, float alpha,
          float beta, bool trans_a, bool trans_b, ir::FloatTensor& y);
void matmul(const ir::FloatTensor& a, const ir::FloatTensor& b, ir::FloatTensor& y);

enum class BinaryOp { kAdd, kSub, kMul, kDiv };
// Numpy broadcasting; y.shape is the broadcast shape. `integer_type` (may be null) selects
// integer semantics for that ONNX type.
void binary(BinaryOp op, const ir::FloatTensor& a, const ir::FloatTensor& b, ir::FloatTensor& y,
            const ir::DType* integer_type);

void batch_norm(const ir::FloatTensor& x, const ir::FloatTensor& scale, const ir::FloatTensor& bias,
                const ir::FloatTensor& mean, const ir::FloatTensor& var, float epsilon,
                ir::FloatTensor& y);
// coerce_2d: opset < 13 semantics (softmax over the flattened dims >= axis).
void softmax(const ir::FloatTensor& x, int64_t axis, bool coerce_2d, ir::FloatTensor& y);
void transpose(const ir::FloatTensor& x, const std::vector<int64_t>& perm, ir::FloatTensor& y);
void concat(const std::vector<const ir::FloatTensor*>& xs, int64_t axis, ir::FloatTensor& y);
void gather(const ir::FloatTensor& x, const ir::FloatTensor& indices, int64_t axis, ir::FloatTensor& y);
// Per-tensor or per-axis (scale.size() == x.shape[axis]) linear (de)quantization; zero_point
// may be null (0). QuantizeLinear rounds half to even and saturates to [qmin, qmax].
void quantize_linear(const ir::FloatTensor& x, const ir::FloatTensor& scale,
                     const ir::FloatTensor* zero_point, int64_t axis, float qmin, float qmax,
                     ir::FloatTensor& y);
void dequantize_linear(const ir::FloatTensor& x, const ir::FloatTensor& scale,
                       const ir::FloatTensor* zero_point, int64_t axis, ir::FloatTensor& y);

// Evaluates node `n` of graph `g` (shapes inferred, attributes normalized). in[i] is null for
// an omitted optional input; out has one tensor per node output, shapes preset by the caller
// from g.values[n.outputs[i]].shape.
void eval_node(const ir::Graph& g, const ir::Node& n, const std::vector<const ir::FloatTensor*>& in,
               std::vector<ir::FloatTensor>& out);

}  // namespace cimsim::reference
