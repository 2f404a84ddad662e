"""The seed's avgout.py algorithm, re-implemented as the benchmark baseline (and as an
independent reference for the tests): read the whole file line by line, match every line
with the seed's regex, keep (iteration, avg) pairs in a list, then pick rows and scale
bars as the seed does. Returns the table text (the seed's CPU/CWD lines left out)."""

from __future__ import annotations

import math
import re

import numpy as np

SEED_REGEX = re.compile(r"([0-9.]+):.* +([0-9.]+) *avg")
#: The seed's default -s: it stops reading the log after this iteration.
SEED_STOP_ITER = 1000000
SEED_MAP = re.compile(r"Last accuracy mAP@0.5 = ([0-9.]+) %, best = ([0-9.]+) %")


def seed_avgout(path: str, column: int = 20, stop_iter: int = SEED_STOP_ITER,
                bars: int = 80) -> str:
    best_map = ""
    points = [[0, 1e-10]]  # the seed starts its list with this sentinel
    with open(path, errors="replace") as f:
        for line in f:
            text = line.strip()
            if not text:
                continue
            found = SEED_MAP.search(text)
            if found:
                best_map = found.group(2)
            found = SEED_REGEX.search(text)
            if found is None:
                continue
            it, loss = int(found.group(1)), float(found.group(2))
            points.append([it, loss])
            if it > stop_iter:
                break
    table = np.asarray(points)
    step = len(table) // column
    if step <= 0:
        return ""
    top_all = table[:, 1].max()
    low = table[1:, 1].min()
    low_it = [int(i) for i, v in table if v == low][-1]
    out = [f"loss range: {top_all:f} to {low:f}"]
    low = low if low > 0 else 1e-10
    rule = "-" * (bars + 27)
    out += [rule, f"|{'iteration':>11s} {'loss(' + best_map + '%)':>12s} {'bar':^{bars}s}|",
            rule]
    top = min(table[::step, 1].max(), column * low)
    widen = 1.0
    if top < 10 * low:
        widen = 10 * low / top
        top = 10 * low
    for it, loss in table[::step]:
        if it == 0:
            continue
        n = math.ceil(bars * widen * loss / (top - low))
        bar = "".join("|" if j == bars else "#" for j in range(n) if j <= bars)
        out.append(f"{int(it):12d} {loss:12.6f} {bar}".rstrip())
    out.append(rule)
    n = min(math.ceil(bars * widen * low / (top - low)), bars + 1)
    out.append(f"MIN {low_it:8d} {low:12.6f} {'>' * max(n, 0)}".rstrip())
    out.append(rule)
    return "\n".join(out) + "\n"
