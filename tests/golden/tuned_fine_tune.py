#!/usr/bin/python3
"""Calibrate first, then train through the calibrated ADC (issue 14; docs/validation.md,
"Deployment study").

Usage: tuned_fine_tune.py CIMSIM STUDY_DIR [--epochs E] [--train-images N] [--lr LR] ...

STUDY_DIR is a finished `deployment_study.py lenet` output directory (it holds the model,
the data, noisy_calibrate.yaml and calibrated/, the `cimsim calibrate` directory). Steps:
  1. `cimsim export-training MODEL --arch noisy_calibrate.yaml --tuned calibrated` (the
     module's ADC uses calibrate's per-tile full scales and offsets);
  2. fine-tune it in train mode (noise on, clipped STE through the ADC), save_weights;
  3. `cimsim calibrate --weights` again (the full scales were tuned for the old weights;
     re-calibrating is the deployment flow), same search images and grid;
  4. `cimsim simulate` of that directory on the 360 test images: accuracy.
Also reports the accuracy of the exported module itself (eval, noise off) before and after.
Results go to STUDY_DIR/NAME_recalibrated/, NAME_recalibrated_test.npy and NAME.json
(--name, default tuned_aware).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cimsim")
    ap.add_argument("study_dir")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-images", type=int, default=768)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="tuned_aware", help="stem of the files written into STUDY_DIR")
    args = ap.parse_args()
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    sys.path.insert(0, HERE)
    import deployment_study
    import train_lenet
    out = os.path.abspath(args.study_dir)
    data = os.path.join(out, "lenet")
    onnx_path = os.path.join(data, "lenet5_digits.onnx")
    calib, test_x = os.path.join(data, "calib_x.npy"), os.path.join(data, "test_x.npy")
    test_y = np.load(os.path.join(data, "test_y.npy"))
    arch = os.path.join(out, "noisy_calibrate.yaml")
    search = os.path.join(out, "search_x.npy")
    p = lambda name: os.path.join(out, name)  # noqa: E731
    t0 = time.monotonic()

    def cimsim(*a):
        t = time.monotonic()
        r = subprocess.run([args.cimsim] + list(a), capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("cimsim %s: exit %d\n%s" % (" ".join(a), r.returncode, r.stderr))
        print("  cimsim %s: %.1f s" % (a[0], time.monotonic() - t), flush=True)

    hw_py = p("lenet_tuned_hw.py")
    cimsim("export-training", onnx_path, "--arch", arch, "--tuned", p("calibrated"), "--calibration", calib,
           "-o", hw_py)

    def module_accuracy(model):
        model.eval()
        with torch.no_grad():
            y = model(torch.from_numpy(np.load(test_x)))
        return float((y.numpy().argmax(1) == test_y).mean())

    x_train, _, y_train, _ = train_lenet.load_data(np, torch)
    model, train_s, losses, used = deployment_study.fine_tune(hw_py, x_train, y_train, args, np, torch, print)
    weights = p("lenet_%s.weights" % args.name)
    model.save_weights(weights)
    acc_module_after = module_accuracy(model)
    print("  module (eval, noise off, old full scales) after fine-tuning: %.2f %%" % (100 * acc_module_after))
    recal = p(args.name + "_recalibrated")
    subprocess.call(["rm", "-rf", recal, recal + ".cimsim-calibrate"])
    cimsim("calibrate", onnx_path, "--arch", arch, "--inputs", search, "--calibration", calib, "-o", recal,
           "--weights", weights)
    cimsim("simulate", recal, "--input", test_x, "--output", p(args.name + "_recalibrated_test.npy"), "-q")
    acc = float((np.load(p(args.name + "_recalibrated_test.npy")).argmax(1) == test_y).mean())
    res = {"epochs": args.epochs, "train_images": used, "batch": args.batch, "lr": args.lr, "seed": args.seed,
           "train_seconds": train_s, "epoch_losses": losses,
           "module_accuracy_after": acc_module_after, "accuracy_recalibrated": acc,
           "total_seconds": round(time.monotonic() - t0, 1)}
    json.dump(res, open(p(args.name + ".json"), "w"), indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
