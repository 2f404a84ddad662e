#!/usr/bin/env python3
"""The seed's `scripts/avgout.py LOG [-c COLUMN] [-s STOP_ITER] [-b BARS]`, as a thin shim
over enet4y2: same arguments, the classic loss-bar table (now with mAP from current logs).
`enet4y2 watch LOG` is the full view."""

from __future__ import annotations

import argparse
import sys

import _venv  # scripts/_venv.py: from a fresh shell, re-run under .venv

_venv.use_project_venv(__file__)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("log")
    ap.add_argument("-p", "--phrase", default="detv3", choices=["detv3"],
                    help="log format (only darknet detector logs)")
    ap.add_argument("-c", "--column", type=int, default=20, help="rows of the table")
    ap.add_argument("-s", "--stop_iter", type=int, default=1000000, help="last iteration shown")
    ap.add_argument("-b", "--bars", type=int, default=80, help="bar width")
    args = ap.parse_args(argv)
    if args.column < 1 or args.bars < 1:
        ap.error("--column and --bars must be at least 1")

    from enet4y2.errors import Enet4y2Error
    from enet4y2.log.avgout import avgout_text, state_table
    from enet4y2.log.follower import LogFollower

    follower = LogFollower(args.log)
    try:
        follower.refresh()
    except Enet4y2Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    state = follower.state
    table = state_table(state, args.column, args.bars, args.stop_iter)
    if not table.rows:
        print(f"error: no iterations in {args.log} yet", file=sys.stderr)
        return 1
    best = state.best_map
    sys.stdout.write(avgout_text(table, 100 * best.map50 if best else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
