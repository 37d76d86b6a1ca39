"""ALFWorld: household tasks in ALFRED rooms, played through the TextWorld engine (``alfworld``).

Modules: :mod:`.env` (the env behind the vldac contract), :mod:`.engine` (one TextWorld game at
a time, its expert and goal conditions), :mod:`.generate` (offline game generator; a
``python -m`` entry point), :mod:`.scenes` and :mod:`.tasks` (what the generator builds games
from), :mod:`.thor` (the paper's visual THOR mode; needs the ``alfworld-thor`` extra).
Importing this package imports nothing heavy; the submodules need the ``alfworld`` extra.
"""
