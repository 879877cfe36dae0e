"""The dbt project as Dagster sees it, and the translator that puts its sources on the Calendly keys."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Mapping, Optional

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from orchestration.keys import calendly_table_key, dbt_model_key
from pipelines.config import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
CALENDLY_SOURCE = "calendly"


class ManifestMissing(Exception):
    pass


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def manifest() -> dict[str, Any]:
    """Made by `make manifest` (`dbt parse`), never at import: loading definitions runs no dbt.
    Read once per version of the file: the dbt assets and the analytics deps all need it."""
    path = dbt_project().manifest_path
    if not path.exists():
        raise ManifestMissing(f"{path} is missing: run `make manifest` (dbt parse) before loading the definitions")
    return _read_manifest(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=1)
def _read_manifest(path: Path, mtime_ns: int) -> dict[str, Any]:
    return json.loads(path.read_text())


class CalendlyDbtTranslator(DagsterDbtTranslator):
    """Sources of the `calendly` source are the Calendly table assets (child tables on their parent's
    key); models are `<schema>/<model>` and grouped by schema (staging, marts)."""

    def __init__(self) -> None:
        # A parent table and its dlt child tables are several dbt sources on one key.
        super().__init__(settings=DagsterDbtTranslatorSettings(
            enable_asset_checks=True, enable_duplicate_source_asset_keys=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] != CALENDLY_SOURCE:
                raise ValueError(f"dbt source {dbt_resource_props['source_name']} has no ingest asset")
            return calendly_table_key(dbt_resource_props["name"])
        return dbt_model_key(dbt_resource_props["schema"], dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> Optional[str]:
        return dbt_resource_props["schema"]


def model_keys(schema: str, name_prefix: str = "") -> list[dg.AssetKey]:
    """Keys of the dbt models built into `schema` (e.g. every mart), from the manifest."""
    nodes = manifest()["nodes"].values()
    return sorted(
        (dbt_model_key(node["schema"], node["name"]) for node in nodes
         if node["resource_type"] == "model" and node["schema"] == schema and node["name"].startswith(name_prefix)),
        key=lambda key: key.to_user_string(),
    )
