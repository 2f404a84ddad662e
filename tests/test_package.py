"""The package (the CLI included) imports without a darknet build."""

from __future__ import annotations

import subprocess
import sys

import enet4y2


def test_import_needs_no_extension():
    # A fresh interpreter: importing the package and the CLI must not load the binding.
    # If the binding were loaded, libdarknet.so would be mapped into the process.
    code = (
        "import enet4y2, enet4y2.cli, enet4y2.darknet; "
        "print('libdarknet' in open('/proc/self/maps').read())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_pinned_commit_is_a_full_sha():
    assert len(enet4y2.DARKNET_PINNED_COMMIT) == 40
    int(enet4y2.DARKNET_PINNED_COMMIT, 16)
