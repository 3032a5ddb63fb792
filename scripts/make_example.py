#!/usr/bin/python3
"""Writes the bundled example: a small residual CNN as ONNX plus an input batch.

Usage: scripts/make_example.py OUT_DIR [--batch N]

The network (CIFAR-sized, 3x32x32 input, 10 classes) exercises what the demo should show:
conv with padding and stride, ReLU fusion, max pooling, a residual Add, global average
pooling, a fully connected layer and a final Softmax. Weights are He-initialised from a
fixed seed, so the files are identical on every machine (numpy's PCG64 is portable).
Only python3-numpy and python3-onnx are needed.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_weights(rng, m, c, k):
    fan_in = c * k * k
    return (rng.standard_normal((m, c, k, k)) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def build(rng):
    inits = []
    nodes = []

    def add_init(name, arr):
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def conv(name, x, m, c, k, stride=1, pad=None):
        pad = k // 2 if pad is None else pad
        w = add_init(name + ".weight", conv_weights(rng, m, c, k))
        b = add_init(name + ".bias", (rng.standard_normal(m) * 0.05).astype(np.float32))
        nodes.append(helper.make_node("Conv", [x, w, b], [name], name=name, kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[pad] * 4))
        return name

    def relu(x):
        out = x + ".relu"
        nodes.append(helper.make_node("Relu", [x], [out], name=out))
        return out

    x = "input"
    h = relu(conv("conv1", x, 16, 3, 3))                       # 16x32x32
    nodes.append(helper.make_node("MaxPool", [h], ["pool1"], name="pool1",
                                  kernel_shape=[2, 2], strides=[2, 2]))  # 16x16x16
    h = relu(conv("conv2", "pool1", 32, 16, 3, stride=2))      # 32x8x8
    r = relu(conv("conv3a", h, 32, 32, 3))
    r = conv("conv3b", r, 32, 32, 3)
    nodes.append(helper.make_node("Add", [h, r], ["res"], name="res_add"))
    h = relu("res")
    nodes.append(helper.make_node("GlobalAveragePool", [h], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1))
    w = add_init("fc.weight", (rng.standard_normal((10, 32)) * np.sqrt(1.0 / 32)).astype(np.float32))
    b = add_init("fc.bias", np.zeros(10, np.float32))
    nodes.append(helper.make_node("Gemm", ["flat", w, b], ["logits"], name="fc", transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1))

    graph = helper.make_graph(
        nodes, "cimsim_example",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 10])], inits)
    model = helper.make_model(graph, producer_name="cimsim scripts/make_example.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(2026)
    onnx.save(build(rng), os.path.join(args.out_dir, "example.onnx"))
    x = rng.standard_normal((args.batch, 3, 32, 32)).astype(np.float32)
    np.save(os.path.join(args.out_dir, "input.npy"), x)


if __name__ == "__main__":
    main()
