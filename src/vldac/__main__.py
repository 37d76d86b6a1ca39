"""``python -m vldac ...`` = the ``vldac`` command; what ``torchrun -m vldac train ...`` runs
in every process of a data-parallel training run (see docs/distributed.md)."""

import sys

from vldac.cli import main

if __name__ == "__main__":
    sys.exit(main())
