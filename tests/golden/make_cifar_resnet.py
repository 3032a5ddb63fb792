#!/usr/bin/python3
"""Exports a CIFAR-size ResNet-8 with random (LSUV-normalised) weights, for `cimsim calibrate`
measurements (docs/validation.md, "ADC calibration").

Usage: make_cifar_resnet.py OUT_DIR

Network: conv3x3(16)+BN+ReLU, three stages of one basic block each (16, 32, 64 channels,
stride 1, 2, 2; 1x1 projection shortcuts where the shape changes), global average pool, FC 10
(He et al. 2016, the CIFAR ResNet family with n = 1). Weights: torch.manual_seed(0) default
initialisation, then each Conv/Linear rescaled to unit output std (make_models.normalize_layers).
No data is downloaded: inputs are standard-normal 3x32x32 images from a fixed seed.
Writes: resnet8.onnx (input "input" (N,3,32,32), output "logits" (N,10)), calib_x.npy (32
images: the samples calibrate searches on), test_x.npy (64 other images).
Exit 77 when torch or onnx is missing.
"""
import os
import sys

try:
    import numpy as np
    import torch
    import onnx  # noqa: F401 (the exporter needs it)
except ImportError:
    sys.exit(77)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import normalize_layers  # noqa: E402


class Block(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = torch.nn.BatchNorm2d(cout)
        self.c2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = torch.nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False),
                                             torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return torch.relu(y + (x if self.short is None else self.short(x)))


class ResNet8(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(16),
                                        torch.nn.ReLU())
        self.blocks = torch.nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = ResNet8().eval()
    gen = np.random.default_rng(8)
    calib = gen.standard_normal((32, 3, 32, 32)).astype(np.float32)
    test = gen.standard_normal((64, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        normalize_layers(model, torch.from_numpy(calib), torch)
        torch.onnx.export(model, torch.from_numpy(calib[:1]), os.path.join(out, "resnet8.onnx"), opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    np.save(os.path.join(out, "calib_x.npy"), calib)
    np.save(os.path.join(out, "test_x.npy"), test)


if __name__ == "__main__":
    main()
