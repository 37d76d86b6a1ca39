"""One module per benchmark; each registers its :class:`~vldac.eval.lmms.registry.Benchmark`.

Importing this package imports them all: a plain list of imports, one line per module, sorted.
"""

import vldac.eval.lmms.benchmarks.visualwebbench  # noqa: F401
import vldac.eval.lmms.benchmarks.vsi_bench  # noqa: F401
