"""`enet4y2 train`: pre-flight, weights, darknet supervised, resume."""

from __future__ import annotations

import click

from enet4y2.cli.options import cfg_option, data_option, input_option, weights_option
from enet4y2.cli.train_slurm import slurm_options, slurm_train


@click.command("train")
@data_option(default="coco.data", help="darknet .data file (relative paths in it are taken "
             "from here, the current directory, as darknet does).")
@cfg_option(default="cfg/enet4y2-coco.cfg", help="Detector .cfg.")
@weights_option(help="Start from: detector weights, a cut backbone, or classifier weights "
                "(cut once, cached in backup/). None: from scratch.")
@input_option("--weights-cfg", kind="cfg",
              help="The classifier .cfg the --weights were trained with (default: "
                   "EfficientNet-B0 recognised by size).")
@click.option("--gpus", default=None, help="GPU indices for darknet's -gpus, e.g. 0,1,2,3.")
@click.option("--warmup-single-gpu", is_flag=True,
              help="Multi-GPU from scratch: the first 1000 iterations on the first GPU, "
                   "then resume on all (darknet's advice).")
@click.option("--map", "calc_map", is_flag=True, help="Pass -map: mAP@0.5 on valid= "
              "during training (lands in the log).")
@click.option("--resume", is_flag=True,
              help="Continue from backup/<cfg name>_last.weights, keeping the iteration count.")
@click.option("--clear", is_flag=True, help="Pass -clear: restart the iteration count at 0.")
@click.option("--log", default=None, help="Log file, appended to  [default: backup/train.log]")
@click.option("--on-nan", type=click.Choice(["stop", "warn"]), default="stop",
              show_default=True, help="When the avg loss becomes nan/inf.")
@click.option("--skip-bad", is_flag=True,
              help="Train on a cleaned copy of the list without the bad files (yours untouched).")
@click.option("--check-all", is_flag=True,
              help="Decode every image and check every label (default: a sample).")
@click.option("--quiet", is_flag=True, help="No live view; messages and the summary only.")
@slurm_options
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def train(data, cfg, weights, weights_cfg, gpus, warmup_single_gpu, calc_map, resume, clear,
          log, on_nan, skip_bad, check_all, quiet, extra, **slurm):
    """Train with darknet: pre-flight checks, the right weights, a log that is never
    overwritten, NaN and crash detection, Ctrl-C that says how to resume.

    Arguments after `--` go to darknet unchanged.

    \b
    Examples:
      enet4y2 train --data coco.data --weights enetb0_final.weights    # backbone, cut once
      enet4y2 train --data coco.data --gpus 0,1,2,3 --warmup-single-gpu --map
      enet4y2 train --data coco.data --resume                          # after Ctrl-C/reboot
      enet4y2 train --data my.data --cfg my.cfg --skip-bad --check-all -- -mjpeg_port 8090
      enet4y2 watch backup/train.log                                   # from another shell
      enet4y2 train --data coco.data --gpus 0 --slurm --time 2-00:00:00 --partition gpu
      enet4y2 train --data coco.data --slurm-status                    # the job chain
    """
    from enet4y2.cli.train_view import TerminalReporter
    from enet4y2.train.session import TrainOptions, run

    opts = TrainOptions(data=data, cfg=cfg, weights=weights, weights_cfg=weights_cfg,
                        gpus=gpus, calc_map=calc_map, resume=resume, clear=clear, log=log,
                        on_nan=on_nan, skip_bad=skip_bad, check_all=check_all,
                        warmup_single_gpu=warmup_single_gpu, extra=tuple(extra))
    reporter = TerminalReporter(live=not quiet)
    code = slurm_train(opts, reporter, **slurm)  # None: no Slurm option given
    if code is not None:
        raise click.exceptions.Exit(code)
    outcome = run(opts, reporter)
    code = reporter.summary(outcome)
    if code:
        raise click.exceptions.Exit(code)
