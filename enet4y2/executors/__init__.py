"""Many images on many workers: `detect` and `eval` inference cut into shards that run on a
local process pool or on Ray actors (each worker opens the model once), written one file per
finished shard under a run folder with a manifest, so a rerun resumes and a changed model or
options is refused; the merged lines come back in input order.

Owns: the run folder and its shards (`runs`), the work a worker does (`jobs`), the engines
(`engines`: a process pool, Ray actors) and the driver (`drive.execute`). Ray is imported
lazily; a missing one is a MissingDependencyError naming the extra `ray`.
May import: foundations, `enet4y2.runtime` (open_model), `enet4y2.detect` (its JSON records),
`enet4y2.evaluate` (COCO results).
"""

from enet4y2.executors.drive import Progress, RunReport, ShardsFailedError, engine_for, execute
from enet4y2.executors.engines import EXECUTORS
from enet4y2.executors.jobs import Job, ModelSpec
from enet4y2.executors.runs import DEFAULT_SHARD_SIZE

__all__ = ["DEFAULT_SHARD_SIZE", "EXECUTORS", "Job", "ModelSpec", "Progress", "RunReport",
           "ShardsFailedError", "engine_for", "execute"]
