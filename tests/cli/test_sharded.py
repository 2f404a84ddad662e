"""`detect` and `eval --pycoco` sharded on a local process pool and on a real local Ray
cluster: the merged output is the single-process output, runs resume, a changed run is
refused, an unreadable image is recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.darknet


@pytest.fixture(autouse=True)
def _one_thread_per_worker(monkeypatch):
    # OpenMP spin-waits on a busy shared machine slow darknet down by orders of magnitude
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="module")
def ray_cluster():
    """A real Ray cluster on this machine (2 CPUs, no dashboard), stopped afterwards."""
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def images(tiny_detector):
    paths = (tiny_detector.train_list.read_text().split()
             + tiny_detector.valid_list.read_text().split())
    return paths[:24]


def _model(t):
    return ["--cfg", t.cfg, "--weights", t.weights, "--names", t.names, "--thresh", "0.05"]


def _records(text: str) -> list[dict]:
    out = [json.loads(line) for line in text.splitlines()]
    for record in out:
        record.pop("milliseconds", None)  # a measured time, different on every run
    return out


def _fresh(*args) -> subprocess.CompletedProcess:
    """The CLI in a new process with one OpenMP thread, as the workers run darknet.
    Darknet's float results depend on its thread count (its last digits move between 1
    and 2 threads), and libgomp reads OMP_NUM_THREADS once, when this test process
    first loaded darknet — so the single-process reference cannot run in here."""
    done = subprocess.run([sys.executable, "-m", "enet4y2", *map(str, args)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def single(tiny_detector, images):
    """The single-process `detect --json` output."""
    records = _records(_fresh("detect", *images, *_model(tiny_detector), "--json").stdout)
    assert len(records) == len(images) and sum(len(r["detections"]) for r in records) > 0
    return records


def test_local_pool_output_equals_single_process(cli, tiny_detector, images, single,
                                                 tmp_path):
    out = tmp_path / "run"
    result = cli.ok("detect", *images, *_model(tiny_detector), "--json", "--workers", "2",
                    "--shard-size", "5", "--out", out)
    assert _records(result.stdout) == single
    assert _records((out / "detections.jsonl").read_text()) == single
    assert (out / "detections.jsonl").read_text() == result.stdout
    assert sorted(p.name for p in (out / "shards").iterdir()) == [
        f"{i:05d}.jsonl" for i in range(5)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["sha256"]["weights"] == __import__("hashlib").sha256(
        tiny_detector.weights.read_bytes()).hexdigest()
    assert manifest["options"]["thresh"] == 0.05 and manifest["images"]["count"] == 24
    assert "images/s per worker: " in result.stderr


def test_ray_output_equals_single_process(cli, ray_cluster, tiny_detector, images, single,
                                          tmp_path):
    result = cli.ok("detect", *images, *_model(tiny_detector), "--json", "--executor", "ray",
                    "--workers", "2", "--shard-size", "4", "--out", tmp_path / "run")
    assert _records(result.stdout) == single
    rates = result.stderr.split("images/s per worker: ")[1].split("\n")[0].split(", ")
    assert len(rates) == 2  # both actors took shards


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_eval_pycoco_equals_single_process(cli, request, executor, tiny_detector, tmp_path):
    if executor == "ray":
        request.getfixturevalue("ray_cluster")
    t = tiny_detector
    base = ["eval", "--data", t.data, "--cfg", t.cfg, "--weights", t.weights, "--pycoco",
            "--json"]
    _fresh(*base, "--out", tmp_path / "one")
    result = cli.ok(*base, "--out", tmp_path / "many", "--executor", executor, "--workers",
                    "2", "--shard-size", "5")
    one = json.loads((tmp_path / "one" / "coco_results.json").read_text())
    many = json.loads((tmp_path / "many" / "coco_results.json").read_text())
    assert one == many and len(one) > 0
    valid = len(t.valid_list.read_text().split())
    assert len(list((tmp_path / "many" / "run" / "shards").iterdir())) == -(-valid // 5)
    assert json.loads(result.stdout)["pycoco"]["stats"]["AP"] == json.loads(
        (tmp_path / "one" / "coco_stats.json").read_text())["stats"]["AP"]


def test_a_rerun_redoes_only_the_missing_shard(cli, tiny_detector, images, single, tmp_path):
    out = tmp_path / "run"
    args = ["detect", *images, *_model(tiny_detector), "--workers", "2", "--shard-size", "6",
            "--out", out]
    cli.ok(*args)
    shards = sorted((out / "shards").iterdir())
    kept = {p.name: p.stat().st_mtime_ns for p in shards if p.name != "00002.jsonl"}
    (out / "shards" / "00002.jsonl").unlink()
    result = cli.ok(*args)
    assert "3 resumed" in result.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (out / "shards").iterdir()
            if p.name != "00002.jsonl"} == kept
    assert _records((out / "detections.jsonl").read_text()) == single


def test_another_model_or_options_are_refused(cli, tiny_detector, images, tmp_path):
    out = tmp_path / "run"
    cli.ok("detect", *images[:4], *_model(tiny_detector), "--workers", "1", "--out", out)
    result = cli("detect", *images[:4], *_model(tiny_detector), "--nms", "0.6",
                 "--workers", "1", "--out", out)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "options.nms: 0.45 then, 0.6 now" in result.stderr
    result = cli("detect", *images[:5], *_model(tiny_detector), "--workers", "1",
                 "--out", out)
    assert result.exit_code == 1 and "images." in result.stderr


def test_an_unreadable_image_is_recorded_and_the_rest_done(cli, tiny_detector, images, single,
                                                           tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    given = [*images[:3], bad, *images[3:8]]
    out = tmp_path / "run"
    result = cli("detect", *given, *_model(tiny_detector), "--workers", "2", "--shard-size",
                 "4", "--out", out)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("error: 1 of 9 images could not be read")
    records = _records((out / "detections.jsonl").read_text())
    assert records[3] == {"image": str(bad), "error": f"cannot decode {bad} as an image"}
    assert records[:3] + records[4:] == single[:8]


def test_an_interrupted_run_resumes(cli, tiny_detector, images, single, tmp_path):
    out = tmp_path / "run"
    args = ["detect", *images, *map(str, _model(tiny_detector)), "--workers", "1",
            "--shard-size", "1", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "enet4y2", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not list((out / "shards").glob("*.jsonl")) if (out / "shards").is_dir() else True:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the driver and its workers
    assert proc.wait(timeout=120) == 130
    done = len(list((out / "shards").glob("*.jsonl")))
    assert 0 < done < len(images)
    result = cli.ok(*args)
    assert f"{done} resumed" in result.stderr
    assert _records((out / "detections.jsonl").read_text()) == single


def test_sharded_runs_need_a_run_folder(cli, tiny_detector, images):
    result = cli("detect", *images[:2], *_model(tiny_detector), "--workers", "2")
    assert result.exit_code == 2 and "needs --out DIR" in result.stderr


def test_a_missing_ray_is_one_line_naming_the_extra(cli, tiny_detector, images, tmp_path,
                                                     monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    result = cli("detect", *images[:2], *_model(tiny_detector), "--executor", "ray",
                 "--out", tmp_path / "run")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "pip install 'enet4y2[ray]'" in result.stderr


def _processes(match: str, parent: int | None = None) -> list[int]:
    """Pids of processes whose command line contains `match` (children of `parent` only,
    when given)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if match.encode() in cmdline and (parent is None or ppid == parent):
            pids.append(int(entry))
    return pids


