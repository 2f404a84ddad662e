"""The incremental darknet log parser: real-format lines, noise, chunking, resumes."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from enet4y2.log.avgout import loss_extremes
from enet4y2.log.events import Complaint, Iteration, MapReport, parse_iteration
from enet4y2.log.parser import LogParser
from enet4y2.log.state import LogState
from tests.logsamples import CLEAR, iteration_line, map_block, training_log


def parse(data: bytes) -> list:
    p = LogParser()
    return p.feed(data) + p.flush()


def iterations(events) -> list[Iteration]:
    return [e for e in events if isinstance(e, Iteration)]


def test_facts_line():
    line = (b" 5: 11.506630, 80.744095 avg loss, 0.001000 rate, 0.503875 seconds, "
            b"20 images, 0.005908 hours left\n")
    assert parse(line) == [Iteration(5, 11.50663, 80.744095, 0.001, 0.503875, 20, 0.005908)]


def test_status_clear_and_bell_on_the_same_line_as_map_text():
    text = (" (next mAP calculation at 200 iterations) \n Last accuracy mAP@0.50 = 45.20 %, "
            f"best = 47.00 % {CLEAR}7/500: loss=3.1 map=0.45 best=0.47 hours left=0.1\x07"
            + iteration_line(7, "3.100000", "3.200000"))
    p = LogParser()
    events = p.feed(text.encode()) + p.flush()
    # Only the "Last accuracy" form is present, so it is the report; then the iteration.
    assert events[0] == MapReport(None, 0.452, 0.47)
    assert [e.iteration for e in iterations(events)] == [7]
    assert p.max_batches == 500


def test_nan_and_minus_nan():
    text = iteration_line(3, "nan", "-nan", hours="-nan") + iteration_line(4, "-nan(ind)", "inf")
    its = iterations(parse(text.encode()))
    assert [i.iteration for i in its] == [3, 4]
    assert math.isnan(its[0].loss) and math.isnan(its[0].avg_loss)
    assert math.isnan(its[0].hours_left)
    assert math.isnan(its[1].loss) and math.isinf(its[1].avg_loss)
    assert its[0].diverged and its[1].diverged


def test_carriage_returns_and_crlf():
    text = iteration_line(1, "2.000000", "2.000000").replace("\n", "\r\n")
    text += "\r rank = 100 of ranks = 1310 \r" + iteration_line(2, "1.0", "1.9").strip() + "\r"
    assert [i.iteration for i in iterations(parse(text.encode()))] == [1, 2]


def test_partial_last_line_is_held_until_completed():
    p = LogParser()
    line = iteration_line(9, "1.500000", "1.600000").encode()
    assert p.feed(line[:30]) == []
    assert p.pending > 0
    events = p.feed(line[30:])
    assert [e.iteration for e in iterations(events)] == [9]
    assert p.offset == len(line) and p.pending == 0


def test_flush_parses_an_unterminated_last_line():
    p = LogParser()
    assert p.feed(b" 3: 1.0, 2.0 avg loss, 0.1 rate, 1.0 seconds, 6 images, 1.0 hours left") == []
    assert [e.iteration for e in p.flush()] == [3]


def test_seed_regex_lines_and_old_formats():
    old = b" 12: 3.5, 4.25 avg, 0.001000 rate, 2.0 seconds, 768 images\n"
    odd = b"iter 13: whatever 4.5 avg\n"  # accepted by the seed's regex
    its = iterations(parse(old + odd))
    assert [(i.iteration, i.avg_loss) for i in its] == [(12, 4.25), (13, 4.5)]
    assert its[0].images == 768 and math.isnan(its[0].hours_left)
    assert math.isnan(its[1].loss)


def test_region_lines_are_not_iterations():
    region = (b"v3 (mse loss, Normalizer: (iou: 0.75, obj: 1.00, cls: 1.00) Region 3 Avg "
              b"(IOU: 0.228370), count: 2, class_loss = 42.136597, iou_loss = 4.917892, "
              b"total_loss = 47.054489 \n total_bbox = 8, rewritten_bbox = 0.000000 % \n")
    assert parse(region) == []


def test_map_calculation_reported_once_with_its_iteration():
    text = iteration_line(10, "1.0", "1.1") + map_block(0.25) + iteration_line(11, "1.0", "1.1")
    events = parse(text.encode())
    maps = [e for e in events if isinstance(e, MapReport)]
    assert maps == [MapReport(10, 0.25, 0.25)]


def test_map_best_tracks_the_run_and_restarts_on_resume():
    text = (iteration_line(10, "1", "1") + map_block(0.3) + iteration_line(20, "1", "1")
            + map_block(0.2) + iteration_line(5, "1", "1") + map_block(0.1))
    maps = [e for e in parse(text.encode()) if isinstance(e, MapReport)]
    assert [(m.iteration, m.map50, m.best) for m in maps] == [
        (10, 0.3, 0.3), (20, 0.2, 0.3), (5, 0.1, 0.1)]


def test_other_iou_thresholds_are_not_map50():
    text = b" mean_average_precision (mAP@0.75) = 0.300000 \n"
    assert parse(text) == []


def test_complaints_in_darknets_words():
    text = (
        b"\n Wrong annotation: class_id = 7. But class_id should be [from 0 to 0], "
        b"file: /d/a.txt \n"
        b"Cannot load image \"/d/b.jpg\"\nSTB Reason: can't fopen\n"
        b"Can't open label file. (This can be normal only if you use MSCOCO): /d/c.txt \n"
        b"Couldn't open file: train.txt\n"
        b" CUDA Error: out of memory\n"
    )
    complaints = [e for e in parse(text) if isinstance(e, Complaint)]
    assert [c.kind for c in complaints] == [
        "wrong_annotation", "cannot_load_image", "missing_label", "cannot_open_file",
        "cuda_error"]
    assert complaints[1].text == 'Cannot load image "/d/b.jpg"'


def test_overlong_lines_are_skipped_not_buffered():
    p = LogParser()
    junk = b"x" * 50_000
    p.feed(junk)
    p.feed(junk)
    assert p.pending < 70_000
    events = p.feed(b"\n" + iteration_line(1, "1", "1").encode())
    assert [e.iteration for e in iterations(events)] == [1]


def test_state_segments_series_and_summary():
    text = training_log(1, 30) + training_log(21, 25, map_every=0)
    state = LogState()
    state.update(parse(text.encode()))
    assert [(s.first, s.last, s.rows) for s in state.segments] == [(1, 30, 30), (21, 25, 5)]
    series = state.series()
    # The resumed run replaced 21..30: the effective run is 1..25, strictly increasing.
    assert list(series[:, 0]) == list(range(1, 26))
    assert state.last.iteration == 25
    assert state.min_avg.iteration == 25
    assert [m.iteration for m in state.maps] == [10, 20, 30]
    assert state.best_map.iteration == 30
    summary = state.to_dict()
    assert summary["rows"] == 35 and summary["nan_iterations"] == 0


def test_state_json_marks_nan():
    state = LogState()
    state.update(parse(iteration_line(1, "nan", "nan").encode()))
    d = state.to_dict()
    assert d["last"]["diverged"] is True and d["last"]["avg_loss"] is None
    assert d["min_avg"] is None and d["nan_iterations"] == 1


SAMPLE = (training_log(1, 25) + "\n Wrong annotation: class_id = 3. But ...\n"
          + iteration_line(26, "nan", "-nan") + training_log(5, 12)).encode()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, len(SAMPLE)), max_size=12))
def test_chunked_feeding_equals_whole(cuts):
    whole = parse(SAMPLE)
    p = LogParser()
    events = []
    bounds = [0, *sorted(cuts), len(SAMPLE)]
    for a, b in itertools.pairwise(bounds):
        events += p.feed(SAMPLE[a:b])
    events += p.flush()
    assert _same(events, whole)
    assert p.offset == len(SAMPLE)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.integers(0, 2000))
def test_random_bytes_never_crash_and_chunking_holds(data, cut):
    whole = parse(data)
    p = LogParser()
    events = p.feed(data[:cut]) + p.feed(data[cut:]) + p.flush()
    assert _same(events, whole)


_ALPHABET = [
    *" 0123456789.:,/-\n\r\x1b[HJ\x07avglosnratecdimhuf%()@P=",
    " avg loss, ", " rate, ", " seconds, ", " images, ", " hours left", "nan", "mAP@0.50",
    " mean_average_precision (mAP@0.50) = ", "Last accuracy ", "Wrong annotation:",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=200), st.integers(0, 4000))
def test_log_like_noise_chunking_holds(tokens, cut):
    data = "".join(tokens).encode()
    whole = parse(data)
    p = LogParser()
    events = p.feed(data[:cut]) + p.feed(data[cut:]) + p.flush()
    assert _same(events, whole)


def test_parse_iteration_rejects_dots_only():
    assert parse_iteration(b"5: x ... avg") is None


def _same(a: list, b: list) -> bool:
    """Event lists equal, nan == nan."""
    return len(a) == len(b) and all(repr(x) == repr(y) for x, y in zip(a, b, strict=False))


# --- the numpy bulk path gives what the line-by-line path gives -------------------------

def _both_paths(data: bytes) -> tuple[list, list, LogParser, LogParser]:
    bulk, lines = LogParser(bulk_min=0), LogParser(bulk_min=1 << 40)
    return (bulk.feed(data) + bulk.flush(), lines.feed(data) + lines.flush(), bulk, lines)


def _noisy_log() -> bytes:
    region = ("v3 (iou loss, Normalizer: (iou: 0.07, obj: 1.00, cls: 1.00) Region 139 Avg "
              "(IOU: 0.654321), count: 12, class_loss = 1.234567, iou_loss = 2.345678, "
              "total_loss = 3.580245 \n total_bbox = 1234, rewritten_bbox = 0.1 % \n")
    parts = [training_log(1, 30).replace("Loaded: 0.000029 seconds\n",
                                         "Loaded: 0.000029 seconds\n" + region)]
    parts.append("\r rank = 100 of ranks = 1310 \r rank = 200 \rWrong label: truth.x = 2\n")
    parts.append(iteration_line(31, "nan", "-nan") + iteration_line(32, "1.5", "1.25"))
    parts.append(" 33: 1.500000, 1.500000 avg loss, 0.001000 rate, 0.5 seconds, 3 images, "
                 "-1.000000 hours left\n")
    parts.append("Loaded: 1 seconds Wrong annotation: ignored on a load-time line\n")
    parts.append(training_log(20, 60, max_batches=900))
    parts.append(" mean_average_precision (mAP@0.75) = 0.1 \n 61: x avg\n")
    return "".join(parts).encode()


def test_bulk_path_equals_line_path_on_a_noisy_log():
    bulk, lines, pb, pl = _both_paths(_noisy_log())
    assert len(iterations(lines)) == 74
    assert _same(bulk, lines)
    assert pb.max_batches == pl.max_batches == 900


def test_bulk_table_equals_events():
    data = _noisy_log()
    p = LogParser(bulk_min=0)
    rows, others = p.feed_table(data)
    events = parse(data)
    its = iterations(events)
    assert [int(r[0]) for r in rows] == [i.iteration for i in its]
    assert repr(rows[:, 2].tolist()) == repr([i.avg_loss for i in its])
    assert _same(others, [e for e in events if not isinstance(e, Iteration)])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    *_ALPHABET, "\n", iteration_line(7, "1.500000", "2.250000"), "Loaded: 0.1 seconds\n",
    " Last accuracy mAP@0.50 = 4.00 %, best = 5.00 % ", "\x1b[H\x1b[J3/99: loss=1 ",
    " (next mAP calculation at 9 iterations) ", "v3 (", " total_bbox = ",
    " mean average precision (mAP@0.50) = 0.300000, or 30.00 % \n",
    " 5: 1.000000, 1.000000 avg loss, 0.001000 rate, 1.000000 seconds, 2 images, ",
    "0.100000 hours left",
]), max_size=120))
def test_bulk_path_equals_line_path_on_noise(tokens):
    bulk, lines, pb, pl = _both_paths("".join(tokens).encode())
    assert _same(bulk, lines)
    assert pb.max_batches == pl.max_batches


_DIGITS = st.text("0123456789", min_size=1, max_size=17)


@st.composite
def _wide_iteration_line(draw) -> str:
    """A canonical-looking iteration line with numbers of any width (up to 17 digits, so
    some are past what float64 holds exactly and must go to the per-line parser)."""
    def num() -> str:
        return f"{draw(_DIGITS)}.{draw(_DIGITS)}"
    return (f" {draw(_DIGITS)}: {num()}, {num()} avg loss, {num()} rate, {num()} seconds, "
            f"{draw(_DIGITS)} images, {num()} hours left\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(_wide_iteration_line(), min_size=1, max_size=40))
def test_bulk_path_reads_numbers_of_any_width_as_float_does(lines):
    # Many lines of a few layouts: the bulk path groups lines by layout and reads digits
    # eight at a time; every value must be what float()/int() of the text gives.
    data = "".join(lines * 3).encode()
    bulk, by_line, _, _ = _both_paths(data)
    assert _same(bulk, by_line)
    assert len(iterations(bulk)) == 3 * len(lines)


def test_state_from_table_equals_state_from_events():
    data = _noisy_log() + training_log(3, 8, map_every=0).encode()
    a, b = LogState(), LogState()
    a.update(parse(data))
    p = LogParser(bulk_min=0)
    rows, others = p.feed_table(data)
    b.update_table(rows, others)
    assert a.to_dict() == b.to_dict()
    assert len(a.segments) == 3
    assert repr(a.columns().tolist()) == repr(b.columns().tolist())


def test_stderr_line_inserted_mid_line_keeps_the_iteration():
    # With `2>&1` and several GPUs, stderr's per-head lines can land inside a stdout line
    # where stdout's buffer was flushed: the iteration and its avg loss survive.
    line = iteration_line(123, "4.500000", "4.600000")
    cut = line.index("avg lo") + 6
    region = "v3 (iou loss, Normalizer: (iou: 0.07) Region 150 Avg (IOU: 0.5), count: 3 \n"
    text = line[:cut] + region + line[cut:] + iteration_line(124, "4.4", "4.5")
    its = iterations(parse(text.encode()))
    assert [(i.iteration, i.avg_loss) for i in its] == [(123, 4.6), (124, 4.5)]
    assert math.isnan(its[0].rate)


def test_incremental_series_and_extremes_equal_fresh_ones():

    data = (_noisy_log() + training_log(3, 8, map_every=0).encode()
            + iteration_line(9, "0.100000", "0.100000").encode()
            + training_log(10, 15, map_every=0).encode())
    step, fresh = LogState(), LogState()
    p = LogParser()
    for i in range(0, len(data), 700):
        step.update(p.feed(data[i : i + 700]))
        step.series()
        step.avg_extremes()  # computed between updates, so later calls are incremental
    step.update(p.flush())
    fresh.update(parse(data))
    assert repr(step.series().tolist()) == repr(fresh.series().tolist())
    assert step.avg_extremes() == fresh.avg_extremes() == loss_extremes(fresh.series()[:, 2])
    assert step.min_avg.iteration == 9 and step.min_avg.avg_loss == 0.1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_bulk_path_on_random_bytes(data):
    bulk, lines, pb, pl = _both_paths(data)
    assert _same(bulk, lines)
    assert pb.max_batches == pl.max_batches
