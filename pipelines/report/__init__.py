"""The scheduling report: key numbers and charts from marts.scheduling_*, as one offline HTML page.

`build_report` is what `calendly-elt report`, `calendly-elt demo` and the Dagster asset call."""

from .build import Report, build_report
from .marts import ReportError

__all__ = ["Report", "ReportError", "build_report"]
