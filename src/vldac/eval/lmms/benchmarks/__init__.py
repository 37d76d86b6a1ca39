"""One module per benchmark; each registers its :class:`~vldac.eval.lmms.registry.Benchmark`.

Importing this package imports them all (a plain list of imports: add yours below).
"""
