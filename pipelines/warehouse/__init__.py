"""Where the warehouse lives: the embedded DuckDB file (default) or a PostgreSQL database.

`WAREHOUSE_URL=postgresql://…` selects PostgreSQL; unset, the warehouse is the DuckDB file
`WAREHOUSE_PATH`. Every stage asks a `Warehouse` for its dlt destination, its dbt target and a
connection, so no other module knows which one it is. (dbt reads its target from the environment:
`pipelines.config.dbt_environment` sets `Warehouse.dbt_env()` there while dbt runs.)
"""

from .connection import Connection, WarehouseUnavailable, connect
from .location import Warehouse

__all__ = ["Connection", "Warehouse", "WarehouseUnavailable", "connect"]
