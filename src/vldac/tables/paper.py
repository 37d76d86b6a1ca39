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

# LOOP's final success rates (Fig. 5, by eye)
_LOOP = "LOOP vs VL-DAC (Fig. 5, by eye)"
CURVE_ENDPOINTS += [
    PaperValue(_LOOP, world, "LOOP", QWEN, "final_success_rate", value, text)
    for world, value, text in [("miniworld/Hallway-v0", 0.77, "~0.77"),
                               ("miniworld/OneRoom-v0", 0.21, "~0.21"),
                               ("miniworld/FourRooms-v0", 0.12, "~0.12"),
                               ("miniworld/WallGap-v0", 0.12, "~0.12")]
]


@dataclass(frozen=True)
class BenchmarkValue:
    """One benchmark number of Tables 2-5: a model (base or tuned in a world) on a benchmark."""

    table: str
    row: str  # the row as printed ("VSI route plan")
    benchmark: str  # the pipeline's benchmark name (pipeline.benchmarks)
    score: str  # the headline score in our metrics file that answers it
    variant: str  # prompting: "naive" (the benchmark's own prompt) or "cot"
    trained_in: str | None  # registered world the model was tuned in; None: the base model
    value: float | None
    text: str  # as printed


ALFWORLD, ONEROOM = "alfworld/AlfredTWEnv-v0", "miniworld/OneRoom-v0"
HALLWAY, WEBSHOP = "miniworld/Hallway-v0", "webshop/WebShop-v0"


def _columns(table, row, benchmark, score, variant, worlds, printed):
    """A printed row: one value per model column (None = the base model)."""
    out = []
    for world, text in zip(worlds, printed, strict=True):
        value = float(text.split(" ")[0].rstrip("%")) if text else None
        out.append(BenchmarkValue(table, row, benchmark, score, variant, world, value, text))
    return out


_T2 = "Table 2 (BALROG, average progression %)"
_T3 = "Table 3 (spatial and embodied reasoning)"
_T4 = "Table 4 (general image and video understanding)"
_T5 = "Table 5 (VisualWebBench, mean ± std over 4 seeds)"
_BASE_ALF = (None, ALFWORLD)
_BASE_ALF_OR = (None, ALFWORLD, ONEROOM)
_BASE_ALF_OR_HW = (None, ALFWORLD, ONEROOM, HALLWAY)

TABLE2 = [
    *_columns(_T2, "BALROG naive", "balrog", "average_progression", "naive", _BASE_ALF,
              ["3.21 ± 0.75%", "4.19 ± 0.92%"]),
    *_columns(_T2, "BALROG CoT", "balrog", "average_progression", "cot", _BASE_ALF,
              ["3.94 ± 0.98%", "6.02 ± 1.19%"]),
]

TABLE3 = [
    *_columns(_T3, "VSI route plan", "vsi_bench", "route_planning", "naive", _BASE_ALF_OR,
              ["30.93", "32.47", "31.96"]),
    *_columns(_T3, "VSI relative direction", "vsi_bench", "object_rel_direction", "naive",
              _BASE_ALF_OR, ["32.01", "31.61", "33.05"]),
    *_columns(_T3, "ERQA naive", "erqa", "naive", "naive", _BASE_ALF_OR,
              ["38.25", "39.00", "39.25"]),
    *_columns(_T3, "ERQA CoT", "erqa", "cot", "cot", _BASE_ALF_OR,
              ["39.00", "39.25", "38.50"]),
    *_columns(_T3, "MuirBench", "muirbench", "accuracy", "naive", _BASE_ALF_OR,
              ["41.23", "42.58", "41.12"]),
    *_columns(_T3, "VideoMME spatial", "videomme", "spatial", "naive", _BASE_ALF_OR,
              ["64.8", "66.7", "66.7"]),
]

_T4_ROWS = [  # row, benchmark, score, Base, ALFWorld, OneRoom, Hallway
    ("GQA", "gqa", "accuracy", "62.02", "62.35", "62.06", "62.12"),
    ("MIRB", "mirb", "accuracy", "37.38", "36.64", "37.25", "37.25"),
    ("MMBench-dev", "mmbench", "accuracy", "78.86", "78.52", "79.04", "78.52"),
    ("MME-perception", "mme", "perception", "1681", "1688", "1670", "1678"),
    ("MME-RealWorld", "mme_realworld", "accuracy", "41.81", "41.46", "41.76", "42.01"),
    ("MMStar avg", "mmstar", "average", "56.53", "57.03", "57.51", "57.26"),
    ("MMT-mi val", "mmt", "mi_val", "59.90", "60.40", "60.66", "60.47"),
    ("MMT val", "mmt", "val", "62.10", "62.36", "62.65", "62.71"),
    ("VideoMME", "videomme", "overall", "57.70", "58.11", "57.40", "57.70"),
]
TABLE4 = [v for row, bench, score, *printed in _T4_ROWS
          for v in _columns(_T4, row, bench, score, "naive", _BASE_ALF_OR_HW, printed)]

# VisualWebBench: the seven tasks' headline scores (ROUGE-L for the three text tasks, F1 for
# webqa, accuracy for the three grounding tasks); rows Base, WebShop (2k steps), OneRoom.
VWB_TASKS = ["web_caption", "webqa", "heading_ocr", "element_ocr", "element_ground",
             "action_prediction", "action_ground"]
_T5_ROWS = [  # variant, tuned in, the seven printed values
    ("naive", None, ["27.81 ± .11", "71.44", "75.62 ± 1.26", "82.36", "87.49 ± .14", "4.98",
                     "83.50"]),
    ("cot", None, ["28.38 ± .20", "61.11 ± .11", "74.83", "78.75", "83.29", "6.17 ± .21",
                   "78.32 ± .56"]),
    ("naive", WEBSHOP, ["29.31 ± .02", "70.32", "76.34", "83.49 ± .22", "87.33 ± .14", "5.34",
                        "82.52"]),
    ("cot", WEBSHOP, ["29.04 ± .12", "62.58 ± .05", "72.66", "79.95", "84.02", "6.41",
                      "78.64"]),
    ("naive", ONEROOM, ["28.19", "70.91", "74.03 ± .12", "83.31 ± .19", "86.68", "3.91",
                        "84.47"]),
    ("cot", ONEROOM, ["29.21", "59.89", "74.44 ± .34", "76.20 ± .24", "83.78", "6.05",
                      "78.64"]),
]
TABLE5 = [BenchmarkValue(_T5, f"VisualWebBench {task.replace('_', ' ')} {variant}",
                         "visualwebbench", task, variant, world,
                         float(text.split(" ")[0]), text)
          for variant, world, printed in _T5_ROWS
          for task, text in zip(VWB_TASKS, printed, strict=True)]

BENCHMARK_VALUES = TABLE2 + TABLE3 + TABLE4 + TABLE5
# Every benchmark of Tables 2-5, by the names pipeline.benchmarks uses.
BENCHMARK_TABLES: dict[str, str] = {}
for _v in BENCHMARK_VALUES:
    _t = _v.table.split(" (")[0]
    if _t not in BENCHMARK_TABLES.get(_v.benchmark, ""):
        BENCHMARK_TABLES[_v.benchmark] = ", ".join(
            filter(None, [BENCHMARK_TABLES.get(_v.benchmark), _t]))

# How a model path names the paper's models (lower-case substrings).
MODEL_ALIASES = {QWEN: ("qwen2-vl-7b",), GEMMA: ("gemma-3-4b", "gemma3-4b")}
