#!/usr/bin/env python3
"""Generates ONNX test models with random weights and their PyTorch reference outputs.

Usage: gen_models.py OUT_DIR [--models lenet5,resnet18,...] [--opset 13]

For each model NAME it writes OUT_DIR/NAME.onnx, OUT_DIR/NAME_input.npy (a fixed random input,
batch 1, float32 NCHW) and OUT_DIR/NAME_output.npy (the model's output computed by torch in
eval mode). Weights are random (torch.manual_seed(0), no downloads); BatchNormalization
running statistics and affine parameters are randomized too, so that folding them is
actually exercised. Models:
  lenet5        LeNet-5 on 1x28x28 (small)
  resnet18      torchvision ResNet-18, 3x224x224, exported with constant folding (torch fuses
                BatchNormalization into the convolutions)
  resnet18_bn   the same network exported with do_constant_folding=False and
                training=TrainingMode.PRESERVE: BatchNormalization nodes are kept
  mobilenet_v2, squeezenet1_1, alexnet, vgg16 (heavy, ~550 MB)
The input has a dynamic batch dimension ("batch").
Needs python3-onnx, python3-torch, python3-torchvision (Debian packages).
"""

import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

SMALL = ["lenet5", "resnet18"]
ALL = ["lenet5", "resnet18", "resnet18_bn", "mobilenet_v2", "squeezenet1_1", "alexnet", "vgg16"]


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def randomize_bn(model):
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.1)


def build(name):
    if name == "lenet5":
        return LeNet5(), (1, 1, 28, 28)
    base = "resnet18" if name == "resnet18_bn" else name
    ctor = getattr(torchvision.models, base)
    return ctor(weights=None), (1, 3, 224, 224)


def generate(name, out_dir, opset):
    torch.manual_seed(0)
    model, shape = build(name)
    with torch.no_grad():
        randomize_bn(model)
    model.eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(42))
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + ".onnx")
    keep_bn = name.endswith("_bn")
    kwargs = dict(
        opset_version=opset, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    if keep_bn:
        kwargs["do_constant_folding"] = False
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, x, path, **kwargs)
    np.save(os.path.join(out_dir, name + "_input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, name + "_output.npy"), y.numpy().astype(np.float32))
    ops = {}
    for n in onnx.load(path, load_external_data=False).graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print(f"{name}: {os.path.getsize(path) / 1e6:.1f} MB, ops {dict(sorted(ops.items()))}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out_dir")
    p.add_argument("--models", default=",".join(SMALL),
                   help="comma-separated subset of " + ",".join(ALL) + " or 'all' (default: %(default)s)")
    p.add_argument("--opset", type=int, default=13)
    args = p.parse_args()
    names = ALL if args.models == "all" else [m for m in args.models.split(",") if m]
    for n in names:
        if n not in ALL:
            sys.exit(f"gen_models.py: unknown model '{n}'; expected one of {', '.join(ALL)}")
    os.makedirs(args.out_dir, exist_ok=True)
    torch.set_num_threads(2)
    for n in names:
        generate(n, args.out_dir, args.opset)


if __name__ == "__main__":
    main()
