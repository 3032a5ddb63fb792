#!/usr/bin/python3
"""Compares two float32 .npy tensors of the same shape (e.g. cimsim's output vs onnxruntime's).

Usage: compare.py A.npy B.npy [--min-cosine C] [--max-rel-l2 R] [--max-abs D] [--same-top1]
Prints: cosine similarity (whole tensor and the worst batch element), relative L2 error
||A-B|| / ||B|| (B is the reference), max |A-B|, and top-1 agreement (argmax over each batch
element's features: the fraction of elements whose argmax matches).
Thresholds: --min-cosine applies to the worst batch element; --same-top1 requires agreement on
every element; --max-abs 0 asks for bit-exact equality. Exit codes: 0 all thresholds hold;
1 a threshold fails (each failing one is named); 2 bad input (missing/unreadable file, not
float32, NaN/Inf, shapes differ) or bad arguments.
"""
import argparse
import sys

import numpy as np

from golden_io import InputError, load_f32, per_sample


def cosine(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 and nb == 0.0:
        return 1.0
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def compare(a, b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ra, rb = per_sample(a64), per_sample(b64)
    diff = a64 - b64
    nb = np.linalg.norm(b64)
    return {
        "cosine": cosine(a64.ravel(), b64.ravel()),
        "min_sample_cosine": min(cosine(x, y) for x, y in zip(ra, rb)),
        "rel_l2": float(np.linalg.norm(diff) / nb) if nb > 0 else (0.0 if not diff.any() else float("inf")),
        "max_abs": float(np.max(np.abs(diff))),
        "top1_agreement": float(np.mean(np.argmax(ra, axis=1) == np.argmax(rb, axis=1))),
        "samples": ra.shape[0],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="tensor under test")
    ap.add_argument("b", help="reference tensor")
    ap.add_argument("--min-cosine", type=float)
    ap.add_argument("--max-rel-l2", type=float)
    ap.add_argument("--max-abs", type=float)
    ap.add_argument("--same-top1", action="store_true")
    args = ap.parse_args()
    try:
        a, b = load_f32(args.a), load_f32(args.b)
        if a.shape != b.shape:
            raise InputError(f"{args.a}: shape {a.shape} differs from {args.b}: shape {b.shape}")
    except InputError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    r = compare(a, b)
    print(f"shape {a.shape}: cosine {r['cosine']:.6f} (worst sample {r['min_sample_cosine']:.6f}), "
          f"rel L2 {r['rel_l2']:.3e}, max abs diff {r['max_abs']:.3e}, "
          f"top-1 agreement {r['top1_agreement']:.4f} over {r['samples']} sample(s)")
    failures = []
    if args.min_cosine is not None and not r["min_sample_cosine"] >= args.min_cosine:
        failures.append(f"cosine {r['min_sample_cosine']:.6f} < {args.min_cosine}")
    if args.max_rel_l2 is not None and not r["rel_l2"] <= args.max_rel_l2:
        failures.append(f"relative L2 {r['rel_l2']:.3e} > {args.max_rel_l2}")
    if args.max_abs is not None and not r["max_abs"] <= args.max_abs:
        failures.append(f"max abs diff {r['max_abs']:.3e} > {args.max_abs}")
    if args.same_top1 and r["top1_agreement"] != 1.0:
        failures.append(f"top-1 differs on {round((1 - r['top1_agreement']) * r['samples'])} "
                        f"of {r['samples']} sample(s)")
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
