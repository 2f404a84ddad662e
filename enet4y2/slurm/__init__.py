"""Training on Slurm: the job script (`script`, pure), submitting it with `sbatch`
(`submit`), the supervised training inside the job that stops cleanly on Slurm's warning
signal and requeues itself (`job`), and the chain of jobs as the backup folder's state
file and the scheduler see it (`state`, `status`).

Why a job script and plain `sbatch` rather than submitit: submitit pickles a Python
callable and re-runs it on the node, so the job is only readable and rerunnable through
submitit itself; our job is one command line (`enet4y2 train ...`) that a user can read,
edit and `sbatch` again by hand, and that cluster admins recognise. Its requeue logic
(USR1 handler -> checkpoint -> `scontrol requeue`) is the same few steps we need, but we
must do them around darknet (a child process), not a Python function, and we also need
`--chain` (dependent jobs) for clusters that forbid requeue, which submitit lacks. So
the few `#SBATCH` lines are written here and the submission is one `sbatch --parsable`.

May import: foundations, `enet4y2.train`, `enet4y2.cfg`, `enet4y2.data`,
`enet4y2.weights`, `enet4y2.log`.
"""
