"""The paper's numbers that our runs can be put beside (arXiv 2508.04280, spec section 4).

Table 1 is OneRoom's peak success rate over 4 seeds. The training-curve endpoints were read
by eye from Figs. 3 and 7 and are approximate; where the paper gives a range, ``value`` is its
middle and ``text`` the range as printed.
"""

from __future__ import annotations

from dataclasses import dataclass

QWEN = "Qwen2-VL-7B-Instruct"
GEMMA = "Gemma3-4B"
VLDAC = "VL-DAC"


@dataclass(frozen=True)
class PaperValue:
    """One number printed in the paper, and what it measures."""

    table: str
    world: str  # the registered env it is about
    algorithm: str
    model: str
    quantity: str  # a key of vldac.tables.results.QUANTITIES
    value: float | None
    text: str  # as printed
    seeds: int | None = None


def _t1(algorithm: str, model: str, value: float, text: str) -> PaperValue:
    return PaperValue("Table 1 (OneRoom, peak SR, 4 seeds)", "miniworld/OneRoom-v0", algorithm,
                      model, "peak_success_rate", value, text, seeds=4)


TABLE1 = [
    _t1("RL4VLM λ=0.35", QWEN, 0.98, "0.98 ± 0.00"),
    _t1("RL4VLM λ=0.5", QWEN, 0.93, "0.93 ± 0.07"),
    _t1(VLDAC, QWEN, 0.98, "0.98 ± 0.02"),
    _t1("RL4VLM λ=0.35", GEMMA, 0.55, "0.55 ± 0.38"),
    _t1("RL4VLM λ=0.5", GEMMA, 0.82, "0.82 ± 0.14"),
    _t1(VLDAC, GEMMA, 0.93, "0.93 ± 0.05"),
]

_CURVES = "Training curves (Figs. 3/7, by eye)"
# world, quantity suffix, start, VL-DAC final (value, text), RL4VLM average final (value, text)
_ENDPOINTS = [
    ("miniworld/Hallway-v0", "success_rate", 0.67, (0.99, "0.99"), (0.73, "0.73")),
    ("miniworld/OneRoom-v0", "success_rate", 0.25, (0.98, "0.98 (≈0.95 by 15k)"),
     (0.73, "0.73")),
    ("miniworld/FourRooms-v0", "success_rate", 0.25, (0.325, "0.30–0.35"), (0.15, "0.15")),
    ("miniworld/WallGap-v0", "success_rate", 0.25,
     (0.12, "ends ~0.12 (peak 0.19 at ~42k)"), (0.10, "~0.10")),
    ("gym_cards/EZPoints-v0", "success_rate", 0.02, (0.875, "0.85–0.90"), (0.90, "~0.90")),
    ("alfworld/AlfredTWEnv-v0", "episode_return", -1.0, (8.8, "~8.8 at 28k"), (6.0, "~6")),
]
CURVE_ENDPOINTS = []
for _world, _metric, _start, (_fin, _fin_text), (_rl, _rl_text) in _ENDPOINTS:
    CURVE_ENDPOINTS += [
        PaperValue(_CURVES, _world, VLDAC, QWEN, f"start_{_metric}", _start, f"{_start:g}"),
        PaperValue(_CURVES, _world, VLDAC, QWEN, f"final_{_metric}", _fin, _fin_text),
        PaperValue(_CURVES, _world, "RL4VLM (average)", QWEN, f"final_{_metric}", _rl, _rl_text),
    ]

# Benchmarks of Tables 2-5 (by the names pipeline.benchmarks uses) and where they appear.
BENCHMARK_TABLES = {
    "balrog": "Table 2", "vsi_bench": "Table 3", "erqa": "Table 3", "muirbench": "Table 3",
    "videomme": "Tables 3, 4", "gqa": "Table 4", "mirb": "Table 4", "mmbench": "Table 4",
    "mme": "Table 4", "mme_realworld": "Table 4", "mmstar": "Table 4", "mmt": "Table 4",
    "visualwebbench": "Table 5",
}

# How a model path names the paper's models (lower-case substrings).
MODEL_ALIASES = {QWEN: ("qwen2-vl-7b",), GEMMA: ("gemma-3-4b", "gemma3-4b")}
