"""One module per benchmark; each registers its :class:`~vldac.eval.lmms.registry.Benchmark`.

Importing this package imports them all: a plain list of imports, one line per module, sorted.
"""

import vldac.eval.lmms.benchmarks.erqa  # noqa: F401
import vldac.eval.lmms.benchmarks.gqa  # noqa: F401
import vldac.eval.lmms.benchmarks.mirb  # noqa: F401
import vldac.eval.lmms.benchmarks.mmbench  # noqa: F401
import vldac.eval.lmms.benchmarks.mme  # noqa: F401
import vldac.eval.lmms.benchmarks.mme_realworld  # noqa: F401
import vldac.eval.lmms.benchmarks.mmstar  # noqa: F401
import vldac.eval.lmms.benchmarks.mmt  # noqa: F401
import vldac.eval.lmms.benchmarks.muirbench  # noqa: F401
import vldac.eval.lmms.benchmarks.videomme  # noqa: F401
import vldac.eval.lmms.benchmarks.visualwebbench  # noqa: F401
import vldac.eval.lmms.benchmarks.vsi_bench  # noqa: F401
