"""The `enet4y2` command. One small function per command, each in its own module under
`enet4y2.cli`; heavy imports happen inside the commands so `--help` stays instant.
Shared options live in `options`, the terminal in `terminal`, and how every failure ends
(one line, an exit status) in `exits`."""

from __future__ import annotations

import sys
from typing import Any

import click

from enet4y2 import __version__
from enet4y2.cli.exits import BrokenPipe, exit_status, flush_stdout


class _Root(click.Group):
    """The root group: handles every failure itself (see `enet4y2.cli.exits`)."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        prog_name = prog_name or "enet4y2"
        if not standalone_mode:  # an in-process caller (`enet4y2 demo`) sees the exceptions
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            status = super().main(args, prog_name, complete_var, False, **extra)
            status = (status if isinstance(status, int) else 0) or flush_stdout()
        except (Exception, KeyboardInterrupt) as exc:  # every failure ends as one line
            status = exit_status(exc)
        sys.exit(status)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            name = ctx.invoked_subcommand
            if exc.ctx is None and name in self.commands:  # a few click errors carry none
                exc.ctx = click.Context(self.commands[name], info_name=name, parent=ctx)
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None  # before click prints an empty line for it
        except BrokenPipeError:
            raise BrokenPipe() from None


@click.group("enet4y2", cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="enet4y2")
def main() -> None:
    """B0-4Y (EfficientNet-B0 + 4 YOLO heads) on upstream AlexeyAB darknet.

    \b
    Typical day:
      make darknet                      # build pinned upstream darknet + binding
      enet4y2 doctor                    # what was built, GPU/cuDNN/OpenCV found
      enet4y2 fetch-coco --dir work     # COCO 2014, verified and resumable
      enet4y2 fetch-weights backbone --dir weights
      enet4y2 train --data work/coco/coco.data --weights weights/enetb0_final.weights
      enet4y2 watch work/backup/train.log   # live loss/mAP view
      enet4y2 eval --weights work/backup/enet4y2-coco_final.weights \
          --data work/coco/coco.data --pycoco \
          --gt work/coco/annotations/instances_val2014.json --out results

    Set ENET4Y2_DEBUG=1 to see the traceback of an unexpected error.
    """


# Commands: one module each under enet4y2.cli, registered here (click lists them sorted).
from enet4y2.cli.build import build  # noqa: E402
from enet4y2.cli.cfg import cfg  # noqa: E402
from enet4y2.cli.data import data  # noqa: E402
from enet4y2.cli.demo import demo  # noqa: E402
from enet4y2.cli.detect import detect  # noqa: E402
from enet4y2.cli.doctor import doctor  # noqa: E402
from enet4y2.cli.eval import eval_command  # noqa: E402
from enet4y2.cli.export import export  # noqa: E402
from enet4y2.cli.fetch_coco import fetch_coco  # noqa: E402
from enet4y2.cli.fetch_voc import fetch_voc  # noqa: E402
from enet4y2.cli.fetch_weights import fetch_weights  # noqa: E402
from enet4y2.cli.train import train  # noqa: E402
from enet4y2.cli.watch import watch  # noqa: E402
from enet4y2.cli.weights import weights  # noqa: E402

for _command in (build, cfg, data, demo, detect, doctor, eval_command, export, fetch_coco,
                 fetch_voc, fetch_weights, train, watch, weights):
    main.add_command(_command)
