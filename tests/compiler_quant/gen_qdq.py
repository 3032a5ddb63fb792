#!/usr/bin/env python3
"""Writes a small QDQ ONNX model for the quantizer tests: OUT.onnx

x[1,3,8,8] -> Q/DQ (s=0.02, int8) -> Conv(W = DQ(int8 codes, per-channel scales), bias) -> Relu
-> Q/DQ (s=0.05, uint8) -> GlobalAveragePool -> output. Codes: W[m,c,ky,kx] = ((m*7 + c*5 + ky*3 + kx) % 255) - 127,
per-channel scales 0.01*(m+1), bias 0.1*m. Optional second argument "zp" gives the activation
Q/DQ a zero point of 3 (to test the rejection).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
zp = 3 if len(sys.argv) > 2 and sys.argv[2] == "zp" else 0
M, C = 4, 3
codes = np.array([[[[((m * 7 + c * 5 + ky * 3 + kx) % 255) - 127 for kx in range(3)] for ky in range(3)]
                   for c in range(C)] for m in range(M)], dtype=np.int8)
inits = [
    numpy_helper.from_array(codes, "w_q"),
    numpy_helper.from_array(np.array([0.01 * (m + 1) for m in range(M)], dtype=np.float32), "w_s"),
    numpy_helper.from_array(np.zeros(M, dtype=np.int8), "w_zp"),
    numpy_helper.from_array(np.array([0.1 * m for m in range(M)], dtype=np.float32), "b"),
    numpy_helper.from_array(np.array(0.02, dtype=np.float32), "x_s"),
    numpy_helper.from_array(np.array(zp, dtype=np.int8), "x_zp"),
    numpy_helper.from_array(np.array(0.05, dtype=np.float32), "r_s"),
    numpy_helper.from_array(np.array(0, dtype=np.uint8), "r_zp"),
]
nodes = [
    helper.make_node("QuantizeLinear", ["x", "x_s", "x_zp"], ["x_q"], name="x_quant"),
    helper.make_node("DequantizeLinear", ["x_q", "x_s", "x_zp"], ["x_dq"], name="x_dequant"),
    helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_zp"], ["w"], name="w_dequant", axis=0),
    helper.make_node("Conv", ["x_dq", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c"], ["r"], name="relu"),
    helper.make_node("QuantizeLinear", ["r", "r_s", "r_zp"], ["r_q"], name="r_quant"),
    helper.make_node("DequantizeLinear", ["r_q", "r_s", "r_zp"], ["r_dq"], name="r_dequant"),
    helper.make_node("GlobalAveragePool", ["r_dq"], ["y"], name="gap"),
]
graph = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, M, 1, 1])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, out)
