#!/usr/bin/python3
"""Tests of `cimsim export-training` and `--weights` (docs/training.md).

Usage: export_training_test.py CIMSIM WORK_DIR {fidelity|training|noise|weights}

  fidelity  the exported module's eval forward (noise off) equals, bit for bit,
            `cimsim reference --arch` on configs/ideal.yaml and `cimsim run` (the simulator)
            on lossy ADC archs (4-bit worst-case, 5-bit lsb-aligned with saturation, 32-row
            crossbars so layers span several row tiles, differential and offset encodings,
            2-bit DAC steps, a 6-bit ADC with offset and gain error); a second network with
            Concat, Tanh, dilation, padded AveragePool and a host Softmax on ideal.yaml and
            the 4-bit arch. Tolerance 0: both sides do the same integer arithmetic, and the
            one non-integer path (worst-case ADC step) is summed in the same order in float64.
            Then `cimsim calibrate` on a 4-bit lsb-aligned ADC with a device offset: the module
            exported with --tuned DIR equals `cimsim simulate DIR` (tolerance 0); the clipped STE
            leaves values unchanged and moves the gradient; --tuned with another arch exits 1.
  training  fifteen Adam steps in train mode with noise (read noise 6 %, programming noise 2 %,
            4-bit ADC) on a synthetic regression task lower the loss (measured with a fixed
            noise seed) by at least 30 %; noise changes train-mode outputs; eval is deterministic.
  noise     the module's noise has the simulator's magnitude (rms deviation from the
            noise-free output over 6 seeds each, read noise 6 % + programming noise 3 %,
            within 1.3x).
  weights   save_weights -> `cimsim reference/run/export-training --weights`: the new weights
            change the outputs, the module re-exported with them equals the reference, the
            simulator equals the reference; bad weights files exit 1 naming file and tensor;
            export-training's bad input (calibrated ADC, missing model, unwritable output, bad
            --weights) exits 1 naming the file and writes nothing.

Exit 77 (CTest skip) when torch or onnx is missing from /usr/bin/python3.
"""
import os
import re
import subprocess
import sys

try:
    import numpy as np
    import onnx  # noqa: F401  (torch.onnx.export needs it)
    import torch
except ImportError as e:
    print("skip: " + str(e))
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class SmallNet(torch.nn.Module):
    """Conv+BN (kept as a node, folded by cimsim), depthwise conv, residual add, max/avg pools,
    sigmoid (a lookup table), FC: every layer kind the exporter emits but concat."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.c2 = nn.Conv2d(8, 12, 3)
        self.fc1 = nn.Linear(12 * 2 * 2, 24)
        self.fc2 = nn.Linear(24, 5)

    def forward(self, x):
        y = torch.relu(self.bn1(self.c1(x)))
        y = torch.relu(self.dw(y)) + y
        y = torch.nn.functional.max_pool2d(y, 2)      # 8x5x5
        y = torch.relu(self.c2(y))                    # 12x3x3
        y = torch.nn.functional.avg_pool2d(y, 2, stride=1, count_include_pad=False)  # 12x2x2
        y = torch.sigmoid(self.fc1(y.flatten(1)))
        return self.fc2(y)


class ConcatNet(torch.nn.Module):
    """Concat of a ReLU conv and a Tanh (table) branch, dilated strided conv, padded average
    pool, a bias-free FC and a final Softmax (run on the host)."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.a = nn.Conv2d(2, 4, 3, padding=1)
        self.b = nn.Conv2d(2, 3, 1)
        self.c = nn.Conv2d(7, 5, 3, padding=(1, 0), stride=(2, 1), dilation=(1, 2))
        self.fc = nn.Linear(100, 6, bias=False)

    def forward(self, x):
        y = torch.cat([torch.relu(self.a(x)), torch.tanh(self.b(x))], 1)
        y = torch.nn.functional.avg_pool2d(self.c(y), 2, stride=1, padding=1, count_include_pad=False)
        return torch.softmax(self.fc(torch.flatten(y, 1)), 1)


def make_concat_model(work):
    torch.manual_seed(2)
    net = ConcatNet().eval()
    path = os.path.join(work, "concat.onnx")
    torch.onnx.export(net, torch.randn(1, 2, 6, 8), path, opset_version=13, input_names=["input"],
                      output_names=["y"], dynamic_axes={"input": {0: "batch"}, "y": {0: "batch"}})
    np.save(os.path.join(work, "xc.npy"), torch.randn(8, 2, 6, 8, generator=torch.Generator().manual_seed(3)).numpy())
    return path


