"""The sandbox is a test double beside the pipeline, never inside it: importing any module of
`pipelines/` or `orchestration/` (the Dagster definitions included) and building the CLI's parser
import nothing of `sandbox`. Only the CLI's `sandbox` and `demo` commands (and `make ui`'s launcher)
start it, from inside those functions."""

import subprocess
import sys
from pathlib import Path

from pipelines import cli
from sandbox.calendly.shapes import PROFILES

ROOT = Path(__file__).resolve().parents[1]

# In a fresh interpreter: this one has imported the sandbox already (the line above, and other tests).
IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
import orchestration, pipelines
for package in (pipelines, orchestration):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
import orchestration.definitions
from pipelines import cli
cli.command().commands["extract"].make_context("extract", [])
print(" ".join(sorted(name for name in sys.modules if name.partition(".")[0] == "sandbox")))
"""


def test_the_pipeline_and_its_dagster_definitions_never_import_the_sandbox():
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=ROOT, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "", f"imported: {done.stdout.strip()}"


def test_the_cli_offers_every_profile_of_the_sandbox_and_no_other():
    assert cli.SANDBOX_PROFILES == tuple(PROFILES)
