#!/usr/bin/python3
"""Accuracy of LeNet-5 (sklearn digits) on a noisy arch: float, naive deployment, noise-aware.

Usage: lenet_noise_aware.py CIMSIM OUT_DIR [--adc-bits 4] [--adc-range worst_case]
                            [--read-noise 0.06] [--epochs 3] [--lr 1e-3] [--seed 0]
                            [--min-gain G]

1. train_lenet.py OUT_DIR/lenet (the golden LeNet-5, float accuracy in lenet.json).
2. The arch: configs/ideal.yaml with adc.bits, adc.range, adc.lossless false and
   nonideality.read_noise_sigma as given (OUT_DIR/noisy.yaml).
3. naive: `cimsim run` of the float-trained model on that arch (test split, calib_x.npy).
4. noise-aware: `cimsim export-training` (same calibration), fine-tune the module in train mode
   (noise on) on the training split with Adam (lr LR, batch 64, EPOCHS epochs,
   cross-entropy), save_weights, then `cimsim run --weights` on the same arch.
Writes OUT_DIR/noise_aware.json with the accuracies and the commands' settings.
Exit 77 when torch/onnx/sklearn are missing; 1 when --min-gain is given and noise-aware
accuracy does not beat naive deployment by that much (CTest `lenet_noise_aware`, label heavy).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def derive_arch(path, changes):
    lines = open(os.path.join(REPO, "configs", "ideal.yaml")).read().split("\n")
    section = None
    for i, line in enumerate(lines):
        m = re.match(r"^([a-z_]+):\s*(#.*)?$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^  ([a-z_]+):", line)
        if m and (section, m.group(1)) in changes:
            lines[i] = "  %s: %s" % (m.group(1), changes[(section, m.group(1))])
    open(path, "w").write("\n".join(lines))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("%s exited %d:\n%s" % (" ".join(cmd), r.returncode, r.stderr))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cimsim")
    ap.add_argument("out_dir")
    ap.add_argument("--adc-bits", type=int, default=4)
    ap.add_argument("--adc-range", default="worst_case")
    ap.add_argument("--read-noise", type=float, default=0.06)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-gain", type=float, default=None,
                    help="exit 1 unless noise-aware accuracy exceeds naive accuracy by this much")
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
        import onnx  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        print("skip: %s" % e)
        return 77
    torch.set_num_threads(1)
    out = os.path.abspath(args.out_dir)
    lenet = os.path.join(out, "lenet")
    os.makedirs(lenet, exist_ok=True)
    rc = subprocess.call([sys.executable, os.path.join(HERE, "train_lenet.py"), lenet])
    if rc != 0:
        return rc
    info = json.load(open(os.path.join(lenet, "lenet.json")))
    onnx_path = os.path.join(lenet, "lenet5_digits.onnx")
    test_x, test_y = os.path.join(lenet, "test_x.npy"), np.load(os.path.join(lenet, "test_y.npy"))
    calib = os.path.join(lenet, "calib_x.npy")
    arch = os.path.join(out, "noisy.yaml")
    derive_arch(arch, {("adc", "bits"): args.adc_bits, ("adc", "range"): args.adc_range,
                       ("adc", "lossless"): "false", ("nonideality", "read_noise_sigma"): args.read_noise})

    def accuracy(npy):
        return float(np.mean(np.argmax(np.load(npy), axis=1) == test_y))

    result = {"float_accuracy": info["float_accuracy"], "adc_bits": args.adc_bits, "adc_range": args.adc_range,
              "read_noise_sigma": args.read_noise, "epochs": args.epochs, "lr": args.lr, "test_count": int(len(test_y))}
    run([args.cimsim, "run", onnx_path, "--arch", arch, "--input", test_x, "--calibration", calib,
         "-o", os.path.join(out, "naive"), "-q"])
    result["naive_accuracy"] = accuracy(os.path.join(out, "naive", "output.npy"))
    print("float %.4f, naive deployment %.4f" % (result["float_accuracy"], result["naive_accuracy"]), flush=True)

    py = os.path.join(out, "lenet_hw.py")
    run([args.cimsim, "export-training", onnx_path, "--arch", arch, "--calibration", calib, "-o", py])
    import importlib.util
    spec = importlib.util.spec_from_file_location("lenet_hw", py)
    hw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hw)
    sys.path.insert(0, HERE)
    import train_lenet
    x_train, _, y_train, _ = train_lenet.load_data(np, torch)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    m = hw.HwModel(seed=args.seed)
    opt = torch.optim.Adam(m.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.monotonic()
    for epoch in range(args.epochs):
        m.train()
        perm = torch.randperm(len(xt), generator=gen)
        total, n = 0.0, 0
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            loss = torch.nn.functional.cross_entropy(m(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
            n += len(idx)
        print("epoch %d: train loss (with noise) %.4f, %.0f s" % (epoch, total / n, time.monotonic() - t0), flush=True)
    result["train_seconds"] = round(time.monotonic() - t0, 1)
    w = os.path.join(out, "lenet_noise_aware.weights")
    m.save_weights(w)
    run([args.cimsim, "run", onnx_path, "--arch", arch, "--input", test_x, "--calibration", calib,
         "--weights", w, "-o", os.path.join(out, "aware"), "-q"])
    result["noise_aware_accuracy"] = accuracy(os.path.join(out, "aware", "output.npy"))
    # The same trained weights on the ideal arch: what noise-aware training costs without noise.
    ideal = os.path.join(REPO, "configs", "ideal.yaml")
    run([args.cimsim, "run", onnx_path, "--arch", ideal, "--input", test_x, "--calibration", calib,
         "--weights", w, "-o", os.path.join(out, "aware_ideal"), "-q"])
    result["noise_aware_on_ideal_accuracy"] = accuracy(os.path.join(out, "aware_ideal", "output.npy"))
    print(json.dumps(result, indent=1))
    json.dump(result, open(os.path.join(out, "noise_aware.json"), "w"), indent=1)
    gain = result["noise_aware_accuracy"] - result["naive_accuracy"]
    if args.min_gain is not None and not gain >= args.min_gain:
        print("FAIL: noise-aware training gained %.3f over naive deployment, less than %.3f" % (gain, args.min_gain))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
