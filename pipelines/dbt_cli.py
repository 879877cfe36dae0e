"""dagster-dbt's `DbtCliResource` minus two start-up costs this project never uses (~4 s per dbt command,
measured once with cProfile; the latency they cost: bench/webhook_latency_bench.py, docs/benchmarks.md).

Before starting dbt, `DbtCliResource.cli` (dagster-dbt 0.29) runs `dbt --version` in a subprocess to tell
dbt Core from the Fusion engine (~1.8 s), and builds a dbt adapter in this process, loading every macro
(~2.2 s), which only `fetch_row_counts()` / `fetch_column_metadata()` use. The dbt here is always dbt Core,
installed beside this interpreter (`dbt_executable`), so its version is the installed package's; and no
stream of ours asks for row counts or column metadata. dagster-dbt offers no switch for either, hence the
two overrides of private members; tests/transform/test_dbt_cli.py fails if dagster-dbt renames them.
"""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import version as installed_version
from typing import Any, Sequence

from dagster_dbt import DbtCliResource
from packaging import version


class DbtCli(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        # The package `dbt_executable` runs: dbt_cli() points it at this interpreter's environment.
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None  # dagster-dbt then streams events as usual, without the in-process adapter
