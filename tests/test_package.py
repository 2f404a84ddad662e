"""The package imports without a darknet build and the CLI answers."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

import enet4y2
from enet4y2.cli import main


def test_import_needs_no_extension():
    # A fresh interpreter: importing the package and the CLI must not load the binding.
    # If the binding were loaded, libdarknet.so would be mapped into the process.
    code = (
        "import enet4y2, enet4y2.cli, enet4y2.darknet; "
        "print('libdarknet' in open('/proc/self/maps').read())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_version():
    result = CliRunner().invoke(main, ["--version"], catch_exceptions=False)
    assert result.exit_code == 0
    assert enet4y2.__version__ in result.output


def test_pinned_commit_is_a_full_sha():
    assert len(enet4y2.DARKNET_PINNED_COMMIT) == 40
    int(enet4y2.DARKNET_PINNED_COMMIT, 16)