def make_model(work):
    torch.manual_seed(0)
    net = SmallNet()
    with torch.no_grad():
        net.bn1.running_mean.uniform_(-0.2, 0.2)
        net.bn1.running_var.uniform_(0.5, 1.5)
    net.eval()
    path = os.path.join(work, "small.onnx")
    x = torch.randn(1, 3, 11, 11)
    torch.onnx.export(net, x, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    xs = torch.randn(16, 3, 11, 11, generator=torch.Generator().manual_seed(1)).numpy()
    np.save(os.path.join(work, "x.npy"), xs.astype(np.float32))
    return path


def derive_arch(work, name, changes):
    """configs/ideal.yaml with `changes` {(section, key): value}; returns the new file's path."""
    lines = open(os.path.join(REPO, "configs", "ideal.yaml")).read().split("\n")
    section = None
    done = set()
    for i, line in enumerate(lines):
        m = re.match(r"^([a-z_]+):\s*(#.*)?$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^  ([a-z_]+):", line)
        if m and (section, m.group(1)) in changes:
            lines[i] = "  %s: %s" % (m.group(1), changes[(section, m.group(1))])
            done.add((section, m.group(1)))
    missing = set(changes) - done
    if missing:
        raise SystemExit("derive_arch: keys not in ideal.yaml: %s" % sorted(missing))
    path = os.path.join(work, name + ".yaml")
    open(path, "w").write("\n".join(lines))
    return path


STEPS = 15
LOSSY = {
    "adc4_worst": {("adc", "bits"): 4, ("adc", "range"): "worst_case", ("adc", "lossless"): "false",
                   ("crossbar", "rows"): 32, ("crossbar", "encoding"): "differential",
                   ("crossbar", "weight_flip"): "false", ("dac", "bits"): 2},
    "adc5_lsb": {("adc", "bits"): 5, ("adc", "range"): "lsb_aligned", ("adc", "lossless"): "false",
                 ("crossbar", "rows"): 32},
    # ADC offset and gain error (deterministic; the simulator's bit-plane path in double).
    "adc6_offset_gain": {("adc", "bits"): 6, ("adc", "range"): "worst_case", ("adc", "lossless"): "false",
                         ("nonideality", "adc_offset_lsb"): 0.3, ("nonideality", "adc_gain_error"): 0.02},
}
NOISY = {("adc", "bits"): 4, ("adc", "range"): "worst_case", ("adc", "lossless"): "false",
         ("nonideality", "read_noise_sigma"): 0.06, ("nonideality", "programming_noise_sigma"): 0.02}


def cimsim(args, expect_ok=True):
    r = subprocess.run([CIMSIM] + args, capture_output=True, text=True)
    if expect_ok and r.returncode != 0:
        raise SystemExit("FAIL: cimsim %s exited %d:\n%s" % (" ".join(args), r.returncode, r.stderr))
    return r


def load_module(path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def hw_forward(py, x, weights=None):
    m = load_module(py).HwModel()
    if weights:
        m.load_weights(weights)
    m.eval()
    with torch.no_grad():
        return m(torch.from_numpy(x)).numpy()


def check_equal(name, got, want):
    if got.shape != want.shape:
        raise SystemExit("FAIL %s: shape %s, expected %s" % (name, got.shape, want.shape))
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64)).max()
    same = (got == want).mean()
    print("%s: max |diff| %.3g, identical elements %.1f %%" % (name, diff, 100 * same))
    if diff != 0:
        raise SystemExit("FAIL %s: the exported module differs from cimsim" % name)


def test_fidelity(work, model):
    fidelity_of(work, model, "x.npy", LOSSY)
    fidelity_tuned(work, model, "x.npy")
    fidelity_of(work, make_concat_model(work), "xc.npy", {"adc4_worst": LOSSY["adc4_worst"]})


