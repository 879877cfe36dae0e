"""pipelines/dbt_cli.py overrides two private members of dagster-dbt's DbtCliResource to skip start-up work
it does not need; these tests fail when an upgrade renames them (the overrides would silently do nothing)
or when the version they assume is not the one `dbt --version` reports."""

import re
import subprocess

from dagster_dbt import DbtCliResource
from packaging import version

from pipelines.dbt_cli import DbtCli
from pipelines.transform import dbt_cli


def test_the_overridden_members_exist_in_dagster_dbt():
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), f"dagster-dbt no longer has DbtCliResource.{name}: revisit dbt_cli.py"
        assert name in vars(DbtCli)


def test_the_version_is_the_one_the_dbt_executable_reports():
    runner = dbt_cli()
    output = subprocess.check_output([runner.dbt_executable, "--version"], text=True)
    assert runner._cli_version == version.parse(re.search(r"(\d+\.\d+\.\d+)", output).group(1))
    assert runner._initialize_dbt_core_adapter(["build"]) is None
