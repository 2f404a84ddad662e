"""The run folder without any engine: shards, the manifest's refusal, resuming, writing."""

from __future__ import annotations

import json
import sys

import pytest

from enet4y2.errors import MissingDependencyError, OutputError, UsageError
from enet4y2.executors import Job, ModelSpec, engine_for, runs


def _manifest(tmp_path, **options):
    weights = tmp_path / "w.weights"
    if not weights.exists():
        weights.write_bytes(b"weights")
    return runs.manifest("detect", {"weights": weights}, {"backend": "darknet"},
                         {"thresh": 0.25, **options}, ["a.jpg", "b.jpg", "c.jpg"], 2)


def test_shards_cover_the_list_in_order_with_stable_ids():
    items = [f"{i}.jpg" for i in range(7)]
    shards = runs.plan(items, 3)
    assert [s.id for s in shards] == [0, 1, 2]
    assert [s.name for s in shards] == ["00000", "00001", "00002"]
    assert [x for s in shards for x in s.items] == items
    assert [len(s.items) for s in shards] == [3, 3, 1]
    assert runs.plan(items, 3) == shards
    assert runs.plan([], 3) == []
    with pytest.raises(ValueError):
        runs.plan(items, 0)


def test_manifest_holds_hashes_not_paths(tmp_path):
    m = _manifest(tmp_path)
    assert m["model"]["sha256"]["weights"] == runs.sha256_file(tmp_path / "w.weights")
    assert m["images"]["count"] == 3
    assert "w.weights" not in json.dumps(m)


def test_a_finished_shard_is_skipped_and_a_partial_one_is_not(tmp_path):
    folder = runs.RunFolder(tmp_path / "run")
    folder.open(_manifest(tmp_path))
    first, second = runs.plan(["a.jpg", "b.jpg", "c.jpg"], 2)
    folder.write(first, ['{"image": "a.jpg"}', '{"image": "b.jpg"}'])
    assert folder.finished(first) and not folder.finished(second)
    folder.shard_path(second).write_text("")  # left empty by something else
    assert not folder.finished(second)
    with pytest.raises(ValueError):
        folder.write(second, [])
    folder.write(second, ['{"image": "c.jpg"}'])
    assert folder.lines([first, second]) == ['{"image": "a.jpg"}', '{"image": "b.jpg"}',
                                             '{"image": "c.jpg"}']
    assert not list((tmp_path / "run" / "shards").glob(".*"))  # no temporary left


def test_the_same_run_reopens_and_another_one_is_refused(tmp_path):
    folder = runs.RunFolder(tmp_path / "run")
    folder.open(_manifest(tmp_path))
    folder.open(_manifest(tmp_path))  # a resume
    with pytest.raises(OutputError, match=r"options\.thresh: 0\.25 then, 0\.3 now") as err:
        folder.open(_manifest(tmp_path, thresh=0.3))
    assert "\n" not in str(err.value)
    (tmp_path / "w.weights").write_bytes(b"other weights")
    with pytest.raises(OutputError, match=r"model\.sha256\.weights"):
        folder.open(_manifest(tmp_path))


def test_a_folder_of_something_else_is_refused(tmp_path):
    (tmp_path / "run" / "shards").mkdir(parents=True)
    (tmp_path / "run" / "shards" / "00000.jsonl").write_text("{}\n")
    with pytest.raises(OutputError, match="no manifest"):
        runs.RunFolder(tmp_path / "run").open(_manifest(tmp_path))


def test_engine_choices_are_checked():
    job = Job("detect", ModelSpec(cfg="c", weights="w"))
    with pytest.raises(UsageError, match="--executor ray"):
        engine_for(job, "local", 2, address="auto")
    with pytest.raises(UsageError, match="unknown executor"):
        engine_for(job, "dask", 2)


def test_a_missing_ray_is_one_line_naming_the_extra(monkeypatch):
    from enet4y2.executors.engines import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'enet4y2\[ray\]'") as err:
        import_ray()
    assert "\n" not in str(err.value)