def test_a_killed_pool_worker_is_replaced(tiny_detector, images, single, tmp_path):
    out = tmp_path / "run"
    args = ["detect", *images, *map(str, _model(tiny_detector)), "--workers", "2",
            "--shard-size", "1", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "enet4y2", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (out / "shards").is_dir() or not list((out / "shards").glob("*.jsonl")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.02)
    workers = _processes("spawn_main", parent=proc.pid)
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert _records((out / "detections.jsonl").read_text()) == single


def test_a_killed_ray_actor_is_replaced(ray_cluster, tiny_detector, images, single, tmp_path):
    import threading

    from enet4y2.executors import Job, ModelSpec, engine_for, execute

    t = tiny_detector
    job = Job("detect", ModelSpec(str(t.cfg), str(t.weights), names=str(t.names)),
              {"thresh": 0.05, "nms": 0.45, "letterbox": None})
    out = tmp_path / "run"
    report: dict = {}
    earlier = set(_processes("ray::ShardActor"))  # other tests' actors may still be ending
    runner = threading.Thread(target=lambda: report.update(run=execute(
        job, images, out, engine_for(job, "ray", 2), shard_size=1)))
    runner.start()
    deadline = time.monotonic() + 300
    while not (out / "shards").is_dir() or not list((out / "shards").glob("*.jsonl")):
        assert runner.is_alive() and time.monotonic() < deadline
        time.sleep(0.02)
    actors = sorted(set(_processes("ray::ShardActor")) - earlier)
    assert actors
    os.kill(actors[0], signal.SIGKILL)
    runner.join(timeout=300)
    assert "run" in report
    assert _records("\n".join(report["run"].lines)) == single
    pids = {int(name.rsplit(":", 1)[1]) for name in report["run"].workers}
    assert actors[0] not in pids or len(pids) == 3  # the killed actor's results were lost
    assert pids - set(actors), "no replacement actor took the lost shards"


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_an_error_in_the_work_ends_the_run_with_its_own_message(request, executor,
                                                                 tiny_detector, images,
                                                                 tmp_path):
    from enet4y2.errors import DataError
    from enet4y2.executors import Job, ModelSpec, engine_for, execute

    if executor == "ray":
        request.getfixturevalue("ray_cluster")
    t = tiny_detector
    job = Job("eval", ModelSpec(str(t.cfg), str(t.weights)),
              {"thresh": 0.005, "letterbox": False, "category_ids": [1, 2, 3]})
    with pytest.raises(DataError, match="the model has 2 classes but the ground truth has 3"):
        execute(job, [[p, i] for i, p in enumerate(images[:4])], tmp_path / "run",
                engine_for(job, executor, 1), shard_size=2)
    assert not list((tmp_path / "run" / "shards").iterdir())


@pytest.mark.parametrize("option", [["--address", "auto"], ["--gpus-per-worker", "1"],
                                    ["--cpus-per-worker", "2"], ["--shard-size", "3"]])
def test_sharding_options_without_a_sharded_run_are_usage_errors(cli, option, tmp_path):
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    result = cli("detect", image, "--cfg", image, "--weights", image, *option)
    assert result.exit_code == 2 and option[0] in result.stderr
