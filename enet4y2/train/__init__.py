"""Training with darknet: the plan (`plan`: command lines, runs, resume, the log header),
what it starts from (`start`), pre-flight checks over the data (`preflight`), the
supervised darknet child (`process`) and one run from start to end (`session`).

May import: foundations, `enet4y2.data`, `enet4y2.cfg`, `enet4y2.weights`, `enet4y2.log`,
`enet4y2.build.record`.
"""
