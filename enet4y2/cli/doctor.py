"""`enet4y2 doctor`."""

from __future__ import annotations

import click

from enet4y2.cli.options import json_option
from enet4y2.cli.terminal import terminal


@click.command(short_help="Show what is built and what is missing.")
@json_option(help="Print the report as JSON.")
def doctor(as_json: bool) -> None:
    """Report the darknet build (source commit, flags, library, binding), the GPU, CUDA,
    cuDNN and OpenCV found, and the Python dependencies; list what is missing with the
    command that fixes it. Exits 1 when something is missing.

    \b
    Examples:
      enet4y2 doctor
      enet4y2 doctor --json | jq .build.flags
    """
    from rich.text import Text

    from enet4y2.build import doctor as doc
    from enet4y2.cli.terminal import PlainTable, labelled

    report = doc.examine()
    if as_json:
        terminal.json(report.to_json())
    else:
        f = report.facts
        build = f["build"] or {}
        flags = build.get("flags") or {}
        table = PlainTable(show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column()
        not_built = Text("not built", style="red")
        on = [k for k in ("GPU", "CUDNN", "CUDNN_HALF", "OPENCV", "OPENMP", "AVX")
              if flags.get(k)]
        rows = [
            ("enet4y2", f["enet4y2"]),
            ("python", f["python"]),
            ("darknet", f["darknet_dir"]),
            ("executable", f["darknet_executable"] or not_built),
            ("libdarknet", f["libdarknet"] or not_built),
            ("binding", f["binding"]),
            ("preprocessing kernel", f["prep_kernel"]),
            ("source commit", f"{build.get('commit') or '-'} ({build.get('commit_check', '-')})"),
            ("build flags", ("+".join(on) or "CPU") if build else "-"),
            ("ARCH", flags.get("ARCH") or "-"),
            ("built at", build.get("built_at", "-")),
            ("GPUs", ", ".join(f"{g['name']} (sm {g['compute_cap']}, driver {g['driver']})"
                               for g in f["gpus"]) or "none"),
            ("nvcc", f["nvcc"] or "not found"),
            ("cuDNN", f["cudnn"] or "not found"),
            ("OpenCV (pkg-config)", f["opencv_pkg_config"] or "not found"),
        ]
        rows += [(name, version or Text("not installed", style="yellow"))
                 for name, version in f["python_deps"].items()]
        for key, value in rows:
            table.add_row(key, value if isinstance(value, Text) else str(value))
        terminal.show(table)
        for problem in report.problems:
            terminal.err.print(labelled("missing:", "bold yellow", problem), soft_wrap=True)
        if not report.problems:
            terminal.line("all good", style="green")
    if report.problems:
        raise click.exceptions.Exit(1)