def fidelity_of(work, model, x_name, lossy):
    stem = os.path.basename(model)[:-5] + "_"
    x_path = os.path.join(work, x_name)
    x = np.load(x_path)
    ideal = os.path.join(REPO, "configs", "ideal.yaml")
    py = os.path.join(work, stem + "ideal_hw.py")
    cimsim(["export-training", model, "--arch", ideal, "-o", py])
    ref_path = os.path.join(work, stem + "ref_ideal.npy")
    cimsim(["reference", model, "--arch", ideal, "--input", x_path, "--output", ref_path])
    ref = np.load(ref_path)
    check_equal(stem + "ideal.yaml vs cimsim reference --arch", hw_forward(py, x), ref)
    for name, changes in lossy.items():
        arch = derive_arch(work, name, changes)
        py = os.path.join(work, stem + name + "_hw.py")
        cimsim(["export-training", model, "--arch", arch, "-o", py])
        run_dir = os.path.join(work, stem + "run_" + name)
        cimsim(["run", model, "--arch", arch, "--input", x_path, "-o", run_dir, "-q"])
        sim = np.load(os.path.join(run_dir, "output.npy"))
        check_equal(stem + name + " vs cimsim run", hw_forward(py, x), sim)
        # The ADC must actually matter here, or the comparison proves nothing about it.
        lossy_vs_ideal = np.abs(sim - ref).max()
        print("%s: max |simulator - ideal reference| %.3g" % (stem + name, lossy_vs_ideal))
        if lossy_vs_ideal == 0:
            raise SystemExit("FAIL %s: the lossy ADC changed nothing; the test is vacuous" % name)


def test_noise_statistics(work, model):
    """The module's noise has the simulator's magnitude: rms deviation from the noise-free
    output over 6 simulator seeds vs 6 module draws (read noise 6 %, programming noise 3 %,
    lossless ADC), within a factor 1.3 (the sampling error of these counts is ~10 %)."""
    arch = derive_arch(work, "noise_only", {("nonideality", "read_noise_sigma"): 0.06,
                                            ("nonideality", "programming_noise_sigma"): 0.03})
    x_path = os.path.join(work, "x.npy")
    prog = os.path.join(work, "noise_prog")
    cimsim(["compile", model, "--arch", arch, "-o", prog])
    ideal = os.path.join(REPO, "configs", "ideal.yaml")
    clean_path = os.path.join(work, "clean.npy")
    cimsim(["reference", model, "--arch", ideal, "--input", x_path, "--output", clean_path])
    clean = np.load(clean_path)
    sims = []
    for seed in range(1, 7):
        out = os.path.join(work, "noise_seed%d.npy" % seed)
        cimsim(["simulate", prog, "--input", x_path, "--output", out, "--seed", str(seed), "-q"])
        sims.append(np.load(out))
    py = os.path.join(work, "noise_only_hw.py")
    cimsim(["export-training", model, "--arch", arch, "-o", py])
    m = load_module(py).HwModel(seed=0)
    m.eval()
    m.noise = True
    x = torch.from_numpy(np.load(x_path))
    with torch.no_grad():
        mods = [m(x).numpy() for _ in range(6)]
    rms_sim = float(np.sqrt(np.mean((np.stack(sims) - clean) ** 2)))
    rms_mod = float(np.sqrt(np.mean((np.stack(mods) - clean) ** 2)))
    print("noise: rms deviation from the noise-free output: simulator %.4f, module %.4f" % (rms_sim, rms_mod))
    if not (rms_sim > 0 and 1 / 1.3 < rms_mod / rms_sim < 1.3):
        raise SystemExit("FAIL: the module's noise magnitude differs from the simulator's by more than 1.3x")


