"""The general benchmarks through lmms-eval's real harness (``run_lmms``) on their fixtures:
a model that answers every question right gets full marks; the tiny model runs end to end."""

import json
import math

import pytest

pytest.importorskip("lmms_eval")

from lmms_eval.api.model import lmms  # noqa: E402

from vldac.eval.lmms import registry  # noqa: E402
from vldac.eval.lmms.runner import run_lmms  # noqa: E402

# benchmark -> headline scores of a model that is always right on the fixture
FULL_MARKS = {
    "gqa": {"accuracy": 100.0},
    "mme": {"perception": 2000.0, "cognition": 800.0},
    "mmbench": {"accuracy": 100.0},
    "erqa": {"naive": 100.0, "cot": 100.0},
    "muirbench": {"accuracy": 100.0},
    "mirb": {"accuracy": 100.0},
    "mme_realworld": {"accuracy": 100.0},
    "mmt": {"val": 100.0, "mi_val": 100.0},
    "videomme": {"overall": 100.0, "spatial": 100.0},
    "mmstar": {"average": 100.0, "coarse perception": 100.0, "fine-grained perception": 100.0,
               "instance reasoning": 100.0, "logical reasoning": 100.0,
               "science & technology": 100.0, "math": 100.0},
}
# the tiny model's run is the expensive part: batch the requests, and cap its replies (a random
# model rarely stops by itself, and ERQA allows 1024 new tokens)
TINY_BATCH = 8
TINY_MAX_NEW_TOKENS = 24


def _needs(benchmark):
    if benchmark == "videomme":  # lmms-eval's videomme utils import cv2 (subtitles only)
        pytest.importorskip("cv2", reason="Video-MME needs opencv-python-headless (lmms extra).")


class Oracle(lmms):
    """Answers every request with its doc's ground truth (after loading its visuals)."""

    def __init__(self):
        super().__init__()
        self.seen_images = 0

    def generate_until(self, requests):
        replies = []
        for request in requests:
            _context, _gen_kwargs, doc_to_visual, doc_id, task, split = request.args
            doc = self.task_dict[task][split][doc_id]
            visuals = doc_to_visual(doc)
            assert visuals, f"{task} doc {doc_id} has no visual"
            self.seen_images += len(visuals)
            replies.append(str(doc["answer"] if "answer" in doc else doc["answers"]))
        return replies

    def loglikelihood(self, requests):
        raise NotImplementedError

    def generate_until_multi_round(self, requests):
        raise NotImplementedError


@pytest.mark.parametrize("benchmark", sorted(FULL_MARKS))
def test_oracle_gets_full_marks(benchmark, tmp_path, monkeypatch):
    _needs(benchmark)
    monkeypatch.chdir(tmp_path)
    oracle = Oracle()
    metrics = run_lmms("oracle", benchmark, out_dir=tmp_path / "out", lm=oracle, fixture=True)
    assert metrics["scores"] == pytest.approx(FULL_MARKS[benchmark])
    assert oracle.seen_images > 0
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert written["scores"] == pytest.approx(FULL_MARKS[benchmark])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing else written here


@pytest.fixture(scope="module")
def tiny_model():
    from vldac.eval.lmms.model import VldacChat

    return VldacChat(pretrained="tiny:qwen2_vl", device="cpu", batch_size=TINY_BATCH,
                     max_new_tokens_cap=TINY_MAX_NEW_TOKENS)


@pytest.mark.parametrize("benchmark", sorted(FULL_MARKS))
def test_tiny_model_end_to_end(benchmark, tiny_model, tmp_path):
    _needs(benchmark)
    metrics = run_lmms("tiny:qwen2_vl", benchmark, out_dir=tmp_path / "out", lm=tiny_model,
                       batch_size=TINY_BATCH, fixture=True)
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert set(written["scores"]) == set(FULL_MARKS[benchmark])
    assert all(math.isfinite(v) and 0 <= v <= FULL_MARKS[benchmark][k]
               for k, v in written["scores"].items())
    assert written["scores"] == pytest.approx(metrics["scores"])
    for task in registry.get(benchmark).tasks:
        samples = (tmp_path / "out" / "samples" / f"{task}.jsonl").read_text().splitlines()
        assert len(samples) == written["n_samples"][task]["effective"] > 0
