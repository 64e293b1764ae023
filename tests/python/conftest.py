"""Shared fixtures of the Python package's tests (run by CTest `python_package` with PYTHONPATH
set to the package a build assembled, or against an installed sdnc).

The oracle is PyTorch (Debian's torch 1.13, visible in .venv/python through
--system-site-packages) or direct computation; the CLI (SDNC_CLI) for the binding-vs-CLI checks.
"""
import os
import shutil

import pytest

sdnc = pytest.importorskip("sdnc", reason="the sdnc package is not built (scripts/setup_python.sh, then a build)")


@pytest.fixture(scope="session")
def cli():
    """Path of the `sdnc` command-line tool of the same build."""
    path = os.environ.get("SDNC_CLI") or shutil.which("sdnc")
    if not path:
        pytest.skip("SDNC_CLI is not set (CTest sets it to the build's sdnc)")
    return path
