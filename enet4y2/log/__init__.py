"""darknet training logs: bytes in, events out, and what a view or a supervisor needs.

Owns: the log formats (`events`: what a line carries; `scan`: the numpy bulk scan of
canonical iteration lines; `parser`: the incremental `LogParser`), the accumulated state
(`state.LogState`), following a growing file (`follower.LogFollower`), the seed's avgout
table (`avgout`) and the chart/CSV exports (`export`).
Pure except `follower` and `export.write_exports`.
May import: foundations (errors, fileio) only.
"""
