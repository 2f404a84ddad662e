"""The one way CLI tests run `enet4y2`: in-process through the root command, with the
runner catching no exceptions (the root's own handling is what is tested), stdout and
stderr kept apart."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner, Result

from enet4y2.cli import main


class Cli:
    """`cli(*args)` runs `enet4y2 ARGS...` and returns click's Result; `cli.ok(...)` also
    checks that it exited 0."""

    def __init__(self) -> None:
        try:
            self.runner = CliRunner(mix_stderr=False)  # click < 8.2
        except TypeError:
            self.runner = CliRunner()  # click >= 8.2 keeps stderr apart by itself

    def __call__(self, *args: str | os.PathLike, env: dict[str, str] | None = None) -> Result:
        return self.runner.invoke(main, [os.fspath(a) for a in args], env=env,
                                  catch_exceptions=False)

    def ok(self, *args: str | os.PathLike) -> Result:
        result = self(*args)
        assert result.exit_code == 0, (args, result.output)
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli()
