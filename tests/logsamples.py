"""Darknet-format log text for the log/watch tests, written the way upstream's
detector.c prints it (format strings read from its source, values made up)."""

from __future__ import annotations

CLEAR = "\x1b[H\x1b[J"


def iteration_line(it: int, loss: str, avg: str, rate: str = "0.001000",
                   seconds: str = "0.503875", images: int | None = None,
                   hours: str = "0.005908") -> str:
    images = it * 64 if images is None else images
    return (f"\n {it}: {loss}, {avg} avg loss, {rate} rate, {seconds} seconds, "
            f"{images} images, {hours} hours left\n")


def iteration_block(it: int, max_batches: int, loss: float, avg: float,
                    last_map: tuple[float, float] | None = None) -> str:
    """What darknet prints for one iteration (stdout); with -map once mAP is known."""
    prefix = ""
    if last_map is not None:
        prefix = (f"\n (next mAP calculation at {it + 10} iterations) "
                  f"\n Last accuracy mAP@0.50 = {last_map[0] * 100:2.2f} %, "
                  f"best = {last_map[1] * 100:2.2f} % ")
    return (f"Loaded: 0.000029 seconds\n{prefix}{CLEAR}{it}/{max_batches}: loss={loss:0.1f} "
            f"hours left=1.5\x07" + iteration_line(it, f"{loss:f}", f"{avg:f}"))


def map_block(value: float) -> str:
    """The lines of one mAP calculation during training (-map)."""
    return (f" mean average precision (mAP@0.50) = {value:f}, or {value * 100:2.2f} % \n\n"
            f"Set -points flag:\n\n mean_average_precision (mAP@0.50) = {value:f} \n"
            "New best mAP!\n")


def training_log(first: int = 1, last: int = 40, max_batches: int = 500,
                 map_every: int = 10) -> str:
    out = ["yolo\nLearning Rate: 0.001, Momentum: 0.9, Decay: 0.0005\n"]
    last_map = None
    for it in range(first, last + 1):
        loss = 100.0 / it + 1
        out.append(iteration_block(it, max_batches, loss, loss + 0.5, last_map))
        if map_every and it % map_every == 0:
            value = it / 1000
            best = max(value, last_map[1] if last_map else 0.0)
            out.append(map_block(value))
            last_map = (value, best)
    return "".join(out)
