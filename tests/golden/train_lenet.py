#!/usr/bin/python3
"""Trains a LeNet-5 on scikit-learn's bundled digits and exports it, with its test split.

Usage: train_lenet.py OUT_DIR [--force]

Data: sklearn.datasets.load_digits (1797 8x8 images, 0..16, shipped with python3-sklearn;
nothing is downloaded), scaled to [0, 1] and upscaled to 28x28 by bilinear interpolation.
Split: train_test_split(test_size=0.2, stratify=labels, random_state=0): 1437 train, 360 test.
Network (LeNet-5 as in LeCun et al. 1998, ReLU and max pooling instead of tanh/subsampling):
conv5x5(6, pad 2)+ReLU+maxpool2, conv5x5(16)+ReLU+maxpool2, FC 400->120+ReLU, 120->84+ReLU,
84->10. Adam, lr 3e-3, batch 64, 11 epochs, torch.manual_seed(0), 2 threads.

Writes into OUT_DIR:
  lenet5_digits.onnx  opset 13, eval mode, input "input" (N, 1, 28, 28), output "logits" (N, 10)
  test_x.npy          float32 (360, 1, 28, 28)
  test_y.npy          float32 (360,) labels
  calib_x.npy         float32 (64, 1, 28, 28): the first 64 training images, for calibration
                      (test images are never used to choose quantization scales)
  lenet.json          {"float_accuracy", "test_count", "train_count", "train_seconds", "epochs"}
Files stamped with this script's hash are reused unless --force. Exit codes: 0 ok; 1 the float
accuracy is below 0.95 (training went wrong); 77 torch, onnx or sklearn missing (a CTest skip).
"""
import argparse
import hashlib
import json
import os
import sys
import time

EXIT_UNAVAILABLE = 77
MIN_FLOAT_ACCURACY = 0.95
EPOCHS = 11
FILES = ["lenet5_digits.onnx", "test_x.npy", "test_y.npy", "calib_x.npy", "lenet.json"]


def load_data(np, torch):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = torch.from_numpy((digits.images / 16.0).astype(np.float32)).unsqueeze(1)
    x = torch.nn.functional.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    x = x.numpy().astype(np.float32)
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)


def lenet5(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # 6x14x14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),             # 16x5x5
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def train(model, x_train, y_train, torch):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()


def stamp_text(torch):
    with open(os.path.abspath(__file__), "rb") as f:
        return f"{hashlib.sha256(f.read()).hexdigest()} torch {torch.__version__}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--force", action="store_true", help="retrain even when up to date")
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
        import onnx  # noqa: F401  (torch.onnx.export needs it)
        import sklearn  # noqa: F401
    except ImportError as e:
        print(f"train_lenet.py: {e}; install python3-torch, python3-onnx, python3-sklearn "
              "(scripts/setup --optional)", file=sys.stderr)
        return EXIT_UNAVAILABLE

    stamp_path = os.path.join(args.out_dir, "lenet.stamp")
    stamp = stamp_text(torch)
    if not args.force and os.path.exists(stamp_path) and \
            all(os.path.exists(os.path.join(args.out_dir, f)) for f in FILES):
        with open(stamp_path) as f:
            if f.read() == stamp:
                with open(os.path.join(args.out_dir, "lenet.json")) as j:
                    print(f"lenet: up to date, {json.load(j)}")
                return 0

    torch.set_num_threads(2)
    torch.manual_seed(0)
    os.makedirs(args.out_dir, exist_ok=True)
    x_train, x_test, y_train, y_test = load_data(np, torch)
    model = lenet5(torch)
    t0 = time.monotonic()
    train(model, x_train, y_train, torch)
    train_s = time.monotonic() - t0
    with torch.no_grad():
        logits = model(torch.from_numpy(x_test)).numpy()
    acc = float(np.mean(np.argmax(logits, axis=1) == y_test))

    onnx_path = os.path.join(args.out_dir, "lenet5_digits.onnx")
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(x_test[:1]), onnx_path + ".tmp", opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    os.replace(onnx_path + ".tmp", onnx_path)
    np.save(os.path.join(args.out_dir, "test_x.npy"), x_test.astype(np.float32))
    np.save(os.path.join(args.out_dir, "test_y.npy"), y_test.astype(np.float32))
    np.save(os.path.join(args.out_dir, "calib_x.npy"), x_train[:64].astype(np.float32))
    np.save(os.path.join(args.out_dir, "test_float_logits.npy"), logits.astype(np.float32))
    info = {"float_accuracy": acc, "test_count": int(len(y_test)), "train_count": int(len(y_train)),
            "train_seconds": round(train_s, 2), "epochs": EPOCHS}
    with open(os.path.join(args.out_dir, "lenet.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"lenet: {info}")
    if acc < MIN_FLOAT_ACCURACY:
        print(f"train_lenet.py: float accuracy {acc:.4f} < {MIN_FLOAT_ACCURACY}", file=sys.stderr)
        return 1
    with open(stamp_path, "w") as f:
        f.write(stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
