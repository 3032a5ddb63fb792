#!/usr/bin/python3
"""Writes tiny_cnn.onnx, the model of the example sweep (configs/sweeps/tiny.yaml).

Usage: configs/sweeps/make_tiny_cnn.py [OUT.onnx]   (default: tiny_cnn.onnx next to this file)

Conv 3->8 k3 p1 + ReLU, MaxPool 2/2, Conv 8->16 k3 s2 p1 + ReLU, Flatten, Gemm 64->10 on a
1x3x8x8 input: four layers, so it fits configs/tiny.yaml's four cores and simulates in
milliseconds. Weights are He-initialised from a fixed seed (numpy's PCG64 is portable), so the
file is the same on every machine. Needs python3-numpy and python3-onnx only.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "tiny_cnn.onnx")
    rng = np.random.default_rng(13)

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    inits = [
        numpy_helper.from_array(he((8, 3, 3, 3), 27), "w1"),
        numpy_helper.from_array((rng.standard_normal(8) * 0.1).astype(np.float32), "b1"),
        numpy_helper.from_array(he((16, 8, 3, 3), 72), "w2"),
        numpy_helper.from_array((rng.standard_normal(16) * 0.1).astype(np.float32), "b2"),
        numpy_helper.from_array(he((10, 64), 64), "w3"),
        numpy_helper.from_array((rng.standard_normal(10) * 0.1).astype(np.float32), "b3"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Flatten", ["r2"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="cimsim make_tiny_cnn.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main()
