#!/usr/bin/python3
"""Writes the seed corpus of the ONNX fuzz target: tiny models (< 20 KB each) that together
use every operator the frontend supports, so the fuzzer starts from inputs that get past the
protobuf and name checks. Deterministic (fixed seed). Usage: make_onnx_corpus.py OUT_DIR"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

rng = np.random.default_rng(7)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def w(name, *shape):
    return const(name, rng.standard_normal(shape).astype(np.float32))


def model(name, nodes, inputs, outputs, inits, opset=13):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def conv_net():
    n = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization", ["c1", "s", "bb", "m", "v"], ["bn"]),
        helper.make_node("Relu", ["bn"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], group=2),
        helper.make_node("GlobalAveragePool", ["c2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y0"], transB=1),
        helper.make_node("Softmax", ["y0"], ["y"], axis=1),
    ]
    inits = [w("w1", 4, 3, 3, 3), w("b1", 4), w("s", 4), w("bb", 4), w("m", 4),
             const("v", np.ones(4, np.float32)), w("w2", 4, 2, 1, 1), w("wf", 5, 4), w("bf", 5)]
    return model("conv_net", n, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 5])], inits)


def residual():
    n = [
        helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["a", "lo", "hi"], ["a6"]),
        helper.make_node("Add", ["a6", "x"], ["s"]),
        helper.make_node("Sub", ["s", "k"], ["d"]),
        helper.make_node("Mul", ["d", "k"], ["e"]),
        helper.make_node("Div", ["e", "k"], ["f"]),
        helper.make_node("LeakyRelu", ["f"], ["l"], alpha=0.1),
        helper.make_node("Sigmoid", ["l"], ["sg"]),
        helper.make_node("Tanh", ["l"], ["th"]),
        helper.make_node("Concat", ["sg", "th"], ["cat"], axis=1),
        helper.make_node("AveragePool", ["cat"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    inits = [w("w1", 2, 2, 3, 3), const("lo", np.float32(0)), const("hi", np.float32(6)),
             const("k", np.float32(2))]
    return model("residual", n, [vi("x", ["N", 2, 4, 4])], [vi("y", [1, 4, 2, 2])], inits)


def shapes():
    n = [
        helper.make_node("Identity", ["x"], ["i"]),
        helper.make_node("Dropout", ["i"], ["dr"]),
        helper.make_node("Shape", ["dr"], ["sh"]),
        helper.make_node("Gather", ["sh", "zero"], ["n0"], axis=0),
        helper.make_node("Unsqueeze", ["n0", "ax0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["tshape"], axis=0),
        helper.make_node("Transpose", ["dr"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["t", "tshape"], ["r"]),
        helper.make_node("Constant", [], ["cw"], value=helper.make_tensor(
            "cwv", TensorProto.FLOAT, [12, 3], rng.standard_normal(36).astype(np.float32))),
        helper.make_node("MatMul", ["r", "cw"], ["mm"]),
        helper.make_node("Unsqueeze", ["mm", "ax2"], ["u"]),
        helper.make_node("Squeeze", ["u", "ax2"], ["y"]),
    ]
    inits = [const("zero", np.int64(0)), const("ax0", np.array([0], np.int64)),
             const("minus1", np.array([-1], np.int64)), const("ax2", np.array([2], np.int64))]
    return model("shapes", n, [vi("x", [1, 3, 2, 2])], [vi("y", [1, 3])], inits)


def qdq():
    wq = rng.integers(-127, 128, size=(4, 2, 1, 1)).astype(np.int8)
    n = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
        helper.make_node("DequantizeLinear", ["wq", "ws"], ["wd"], axis=0),
        helper.make_node("Conv", ["xd", "wd"], ["c"]),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    inits = [const("xs", np.float32(0.05)), const("xz", np.uint8(0)), const("wq", wq),
             const("ws", np.full(4, 0.01, np.float32))]
    return model("qdq", n, [vi("x", [1, 2, 3, 3])], [vi("y", [1, 4, 3, 3])], inits)


def softmax_opset11():
    n = [helper.make_node("Softmax", ["x"], ["y"], axis=1)]
    return model("softmax11", n, [vi("x", [1, 2, 3])], [vi("y", [1, 2, 3])], [], opset=11)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for f in (conv_net, residual, shapes, qdq, softmax_opset11):
        m = f()
        path = os.path.join(out, f.__name__ + ".onnx")
        save(m, path)
        assert os.path.getsize(path) < 20000, path


if __name__ == "__main__":
    main()
