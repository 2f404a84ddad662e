"""The `enet4y2` command. One small function per command, each in its own module under
`enet4y2.cli`; heavy imports happen inside the commands so `--help` stays instant."""

from __future__ import annotations

import click

from enet4y2 import __version__
from enet4y2.cli.terminal import terminal
from enet4y2.errors import Enet4y2Error


class _Root(click.Group):
    """Turns `Enet4y2Error` into a one-line error and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Enet4y2Error as exc:
            terminal.abort(str(exc))


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="enet4y2")
def main() -> None:
    """B0-4Y (EfficientNet-B0 + 4 YOLO heads) on upstream AlexeyAB darknet.

    \b
    Typical day:
      make darknet                      # build pinned upstream darknet + binding
      enet4y2 doctor                    # what was built, GPU/cuDNN/OpenCV found
      enet4y2 fetch-coco --root work    # COCO 2014, verified and resumable
      enet4y2 train --data work/coco/coco.data --weights enetb0_final.weights
      enet4y2 watch backup/train.log    # live loss/mAP view
      enet4y2 eval --weights backup/enet4y2-coco_final.weights --pycoco
    """


# Commands: one module each under enet4y2.cli, registered here (click lists them sorted).
from enet4y2.cli.build import build  # noqa: E402
from enet4y2.cli.cfg import cfg  # noqa: E402
from enet4y2.cli.demo import demo  # noqa: E402
from enet4y2.cli.detect import detect  # noqa: E402
from enet4y2.cli.doctor import doctor  # noqa: E402
from enet4y2.cli.eval import eval_command  # noqa: E402
from enet4y2.cli.fetch_coco import fetch_coco  # noqa: E402
from enet4y2.cli.fetch_weights import fetch_weights  # noqa: E402
from enet4y2.cli.train import train  # noqa: E402
from enet4y2.cli.watch import watch  # noqa: E402
from enet4y2.cli.weights import weights  # noqa: E402

for _command in (build, cfg, demo, detect, doctor, eval_command, fetch_coco, fetch_weights, train,
                 watch, weights):
    main.add_command(_command)
