"""The tables room: the paper's numbers, ours beside them, and how both are rendered.

Torch-free; fed with the files the workflow writes (metrics histories, evaluation metrics).
"""

from vldac.tables.paper import BENCHMARK_TABLES, CURVE_ENDPOINTS, TABLE1, PaperValue
from vldac.tables.results import (
    Run,
    benchmark_rows,
    dvc_metrics,
    finite,
    in_domain_rows,
    paper_rows,
)

__all__ = ["BENCHMARK_TABLES", "CURVE_ENDPOINTS", "TABLE1", "PaperValue", "Run",
           "benchmark_rows", "dvc_metrics", "finite", "in_domain_rows", "paper_rows"]
