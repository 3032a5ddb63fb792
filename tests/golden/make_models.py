#!/usr/bin/python3
"""Exports torchvision CNNs with random weights as ONNX, plus a fixed input, for cross-checks.

Usage: make_models.py OUT_DIR [MODEL ...] [--vgg16] [--force]

Writes, for each MODEL (default: resnet18 mobilenet_v2 squeezenet1_1 alexnet; --vgg16 adds
vgg16, which is large: 528 MB of weights):
  OUT_DIR/MODEL.onnx        opset 13, eval mode, dynamic batch dimension named "N"
  OUT_DIR/MODEL.input.npy   float32 (1, 3, 224, 224), standard normal from a fixed seed
  OUT_DIR/MODEL.torch.npy   torch's own output on that input (a second, independent reference)
  OUT_DIR/MODEL.stamp       hash of this script and the torch version: files whose stamp
                            matches are reused, so repeated test runs do not re-export
Weights are torchvision's default initialisation after torch.manual_seed(0); nothing is
downloaded. Exit codes: 0 ok, 1 bad arguments, 77 torch/torchvision/onnx missing (a CTest skip).
"""
import argparse
import hashlib
import os
import sys
import time

DEFAULT_MODELS = ["resnet18", "mobilenet_v2", "squeezenet1_1", "alexnet"]
ALL_MODELS = DEFAULT_MODELS + ["vgg16"]
EXIT_UNAVAILABLE = 77


def stamp_text(torch):
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return f"{digest} torch {torch.__version__}\n"


def up_to_date(out_dir, name, stamp):
    files = [f"{name}.onnx", f"{name}.input.npy", f"{name}.torch.npy", f"{name}.stamp"]
    if not all(os.path.exists(os.path.join(out_dir, f)) for f in files):
        return False
    with open(os.path.join(out_dir, f"{name}.stamp")) as f:
        return f.read() == stamp


class _Stop(Exception):
    pass


def normalize_layers(model, x, torch):
    """LSUV-style rescaling: each Conv/Linear (in forward order) is scaled so that its output
    has unit standard deviation on the batch x (Mishkin & Matas, "All you need is a good init"). torchvision's default initialisation is meant
    for training, not for inference: mobilenet_v2's logits come out ~1e-9 and alexnet's ~1e-2,
    which would make the cross-checks compare rounding noise. A scaled layer stays a plain
    Conv/Gemm with the same graph, so the ONNX export is unchanged in structure."""
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    for layer in layers:
        captured = {}

        def hook(_m, _inp, out):
            captured["std"] = float(out.std())
            raise _Stop()

        handle = layer.register_forward_hook(hook)
        try:
            with torch.no_grad():
                model(x)
        except _Stop:
            pass
        finally:
            handle.remove()
        scale = 1.0 / max(captured["std"], 1e-12)
        with torch.no_grad():
            layer.weight.mul_(scale)
            if layer.bias is not None:
                layer.bias.mul_(scale)


def decisive_input(model, x, torch, margin_in_std=1.0, max_steps=20):
    """Gradient ascent on x until the top-1 logit leads the runner-up by margin_in_std standard
    deviations of the logits. Random networks on noise have near-ties (1000 classes), which an
    8-bit accelerator would legitimately flip; a trained network on a real image does not.
    At cosine 0.98 (relative L2 error about 0.2) the difference of two logits' errors has a
    standard deviation near 0.28 logit standard deviations, so a 1.0 margin is 3.5 of those."""
    x = x.clone()
    with torch.no_grad():
        cls = int(model(x)[0].argmax())
    step = 0.05
    for steps in range(max_steps):
        x.requires_grad_(True)
        y = model(x)[0]
        others = torch.cat([y[:cls], y[cls + 1:]])
        margin = y[cls] - others.max()
        if float(margin) >= margin_in_std * float(y.detach().std()):
            break
        (grad,) = torch.autograd.grad(margin, x)
        with torch.no_grad():
            x = (x + step * grad.sign()).clamp_(-4.0, 4.0)
    print(f"  decisive input after {steps} gradient steps", flush=True)
    return x.detach()


def export(name, out_dir, torch, torchvision, np):
    # One seed per model so that each file does not depend on which others are exported.
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    gen = np.random.default_rng(sum(map(ord, name)))  # fixed per model, not per run
    # Half resolution: layer statistics barely depend on it and it makes this 8x cheaper.
    calib = torch.from_numpy(gen.standard_normal((2, 3, 112, 112)).astype(np.float32))
    normalize_layers(model, calib, torch)
    x0 = torch.from_numpy(gen.standard_normal((1, 3, 224, 224)).astype(np.float32))
    x = decisive_input(model, x0, torch).numpy().astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)

    onnx_path = os.path.join(out_dir, f"{name}.onnx")
    tmp = onnx_path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(x), tmp, opset_version=13,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                          do_constant_folding=True)
    os.replace(tmp, onnx_path)
    np.save(os.path.join(out_dir, f"{name}.input.npy"), x)
    np.save(os.path.join(out_dir, f"{name}.torch.npy"), y)
    return y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("models", nargs="*", help=f"subset of {ALL_MODELS}")
    ap.add_argument("--vgg16", action="store_true", help="also export vgg16 (large)")
    ap.add_argument("--force", action="store_true", help="re-export even when up to date")
    args = ap.parse_args()
    models = args.models or list(DEFAULT_MODELS)
    if args.vgg16 and "vgg16" not in models:
        models.append("vgg16")
    for m in models:
        if m not in ALL_MODELS:
            ap.error(f"unknown model '{m}': expected one of {', '.join(ALL_MODELS)}")

    try:
        import numpy as np
        import torch
        import torchvision
        import onnx  # noqa: F401  (torch.onnx.export needs it to check the model)
    except ImportError as e:
        print(f"make_models.py: {e}; install python3-torch, python3-torchvision, python3-onnx "
              "(scripts/setup --optional)", file=sys.stderr)
        return EXIT_UNAVAILABLE

    torch.set_num_threads(2)
    os.makedirs(args.out_dir, exist_ok=True)
    stamp = stamp_text(torch)
    for name in models:
        if not args.force and up_to_date(args.out_dir, name, stamp):
            print(f"{name}: up to date")
            continue
        t0 = time.monotonic()
        y = export(name, args.out_dir, torch, torchvision, np)
        with open(os.path.join(args.out_dir, f"{name}.stamp"), "w") as f:
            f.write(stamp)
        top = np.sort(y[0])[::-1]
        print(f"{name}: exported in {time.monotonic() - t0:.1f} s, output {y.shape}, "
              f"top-1 {int(np.argmax(y[0]))}, margin to top-2 {(top[0] - top[1]) / y.std():.2f} "
              f"logit std ({y.std():.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
