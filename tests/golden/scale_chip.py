#!/usr/bin/python3
"""Writes ARCH.yaml with its chip replicated K times: chip.cores and chip.mesh_rows multiplied
by K, chip.name suffixed "-xK"; every other line (costs, sources, comments) unchanged.

Usage: scale_chip.py ARCH.yaml K OUT.yaml
For networks whose weights do not fit on one chip (weights stay in the crossbars; cimsim does
not reload them), so that their numbers can still be cross-checked on the same tiles.
Exit codes: 0 ok; 1 the chip section lacks one of the keys (the file changed shape: fix here).
"""
import re
import sys


def main():
    if len(sys.argv) != 4 or not sys.argv[2].isdigit() or int(sys.argv[2]) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    src, k, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(src) as f:
        text = f.read()
    m = re.search(r"^chip:\n((?:[ \t]+.*\n|\s*\n)*)", text, re.M)
    if not m:
        print(f"{src}: expected a top-level 'chip:' section", file=sys.stderr)
        return 1
    block = m.group(1)
    for key in ("cores", "mesh_rows"):
        block, n = re.subn(rf"^(\s+{key}:\s*)(\d+)", lambda g: f"{g.group(1)}{int(g.group(2)) * k}",
                           block, count=1, flags=re.M)
        if n != 1:
            print(f"{src}: expected 'chip.{key}: <integer>'", file=sys.stderr)
            return 1
    block = re.sub(r"^(\s+name:\s*)(\S+)", rf"\g<1>\g<2>-x{k}", block, count=1, flags=re.M)
    with open(dst, "w") as f:
        f.write(text[:m.start(1)] + block + text[m.end(1):])
    return 0


if __name__ == "__main__":
    sys.exit(main())
