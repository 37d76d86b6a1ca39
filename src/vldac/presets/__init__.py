"""Partial configs applied on top of config.yaml with ``--preset NAME``."""
