#!/usr/bin/python3
"""Float vs naive vs calibrated vs noise-aware deployment of one trained network on one noisy arch.

Usage: deployment_study.py NET CIMSIM OUT_DIR [--epochs E] [--train-images S] [--batch B]
                           [--lr LR] [--threads T] [--search-images K] [--points P] [--jobs J]
                           [--min-cal-gain X] [--min-aware-gain Y] [--min-both-gain Z] [--reuse]
NET: lenet   (tests/golden/train_lenet.py: LeNet-5 on scikit-learn's digits at 28x28)
     resnet8 (tests/golden/make_cifar_resnet.py --trained: CIFAR-size ResNet-8, 3x32x32, on the
              same digits upscaled to 32x32 and replicated to 3 channels; not CIFAR)

The noisy arch: configs/isaac.yaml with adc.bits 4 and nonideality.read_noise_sigma 0.06 (the
4-bit lsb-aligned ADC clips column sums above 15 level units; read noise 6 % of the
conductance range per cell and read, seed 1), written to OUT_DIR/noisy.yaml. The ideal arch:
configs/ideal.yaml. Every accuracy is measured by cimsim on the held-out test split (360
images), never by the torch module:
  float        `cimsim reference` (the float interpreter) of the float-trained model
  naive        `cimsim run` on the arch, activation calibration calib_x.npy (64 training images)
  calibrated   `cimsim calibrate` on the first K calibration images (P candidates per layer,
               --calibration calib_x.npy), then `cimsim simulate` of its directory
  noise-aware  `cimsim export-training` on the noisy arch, HwModel fine-tuned in train mode
               (ADC emulated, read noise sampled) on S training images (a fixed random
               subset; all 1437 when S is 0) for E epochs, Adam lr LR, batch B, T torch
               threads; save_weights, then `cimsim run --weights`
  noise-aware + calibrated  `cimsim calibrate --weights` (same K, P), `cimsim simulate`
and naive / noise-aware again on the ideal arch (what the noisy arch and the training cost).
cimsim steps that do not depend on the training run while it trains, J at a time. --reuse
keeps every step's result already in OUT_DIR from an earlier run with the same settings (a
step's last output file marks it finished; the fine-tuning is kept when the weights file and
its training.json exist) instead of recomputing it; study.json lists the reused steps.
Writes OUT_DIR/study.json (accuracies, settings, wall seconds of each step) and study.md (the
table). Exit codes: 0 ok; 1 a --min-* ordering does not hold (calibrated >= naive + X,
noise-aware >= naive + Y, noise-aware + calibrated >= naive + Z) or a step failed; 77 torch,
onnx or sklearn missing (a CTest skip).
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXIT_UNAVAILABLE = 77

NETS = {
    "lenet": {"prepare": ["train_lenet.py"], "onnx": "lenet5_digits.onnx", "info": "lenet.json"},
    "resnet8": {"prepare": ["make_cifar_resnet.py", "--trained"], "onnx": "resnet8_digits.onnx",
                "info": "resnet8.json"},
}


def noisy_arch(path):
    """configs/isaac.yaml with a 4-bit ADC and 6 % read noise; fails loudly if the edits miss."""
    text = open(os.path.join(REPO, "configs", "isaac.yaml")).read()
    edits = [("  bits: 8             # 8-bit SAR ADC (LIT)\n", "  bits: 4             # was 8 (deployment study)\n"),
             ("  read_noise_sigma: 0\n", "  read_noise_sigma: 0.06\n")]
    for old, new in edits:
        if text.count(old) != 1:
            raise SystemExit("configs/isaac.yaml changed: cannot apply %r" % old.strip())
        text = text.replace(old, new)
    with open(path, "w") as f:
        f.write(text)


class Steps:
    """Runs cimsim command chains, some in the background; records each step's wall time."""

    def __init__(self, cimsim, jobs):
        self.cimsim = cimsim
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        self.seconds = {}
        self.pending = {}

    def run(self, name, *commands):
        t0 = time.monotonic()
        for cmd in commands:
            r = subprocess.run([self.cimsim] + cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("step %s: cimsim %s exited %d:\n%s" % (name, " ".join(cmd), r.returncode,
                                                                          r.stderr[-4000:]))
        self.seconds[name] = round(time.monotonic() - t0, 1)
        print("  step %s: %.0f s" % (name, self.seconds[name]), flush=True)

    def start(self, name, *commands, done=None):
        if done is not None and os.path.exists(done):
            print("  step %s: reused %s" % (name, done), flush=True)
            return
        self.pending[name] = self.pool.submit(self.run, name, *commands)

    def wait(self):
        for name, fut in self.pending.items():
            fut.result()
        self.pending = {}


def fine_tune(hw_py, x_train, y_train, args, np, torch, log):
    """Noise-aware fine-tuning of the exported HwModel; returns (model, seconds, per-epoch losses)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("study_hw", hw_py)
    hw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hw)
    gen = torch.Generator().manual_seed(args.seed)
    if args.train_images:
        pick = torch.randperm(len(x_train), generator=gen)[:args.train_images].numpy()
        x_train, y_train = x_train[pick], y_train[pick]
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    m = hw.HwModel(seed=args.seed)
    opt = torch.optim.Adam(m.parameters(), lr=args.lr)
    losses = []
    t0 = time.monotonic()
    for epoch in range(args.epochs):
        m.train()
        perm = torch.randperm(len(xt), generator=gen)
        total, n = 0.0, 0
        for i in range(0, len(xt), args.batch):
            idx = perm[i:i + args.batch]
            loss = torch.nn.functional.cross_entropy(m(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
            n += len(idx)
            if epoch == 0 and i == 0:
                log("  first training step (batch %d): %.1f s" % (len(idx), time.monotonic() - t0))
        losses.append(round(total / n, 4))
        log("  epoch %d: train loss (with noise) %.4f, %.0f s" % (epoch, total / n, time.monotonic() - t0))
    return m, round(time.monotonic() - t0, 1), losses, len(xt)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("net", choices=sorted(NETS))
    ap.add_argument("cimsim")
    ap.add_argument("out_dir")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--train-images", type=int, default=0, help="fine-tune on this many training images (0: all)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--search-images", type=int, default=64, help="calibration search on this many images")
    ap.add_argument("--points", type=int, default=12, help="calibration.full_scale_points")
    ap.add_argument("--jobs", type=int, default=1, help="cimsim steps run alongside the training")
    ap.add_argument("--reuse", action="store_true", help="keep finished training-independent steps")
    ap.add_argument("--min-cal-gain", type=float)
    ap.add_argument("--min-aware-gain", type=float)
    ap.add_argument("--min-both-gain", type=float)
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
        import onnx  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        print("skip: %s" % e)
        return EXIT_UNAVAILABLE
    torch.set_num_threads(args.threads)
    t_start = time.monotonic()
    net = NETS[args.net]
    out = os.path.abspath(args.out_dir)
    data = os.path.join(out, args.net)
    os.makedirs(data, exist_ok=True)

    def log(msg):
        print(msg, flush=True)

    rc = subprocess.call([sys.executable, os.path.join(HERE, net["prepare"][0]), data] + net["prepare"][1:])
    if rc != 0:
        return rc
    info = json.load(open(os.path.join(data, net["info"])))
    onnx_path = os.path.join(data, net["onnx"])
    test_x, calib = os.path.join(data, "test_x.npy"), os.path.join(data, "calib_x.npy")
    test_y = np.load(os.path.join(data, "test_y.npy"))
    noisy = os.path.join(out, "noisy.yaml")
    noisy_arch(noisy)
    noisy_cal = os.path.join(out, "noisy_calibrate.yaml")
    with open(noisy_cal, "w") as f:
        f.write(open(noisy).read() + "\ncalibration:\n  full_scale_points: %d\n" % args.points)
    ideal = os.path.join(REPO, "configs", "ideal.yaml")
    search = os.path.join(out, "search_x.npy")
    np.save(search, np.load(calib)[:args.search_images])
    p = lambda name: os.path.join(out, name)  # noqa: E731

    steps = Steps(args.cimsim, args.jobs)
    run = lambda arch, o, *extra: ["run", onnx_path, "--arch", arch, "--input", test_x,  # noqa: E731
                                   "--calibration", calib, "-o", p(o), "-q"] + list(extra)
    cal = lambda o, *extra: ["calibrate", onnx_path, "--arch", noisy_cal, "--inputs", search,  # noqa: E731
                             "--calibration", calib, "-o", p(o)] + list(extra)
    sim = lambda d, o: ["simulate", p(d), "--input", test_x, "--output", p(o), "-q"]  # noqa: E731
    # A step's last output file marks it finished (--reuse); the rest is recomputed.
    marks = {"float": p("float.npy"), "naive": p("naive/output.npy"), "calibrated": p("calibrated_test.npy"),
             "naive_ideal": p("naive_ideal/output.npy"), "aware": p("aware/output.npy"),
             "aware_calibrated": p("aware_calibrated_test.npy"), "aware_ideal": p("aware_ideal/output.npy")}
    for d in ["naive", "naive_ideal", "calibrated", "aware", "aware_ideal", "aware_calibrated"]:
        if not (args.reuse and os.path.exists(marks[d])):
            subprocess.call(["rm", "-rf", p(d), p(d + ".cimsim-calibrate")])
    if not args.reuse:
        for f in list(marks.values()) + [p("training.json")]:
            if os.path.exists(f):
                os.remove(f)
    reuse = lambda k: marks[k] if args.reuse else None  # noqa: E731
    steps.start("float", ["reference", onnx_path, "--input", test_x, "--output", p("float.npy")], done=reuse("float"))
    steps.start("naive", run(noisy, "naive"), done=reuse("naive"))
    steps.start("calibrated", cal("calibrated"), sim("calibrated", "calibrated_test.npy"), done=reuse("calibrated"))
    steps.start("naive_ideal", run(ideal, "naive_ideal"), done=reuse("naive_ideal"))

    hw_py = p("%s_hw.py" % args.net)
    steps.run("export_training", ["export-training", onnx_path, "--arch", noisy, "--calibration", calib, "-o", hw_py])
    sys.path.insert(0, HERE)
    if args.net == "lenet":
        import train_lenet
        x_train, _, y_train, _ = train_lenet.load_data(np, torch)
    else:
        import make_cifar_resnet
        x_train, _, y_train, _ = make_cifar_resnet.load_digits_32(np)
    weights = p("%s_noise_aware.weights" % args.net)
    train_json = p("training.json")
    training_reused = args.reuse and os.path.exists(weights) and os.path.exists(train_json)
    if training_reused:
        training = json.load(open(train_json))
        print("  step fine-tuning: reused %s" % weights, flush=True)
    else:
        model, train_s, losses, used = fine_tune(hw_py, x_train, y_train, args, np, torch, log)
        model.save_weights(weights)
        training = {"epochs": args.epochs, "train_images": used, "batch": args.batch, "lr": args.lr,
                    "threads": args.threads, "seed": args.seed, "seconds": train_s, "epoch_losses": losses}
        json.dump(training, open(train_json, "w"), indent=1)
    steps.start("aware", run(noisy, "aware", "--weights", weights), done=reuse("aware"))
    steps.start("aware_calibrated", cal("aware_calibrated", "--weights", weights),
                sim("aware_calibrated", "aware_calibrated_test.npy"), done=reuse("aware_calibrated"))
    steps.start("aware_ideal", run(ideal, "aware_ideal", "--weights", weights), done=reuse("aware_ideal"))
    try:
        steps.wait()
    except RuntimeError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1

    def acc(npy):
        y = np.load(p(npy))
        return round(float(np.mean(np.argmax(y.reshape(len(test_y), -1), axis=1) == test_y)), 4)

    accuracy = {
        "float": acc("float.npy"),
        "naive": acc("naive/output.npy"),
        "calibrated": acc("calibrated_test.npy"),
        "noise_aware": acc("aware/output.npy"),
        "noise_aware_calibrated": acc("aware_calibrated_test.npy"),
        "naive_on_ideal": acc("naive_ideal/output.npy"),
        "noise_aware_on_ideal": acc("aware_ideal/output.npy"),
    }
    result = {
        "net": args.net, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "torch_float_accuracy": info["float_accuracy"], "test_count": int(len(test_y)), "accuracy": accuracy,
        "training": training,
        "calibration": {"search_images": args.search_images, "full_scale_points": args.points},
        "reused_steps": sorted(k for k in marks if args.reuse and k not in steps.seconds) +
        (["fine-tuning"] if training_reused else []),
        "step_seconds": steps.seconds, "total_seconds": round(time.monotonic() - t_start, 1),
    }
    json.dump(result, open(p("study.json"), "w"), indent=1)
    rows = [("float (`cimsim reference`)", "float", None),
            ("naive deployment", "naive", "naive_on_ideal"),
            ("calibrated (`cimsim calibrate`)", "calibrated", None),
            ("noise-aware trained", "noise_aware", "noise_aware_on_ideal"),
            ("noise-aware + calibrated", "noise_aware_calibrated", None)]
    md = ["| %s | noisy ISAAC (4-bit ADC, 6 %% read noise) | configs/ideal.yaml |" % args.net, "|---|---|---|"]
    for label, k, k_ideal in rows:
        ideal_cell = ("%.2f %%" % (100 * accuracy[k_ideal])) if k_ideal else \
            ("%.2f %%" % (100 * accuracy["float"]) if k == "float" else "-")
        md.append("| %s | %.2f %% | %s |" % (label, 100 * accuracy[k], ideal_cell))
    open(p("study.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md))
    print(json.dumps(result, indent=1))
    ok = True
    for name, key, gain in [("calibrated", "calibrated", args.min_cal_gain),
                            ("noise-aware", "noise_aware", args.min_aware_gain),
                            ("noise-aware + calibrated", "noise_aware_calibrated", args.min_both_gain)]:
        if gain is not None and not accuracy[key] >= accuracy["naive"] + gain:
            print("FAIL: %s %.4f < naive %.4f + %.3f" % (name, accuracy[key], accuracy["naive"], gain))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
