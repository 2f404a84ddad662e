"""A real single-node Slurm (munged, slurmctld, slurmd on loopback) for the session,
started once and stopped after; skipped with the reason when Slurm is absent."""

from __future__ import annotations

import os

import pytest

from tests.cli.conftest import cli  # noqa: F401 (the CLI runner fixture)
from tests.slurm.cluster import Cluster, missing_binaries


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    missing = missing_binaries()
    if missing:
        pytest.skip(f"Slurm not installed ({', '.join(missing)} not found; "
                    "apt-get install slurm-wlm munge)")
    if os.geteuid() != 0:
        pytest.skip("the test cluster runs slurmd as root: run the Slurm tests as root")
    cluster = Cluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def slurm(slurm_cluster, monkeypatch):
    """The cluster, with SLURM_CONF set so sbatch, scontrol and the jobs find it."""
    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    # jobs inherit the environment (sbatch exports it): darknet on one OpenMP thread
    # keeps a steady pace on a small machine busy with other work, where two threads
    # wait for each other (iterations of 0.1 s took up to 35 s)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return slurm_cluster