def test_training(work, model):
    arch = derive_arch(work, "noisy", NOISY)
    py = os.path.join(work, "noisy_hw.py")
    cimsim(["export-training", model, "--arch", arch, "-o", py])
    m = load_module(py).HwModel(seed=11)
    g = torch.Generator().manual_seed(7)
    x = torch.randn(32, 3, 11, 11, generator=g)
    # Synthetic task: regress onto the outputs of the same network with perturbed weights
    # (computed by the module itself, noise off), so the targets lie in the output's
    # calibrated range (activation scales are fixed in the module; docs/training.md).
    start = [p.detach().clone() for p in m.parameters()]
    with torch.no_grad():
        for p in m.parameters():
            p.add_(p.abs().mean() * torch.randn(p.shape, generator=g))
        m.eval()
        target = m(x)
        for p, p0 in zip(m.parameters(), start):
            p.copy_(p0)
    loss_fn = torch.nn.functional.mse_loss

    def noisy_loss():
        """Mean over four fixed noise seeds (the same before and after training)."""
        m.train()
        total = 0.0
        for seed in range(100, 104):
            m.seed(seed)
            with torch.no_grad():
                total += float(loss_fn(m(x), target))
        return total / 4

    before = noisy_loss()
    # Noise is on in train mode, and it changes the forward (or "with noise" means nothing).
    m.seed(5)
    with torch.no_grad():
        a = m(x)
        b = m(x)
    if torch.equal(a, b):
        raise SystemExit("FAIL: two train-mode forwards with noise gave identical outputs")
    m.eval()
    with torch.no_grad():
        if not torch.equal(m(x), m(x)):
            raise SystemExit("FAIL: eval mode is not deterministic")
    opt = torch.optim.Adam(m.parameters(), lr=0.003)
    m.train()
    m.seed(99)
    for step in range(STEPS):
        loss = loss_fn(m(x), target)
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in m.parameters() if p.grad is not None]
        if step == 0 and (not grads or all(float(g.abs().sum()) == 0 for g in grads)):
            raise SystemExit("FAIL: no gradient reaches the parameters")
        opt.step()
        print("step %d: loss %.5f" % (step, float(loss)))
    after = noisy_loss()
    print("loss with noise (mean of 4 seeds): before %.5f, after %d Adam steps %.5f" % (before, STEPS, after))
    if not after < before * 0.7:
        raise SystemExit("FAIL: training with noise did not lower the loss by 30 %")


def test_weights(work, model):
    x_path = os.path.join(work, "x.npy")
    x = np.load(x_path)
    ideal = os.path.join(REPO, "configs", "ideal.yaml")
    py = os.path.join(work, "w_hw.py")
    cimsim(["export-training", model, "--arch", ideal, "-o", py])
    m = load_module(py).HwModel()
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(0.8).add_(0.01)
    w = os.path.join(work, "trained.weights")
    m.save_weights(w)
    cimsim(["reference", model, "--arch", ideal, "--input", x_path, "--output", os.path.join(work, "ref0.npy")])
    cimsim(["reference", model, "--arch", ideal, "--input", x_path, "--output", os.path.join(work, "ref_w.npy"),
            "--weights", w])
    ref0, ref_w = np.load(os.path.join(work, "ref0.npy")), np.load(os.path.join(work, "ref_w.npy"))
    if np.abs(ref0 - ref_w).max() == 0:
        raise SystemExit("FAIL: --weights did not change the reference output")
    py2 = os.path.join(work, "w2_hw.py")
    cimsim(["export-training", model, "--arch", ideal, "-o", py2, "--weights", w])
    check_equal("module exported with --weights vs reference --weights", hw_forward(py2, x), ref_w)
    # load_weights puts the same values into the first module's parameters.
    m2 = load_module(py).HwModel()
    m2.load_weights(w)
    for a, b in zip(m.parameters(), m2.parameters()):
        if not torch.equal(a, b):
            raise SystemExit("FAIL: load_weights(save_weights()) changed a parameter")
    run_dir = os.path.join(work, "run_w")
    cimsim(["run", model, "--arch", ideal, "--input", x_path, "-o", run_dir, "-q", "--weights", w])
    check_equal("cimsim run --weights vs reference --weights", np.load(os.path.join(run_dir, "output.npy")), ref_w)
    test_bad_weights(work, model, m, w)
    test_bad_export(work, model, w)


# A calibrated deployment without random device effects: 4-bit lsb-aligned ADC that
# saturates, a device offset that calibration.adc_offset corrects per layer.
TUNED_BASE = {("adc", "bits"): 4, ("adc", "range"): "lsb_aligned", ("adc", "lossless"): "false",
              ("crossbar", "rows"): 32, ("nonideality", "adc_offset_lsb"): 0.4}


def calibrate_dir(work, model, x_path):
    arch = derive_arch(work, "tuned_base", TUNED_BASE)
    with open(arch, "a") as f:
        f.write("\ncalibration:\n  full_scale_points: 6\n  adc_offset: true\n  offset_points: 5\n")
    out = os.path.join(work, "tuned_dir")
    subprocess.call(["rm", "-rf", out])
    cimsim(["calibrate", model, "--arch", arch, "--inputs", x_path, "-o", out])
    return arch, out


