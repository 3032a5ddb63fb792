#!/usr/bin/python3
"""Top-1 accuracy of classifier outputs against labels.

Usage: accuracy.py OUTPUT.npy LABELS.npy [--min A]
OUTPUT.npy: float32 (N, classes) or (N, classes, 1, 1) scores; LABELS.npy: float32 (N,)
holding integer class indices. Prints "top-1 accuracy A (k/N)". Exit codes: 0 ok (and
A >= --min when given); 1 below --min; 2 bad input (missing file, not float32, NaN/Inf, N
differs, a label that is not an integer class index).
"""
import argparse
import sys

import numpy as np

from golden_io import InputError, load_f32, per_sample


def accuracy(scores, labels, scores_path, labels_path):
    rows = per_sample(scores)
    if labels.ndim != 1 or labels.shape[0] != rows.shape[0]:
        raise InputError(f"{labels_path}: expected shape ({rows.shape[0]},) to match {scores_path} "
                         f"{scores.shape}, got {labels.shape}")
    idx = labels.astype(np.int64)
    if np.any(idx != labels) or np.any(idx < 0) or np.any(idx >= rows.shape[1]):
        raise InputError(f"{labels_path}: expected integer class indices in [0, {rows.shape[1]})")
    correct = int(np.count_nonzero(np.argmax(rows, axis=1) == idx))
    return correct, rows.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("output")
    ap.add_argument("labels")
    ap.add_argument("--min", type=float, help="fail (exit 1) below this accuracy (0..1)")
    args = ap.parse_args()
    try:
        correct, n = accuracy(load_f32(args.output), load_f32(args.labels), args.output, args.labels)
    except InputError as e:
        print(f"accuracy.py: {e}", file=sys.stderr)
        return 2
    acc = correct / n
    print(f"top-1 accuracy {acc:.4f} ({correct}/{n})")
    if args.min is not None and acc < args.min:
        print(f"FAIL: accuracy {acc:.4f} < {args.min:.4f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
