#!/usr/bin/python3
"""Exports a CIFAR-size ResNet-8: random (LSUV-normalised) weights, or trained on digits.

Usage: make_cifar_resnet.py OUT_DIR            random weights (docs/calibration.md measurements)
       make_cifar_resnet.py OUT_DIR --trained  trained (docs/validation.md, "Deployment study")

Network: conv3x3(16)+BN+ReLU, three stages of one basic block each (16, 32, 64 channels,
stride 1, 2, 2; 1x1 projection shortcuts where the shape changes), global average pool, FC 10
(He et al. 2016, the CIFAR ResNet family with n = 1). Weights: torch.manual_seed(0) default
initialisation, then each Conv/Linear rescaled to unit output std (make_models.normalize_layers).
No data is downloaded: inputs are standard-normal 3x32x32 images from a fixed seed.
Writes: resnet8.onnx (input "input" (N,3,32,32), output "logits" (N,10)), calib_x.npy (32
images: the samples calibrate searches on), test_x.npy (64 other images).
--trained: the same network trained on scikit-learn's digits (CIFAR-size network, digits
data: no CIFAR here), the split of train_lenet.py (1437 train / 360 test, stratified,
random_state 0), each 8x8 image scaled to [0, 1], upscaled to 32x32 by bilinear interpolation
and replicated to 3 channels. Adam lr 3e-3, batch 64, EPOCHS epochs, torch.manual_seed(0),
2 threads; BatchNorm in train mode, exported in eval mode (the frontend folds it). Writes
resnet8_digits.onnx, test_x.npy (360, 3, 32, 32), test_y.npy (360,) labels, calib_x.npy (the
first 64 training images), resnet8.json {"float_accuracy", "test_count", "train_count",
"train_seconds", "epochs"}; reused when resnet8.stamp matches this script's hash. Exit 1 when
the float accuracy is below 0.90.
Exit 77 when torch or onnx (or, with --trained, sklearn) is missing.
"""
import hashlib
import json
import os
import sys
import time

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


EPOCHS = 15
MIN_FLOAT_ACCURACY = 0.90
TRAINED_FILES = ["resnet8_digits.onnx", "test_x.npy", "test_y.npy", "calib_x.npy", "resnet8.json"]


def load_digits_32(np):
    """The LeNet split (train_lenet.load_data) at 32x32, 3 channels: x_train, x_test, y_train, y_test."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = torch.from_numpy((digits.images / 16.0).astype(np.float32)).unsqueeze(1)
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = x.repeat(1, 3, 1, 1).numpy().astype(np.float32)
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)


def export(model, example, path):
    with torch.no_grad():
        torch.onnx.export(model, example, path + ".tmp", opset_version=13, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                          do_constant_folding=True)
    os.replace(path + ".tmp", path)


def main_trained(out):
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return 77
    with open(os.path.abspath(__file__), "rb") as f:
        stamp = "%s torch %s\n" % (hashlib.sha256(f.read()).hexdigest(), torch.__version__)
    stamp_path = os.path.join(out, "resnet8.stamp")
    if os.path.exists(stamp_path) and all(os.path.exists(os.path.join(out, f)) for f in TRAINED_FILES):
        with open(stamp_path) as f:
            if f.read() == stamp:
                print("resnet8: up to date, %s" % json.load(open(os.path.join(out, "resnet8.json"))))
                return 0
    torch.set_num_threads(2)
    torch.manual_seed(0)
    x_train, x_test, y_train, y_test = load_digits_32(np)
    model = ResNet8()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(0)
    t0 = time.monotonic()
    model.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    train_s = time.monotonic() - t0
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x_test)).numpy()
    acc = float(np.mean(np.argmax(logits, axis=1) == y_test))
    export(model, torch.from_numpy(x_test[:1]), os.path.join(out, "resnet8_digits.onnx"))
    np.save(os.path.join(out, "test_x.npy"), x_test.astype(np.float32))
    np.save(os.path.join(out, "test_y.npy"), y_test.astype(np.float32))
    np.save(os.path.join(out, "calib_x.npy"), x_train[:64].astype(np.float32))
    info = {"float_accuracy": acc, "test_count": int(len(y_test)), "train_count": int(len(y_train)),
            "train_seconds": round(train_s, 2), "epochs": EPOCHS}
    with open(os.path.join(out, "resnet8.json"), "w") as f:
        json.dump(info, f, indent=1)
    print("resnet8: %s" % info)
    if acc < MIN_FLOAT_ACCURACY:
        print("make_cifar_resnet.py: float accuracy %.4f < %.2f" % (acc, MIN_FLOAT_ACCURACY), file=sys.stderr)
        return 1
    with open(stamp_path, "w") as f:
        f.write(stamp)
    return 0


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    if "--trained" in sys.argv[2:]:
        return main_trained(out)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