def fidelity_tuned(work, model, x_name):
    """export-training --tuned DIR equals `cimsim simulate DIR` bit for bit; the tuned figures
    are not the compiled ones (else the check would not see them); the clipped STE changes
    the gradient on a saturating ADC and not the value."""
    x_path = os.path.join(work, x_name)
    x = np.load(x_path)
    arch, tuned = calibrate_dir(work, model, x_path)
    py = os.path.join(work, "tuned_hw.py")
    # calibrate quantizes with --inputs when no --calibration is given: the same here.
    cimsim(["export-training", model, "--arch", arch, "--tuned", tuned, "--calibration", x_path, "-o", py])
    sim_path = os.path.join(work, "tuned_sim.npy")
    cimsim(["simulate", tuned, "--input", x_path, "--output", sim_path, "-q"])
    sim = np.load(sim_path)
    check_equal("tuned (calibrate DIR) vs cimsim simulate DIR", hw_forward(py, x), sim)
    tiles = [t for spec in load_module(py).LAYERS for t in spec.get("adc_tiles", [])]
    print("tuned tiles [rows, full scale, offset]: %s" % tiles)
    if not any(fs > 0 for _, fs, _ in tiles) or not any(off != 0 for _, _, off in tiles):
        raise SystemExit("FAIL: the calibrated directory carries no tuned full scale or offset; vacuous")
    run_dir = os.path.join(work, "tuned_naive")
    cimsim(["run", model, "--arch", arch, "--input", x_path, "--calibration", x_path, "-o", run_dir, "-q"])
    naive = np.load(os.path.join(run_dir, "output.npy"))
    print("tuned: max |calibrated - naive| %.3g" % np.abs(sim - naive).max())
    if np.abs(sim - naive).max() == 0:
        raise SystemExit("FAIL: calibration changed nothing; the --tuned comparison is vacuous")
    # Clipped STE on the naive (saturating lsb-aligned) arch: same value, other gradient.
    py_naive = os.path.join(work, "tuned_base_hw.py")
    cimsim(["export-training", model, "--arch", arch, "-o", py_naive])
    grads, values = [], []
    for clip in (True, False):
        m = load_module(py_naive).HwModel()
        m.eval()
        m.adc_clip_ste = clip
        xt = torch.from_numpy(x)
        y = m(xt)
        y.pow(2).sum().backward()
        values.append(y.detach().numpy())
        grads.append(torch.cat([p.grad.reshape(-1) for p in m.params]).numpy())
    check_equal("clipped STE leaves the value", values[0], values[1])
    rel = np.linalg.norm(grads[0] - grads[1]) / np.linalg.norm(grads[1])
    print("clipped STE: relative gradient change %.3g" % rel)
    if not rel > 0.01:
        raise SystemExit("FAIL: the clipped STE does not change the gradient on a saturating ADC")
    # Mismatches: another arch than calibrate's.
    other = derive_arch(work, "tuned_other", {**TUNED_BASE, ("adc", "bits"): 5})
    r = cimsim(["export-training", model, "--arch", other, "--tuned", tuned, "--calibration", x_path, "-o", py + ".x"], expect_ok=False)
    print("export-training --tuned with another arch: exit %d: %s" % (r.returncode, r.stderr.strip()))
    if r.returncode != 1 or tuned not in r.stderr or os.path.exists(py + ".x"):
        raise SystemExit("FAIL: --tuned with another arch must exit 1 naming the directory")


