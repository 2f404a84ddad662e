#!/usr/bin/env python3
"""The seed's `scripts/pycocoeval.py -r RESULTS -g GT`, as a thin shim over
`enet4y2 eval --results RESULTS --gt GT`.

Unlike the seed's script it scores every image (of --list when given, else of the GT);
add --only-detected-images to reproduce the seed's (inflated) numbers. Any other option
of `enet4y2 eval` passes through, e.g. `--list 5k.txt --compare enet-coco=stats.json`.

    scripts/pycocoeval.py -r results/coco_results.json -g instances_val2014.json --list 5k.txt
"""

from __future__ import annotations

import argparse
import sys

import _venv  # scripts/_venv.py: from a fresh shell, re-run under .venv

_venv.use_project_venv(__file__)


def translate(argv: list[str]) -> list[str]:
    """The seed's arguments -> `enet4y2 eval` arguments."""
    parser = argparse.ArgumentParser(
        prog="pycocoeval.py", description=__doc__.splitlines()[0],
        epilog="Other options pass through to `enet4y2 eval` (see enet4y2 eval --help).")
    parser.add_argument("-r", "--results", required=True, help="COCO results JSON")
    parser.add_argument("-g", "--gt", required=True, help="COCO instances JSON")
    known, rest = parser.parse_known_args(argv)
    return ["eval", "--results", known.results, "--gt", known.gt, *rest]


def main(argv: list[str] | None = None) -> int:
    from enet4y2.cli import main as enet4y2_main

    try:
        enet4y2_main.main(args=translate(sys.argv[1:] if argv is None else argv),
                          prog_name="enet4y2", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
