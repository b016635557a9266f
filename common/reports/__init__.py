"""Run reports (DESIGN.md, "reports"): built with pandas from the work queue's tables.

    path = build_report(db, settings, run_id)   # runs/<run-id>/report.html, items.csv, items.xlsx

`write_report` returns the figures as well (the `softbot report` command prints them).
"""

from common.reports.build import (
    REPORT_FILES,
    ReportError,
    RunReport,
    build_report,
    latest_run_id,
    write_report,
)
from common.reports.figures import RunFigures

__all__ = ["REPORT_FILES", "ReportError", "RunFigures", "RunReport", "build_report", "latest_run_id",
           "write_report"]