def test_bad_export(work, model, good_weights):
    """export-training's own bad input: exit 1 with the file named, no output left behind."""
    calibrated = derive_arch(work, "calibrated", {("adc", "range"): "calibrated", ("adc", "lossless"): "false"})
    ideal = os.path.join(REPO, "configs", "ideal.yaml")
    out = os.path.join(work, "never_hw.py")
    cases = [
        ("calibrated ADC", ["export-training", model, "--arch", calibrated, "-o", out], calibrated),
        ("missing model", ["export-training", os.path.join(work, "nope.onnx"), "--arch", ideal, "-o", out],
         os.path.join(work, "nope.onnx")),
        ("unwritable output", ["export-training", model, "--arch", ideal, "-o", os.path.join(work, "no_dir", "m.py")],
         os.path.join(work, "no_dir", "m.py")),
        ("bad weights", ["export-training", model, "--arch", ideal, "-o", out, "--weights",
                         os.path.join(work, "bad_nan.weights")], os.path.join(work, "bad_nan.weights")),
    ]
    for label, args, named in cases:
        r = cimsim(args, expect_ok=False)
        print("export-training (%s): exit %d: %s" % (label, r.returncode, r.stderr.strip()))
        if r.returncode != 1 or named not in r.stderr:
            raise SystemExit("FAIL: export-training (%s) must exit 1 naming %s" % (label, named))
        if label == "calibrated ADC" and "--tuned" not in r.stderr:
            raise SystemExit("FAIL: a calibrated ADC without --tuned must point at --tuned")
        if os.path.exists(out) or os.path.exists(out + ".cimsim-tmp"):
            raise SystemExit("FAIL: export-training (%s) left %s behind" % (label, out))


def write_raw(path, index, payload):
    import json
    with open(path, "wb") as f:
        f.write(b"cimsim-weights 1\n" + json.dumps({"tensors": index}).encode() + b"\n" + payload)


def test_bad_weights(work, model, m, good):
    ideal = os.path.join(REPO, "configs", "ideal.yaml")
    names = m.param_names
    tensors = [p.detach().numpy().astype("<f4") for p in m.parameters()]

    def file_of(ts, idx=None):
        index = idx or [{"name": n, "shape": list(t.shape)} for n, t in ts]
        return index, b"".join(t.tobytes() for _, t in ts)

    pairs = list(zip(names, tensors))
    cases = []
    # Unknown tensor name.
    cases.append(("unknown", file_of(pairs[:-1] + [("no_such_tensor", pairs[-1][1])]), "no_such_tensor"))
    # Missing tensor.
    cases.append(("missing", file_of(pairs[1:]), names[0]))
    # Wrong shape (same element count, other shape).
    t0 = pairs[0][1]
    cases.append(("shape", file_of([(names[0], t0.reshape(-1))] + pairs[1:]), names[0]))
    # NaN.
    bad = pairs[2][1].copy()
    bad.flat[3] = np.nan
    cases.append(("nan", file_of(pairs[:2] + [(names[2], bad)] + pairs[3:]), names[2]))
    for label, (index, payload), tensor in cases:
        path = os.path.join(work, "bad_%s.weights" % label)
        write_raw(path, index, payload)
        out = os.path.join(work, "bad_out_" + label)
        r = cimsim(["compile", model, "--arch", ideal, "-o", out, "--weights", path], expect_ok=False)
        print("bad weights (%s): exit %d: %s" % (label, r.returncode, r.stderr.strip()))
        if r.returncode != 1 or path not in r.stderr or tensor not in r.stderr:
            raise SystemExit("FAIL: bad weights (%s) must exit 1 naming %s and tensor %s" % (label, path, tensor))
        if os.path.exists(out):
            raise SystemExit("FAIL: a failed compile left %s behind" % out)
    # Truncated data and a file that is not a weights file.
    data = open(good, "rb").read()
    for label, content in (("truncated", data[:-10]), ("magic", b"PK\x03\x04 not weights\n")):
        path = os.path.join(work, "bad_%s.weights" % label)
        open(path, "wb").write(content)
        r = cimsim(["reference", model, "--arch", ideal, "--input", os.path.join(work, "x.npy"), "--output",
                    os.path.join(work, "never.npy"), "--weights", path], expect_ok=False)
        print("bad weights (%s): exit %d: %s" % (label, r.returncode, r.stderr.strip()))
        if r.returncode != 1 or path not in r.stderr:
            raise SystemExit("FAIL: bad weights (%s) must exit 1 naming the file" % label)


def main():
    global CIMSIM
    if len(sys.argv) != 4 or sys.argv[3] not in ("fidelity", "training", "noise", "weights"):
        raise SystemExit(__doc__)
    CIMSIM, work, which = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.set_num_threads(1)
    work = os.path.join(work, which)
    os.makedirs(work, exist_ok=True)
    model = make_model(work)
    {"fidelity": test_fidelity, "training": test_training, "noise": test_noise_statistics,
     "weights": test_weights}[which](work, model)
    print("ok")


if __name__ == "__main__":
    main()
