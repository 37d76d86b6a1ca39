"""Learning from pixels: VL-DAC takes a tiny model from chance to >= 90% on a visual probe.

The probe (probe/ColorMatch) pays 1 for answering 'A' on a red square and 'B' on a blue
one; the prompt text is the same for both, so only the image tells. The tiny model starts
from an answer-format prior that replies 'A' or 'B' at random (chance = 50%).

Opt-in (``pytest -m learning``): in our measurements so far the success rate rises from
~0.5 to 0.75-0.9 within the budget but does not yet hold >= 0.9 reliably; see README,
"What is verified where". It stays in the suite so the target is checked, not forgotten.
"""

import json

import pytest

from vldac.config import load_config
from vldac.train import train


@pytest.mark.learning
def test_vldac_learns_the_visual_probe(tmp_path):
    cfg = load_config("config.yaml", ["demo"], [f"output_dir={tmp_path / 'run'}",
                                               "train.total_env_steps=3840",
                                               "log.dvclive=false", "log.progress=false"])
    result = train(cfg)
    history = [json.loads(x) for x in result.metrics.read_text().splitlines()]
    first = history[1]["rollout/success_rate"]
    assert first < 0.7  # starts near chance
    assert result.final["rollout/success_rate"] >= 0.9
