"""`enet4y2 build` (hidden): what `make darknet` runs."""

from __future__ import annotations

import os
from pathlib import Path

import click

from enet4y2.cli.terminal import terminal


@click.command("build", hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("assignments", nargs=-1, type=click.UNPROCESSED)
def build(assignments: tuple[str, ...]) -> None:
    """Build pinned upstream darknet and the binding: KEY=VALUE words as `make darknet`
    passes them (GPU CUDNN CUDNN_HALF OPENCV OPENMP AVX ARCH DARKNET_SRC DEST
    DARKNET_ALLOW_OTHER; empty means automatic).

    \b
    Examples:
      make darknet GPU=1 CUDNN=1
      enet4y2 build DARKNET_SRC=../shared/upstream/darknet-<commit>.tar.gz
    """
    from enet4y2.build.make import Flags, build, describe, parse_assignments

    args = parse_assignments(list(assignments))
    dest = Path(args["DEST"]) if args.get("DEST") else None
    allow_other = args.get("DARKNET_ALLOW_OTHER") or os.environ.get("DARKNET_ALLOW_OTHER", "")
    src = args.get("DARKNET_SRC") or os.environ.get("DARKNET_SRC") or None
    with terminal.err.status("building darknet") as status:

        def on_line(line: str, n: int) -> None:
            status.update(f"building darknet: {n} files compiled")

        record = build(args, dest=dest, darknet_src=src, allow_other=allow_other == "1",
                       on_line=on_line, report=terminal.info)
    what = describe(Flags(**record["flags"]))
    commit = (record["commit"] or "unverified")[:12]
    if record["objects_compiled"]:
        terminal.info(f"darknet built ({what}, commit {commit}, {record['commit_check']} check, "
                      f"{record['objects_compiled']} files compiled, {record['seconds']} s)")
    else:
        terminal.info(f"darknet is up to date ({what}, commit {commit})")
