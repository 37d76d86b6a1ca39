"""The tables room: the paper's numbers, ours beside them, and how both are rendered.

Torch-free; fed with the files the workflow writes (metrics histories, evaluation metrics,
benchmark metrics).
"""

from vldac.tables.paper import (
    BENCHMARK_TABLES,
    BENCHMARK_VALUES,
    CURVE_ENDPOINTS,
    TABLE1,
    BenchmarkValue,
    PaperValue,
)
from vldac.tables.results import (
    BenchmarkResult,
    Run,
    algorithm_label,
    benchmark_metrics,
    benchmark_rows,
    dvc_metrics,
    finite,
    in_domain_rows,
    paper_rows,
)

__all__ = ["BENCHMARK_TABLES", "BENCHMARK_VALUES", "CURVE_ENDPOINTS", "TABLE1",
           "BenchmarkResult", "BenchmarkValue", "PaperValue", "Run", "algorithm_label", "benchmark_metrics", "benchmark_rows",
           "dvc_metrics", "finite", "in_domain_rows", "paper_rows"]
