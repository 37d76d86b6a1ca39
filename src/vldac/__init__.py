"""VL-DAC: Vision-Language Decoupled Actor-Critic (arXiv 2508.04280)."""

__version__ = "0.1.0"
