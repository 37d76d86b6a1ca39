"""VSI-Bench and VisualWebBench end to end through lmms-eval's real harness, on the fixtures.

An oracle model (answers every fixture question right) gets full marks; the tiny model runs
through ``run_lmms`` and ``vldac lmms``; failures raise instead of passing silently.
"""

import argparse
import json
import math
import shutil

import pytest

pytest.importorskip("lmms_eval")

from lmms_eval.api.model import lmms  # noqa: E402

from vldac.eval.lmms import cli, fixtures, registry  # noqa: E402
from vldac.eval.lmms.benchmarks import visualwebbench as vwb  # noqa: E402
from vldac.eval.lmms.benchmarks import vsi_bench  # noqa: E402
from vldac.eval.lmms.runner import LmmsEvalError, run_lmms  # noqa: E402

BENCHMARKS = ("vsi_bench", "vsi_bench_route_planning", "visualwebbench")


class Oracle(lmms):
    """Answers each fixture question with its gold answer, in the form the task expects."""

    def generate_until(self, requests):
        replies = []
        for request in requests:
            _context, _gen, doc_to_visual, doc_id, task, split = request.args
            doc = self.task_dict[task][split][doc_id]
            assert doc_to_visual(doc)  # the media resolve
            if "ground_truth" in doc:  # VSI-Bench: a letter or a number
                replies.append(doc["ground_truth"])
            elif doc["task_type"] == "webqa":
                replies.append(doc["answer"][0])
            elif isinstance(doc["answer"], int):
                replies.append(chr(ord("A") + doc["answer"]))
            else:
                replies.append(doc["answer"])
        return replies

    def loglikelihood(self, requests):
        raise NotImplementedError

    def generate_until_multi_round(self, requests):
        raise NotImplementedError


class RecordingChat:
    """A ChatModel stand-in that records the conversations it is asked to answer."""

    path = "recording"

    def __init__(self):
        self.calls = []

    def generate(self, conversations, *, max_new_tokens, temperature=0.0, seed=None):
        self.calls.append((conversations, max_new_tokens, temperature))
        return ["A\n\nmore" for _ in conversations]


@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_oracle_gets_full_marks_through_lmms_eval(benchmark, tmp_path):
    metrics = run_lmms("oracle", benchmark, out_dir=tmp_path / "out", fixture=True, lm=Oracle())
    assert metrics["scores"]
    for name, value in metrics["scores"].items():
        assert value == pytest.approx(100.0, abs=1e-5), name
    assert metrics["fixture"] is True
    assert metrics["data_root"] == str(tmp_path / "out" / "fixture")


@pytest.mark.parametrize("benchmark", ["vsi_bench", "visualwebbench"])
def test_tiny_model_end_to_end_writes_a_valid_metrics_file(benchmark, tmp_path):
    out = tmp_path / "out"
    metrics = run_lmms("tiny:qwen2_vl", benchmark, out_dir=out, fixture=True, device="cpu",
                       batch_size=4)
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(metrics))
    spec = registry.get(benchmark)
    assert metrics["benchmark"] == benchmark and metrics["backend"] == "vldac"
    assert metrics["model"] == "tiny:qwen2_vl"
    assert metrics["lmms_eval_version"] == "0.7.3"
    assert metrics["settings"]["max_pixels"] == 200704
    assert metrics["settings"]["min_pixels"] == 3136
    assert metrics["settings"]["max_num_frames"] == 32
    assert set(metrics["tasks"]) == set(spec.tasks)
    for value in metrics["scores"].values():
        assert math.isfinite(value) and 0.0 <= value <= 100.0
    for task in spec.tasks:
        lines = (out / "samples" / f"{task}.jsonl").read_text().splitlines()
        assert len(lines) == metrics["n_samples"][task]["effective"] > 0
        assert all(isinstance(json.loads(line)["filtered_resps"][0], str) for line in lines)
        assert (out / "tasks" / f"{task}.yaml").is_file()
    assert (out / "fixture").is_dir()


@pytest.mark.parametrize("family", ["gemma3", "idefics3"])
def test_other_families_answer_video_questions(family, tmp_path):
    metrics = run_lmms(f"tiny:{family}", "vsi_bench_route_planning", out_dir=tmp_path / "out",
                       fixture=True, device="cpu")
    assert 0.0 <= metrics["scores"]["route_planning"] <= 100.0


def test_model_class_sends_lmms_evals_prompt_and_the_sampled_frames(tmp_path):
    chat = RecordingChat()
    metrics = run_lmms("recording", "vsi_bench_route_planning", out_dir=tmp_path / "out",
                       fixture=True, chat_model=chat)
    ((conversations, max_new_tokens, temperature),) = chat.calls
    ((turn,),) = conversations
    images = [part for part in turn["content"] if part["type"] == "image"]
    text = [part["text"] for part in turn["content"] if part["type"] == "text"]
    assert turn["role"] == "user" and turn["content"][-1]["type"] == "text"
    assert len(images) == 16  # every frame of the 16-frame video (at most 32)
    assert text[0].startswith("These are frames of a video.\nYou are a robot beginning at")
    assert text[0].endswith("Answer with the option's letter from the given choices directly.")
    assert (max_new_tokens, temperature) == (16, 0.0)
    # "A\n\nmore" is cut at lmms-eval's stop string "\n\n": "A" is wrong (the answer is C)
    assert metrics["scores"]["route_planning"] == 0.0


def test_a_max_new_tokens_cap_reaches_the_model_and_is_recorded(tmp_path):
    chat = RecordingChat()
    metrics = run_lmms("recording", "vsi_bench_route_planning", out_dir=tmp_path / "out",
                       fixture=True, chat_model=chat, max_new_tokens=5)
    ((_, max_new_tokens, _),) = chat.calls
    assert max_new_tokens == 5 and metrics["settings"]["max_new_tokens_cap"] == 5
    with pytest.raises(ValueError, match="needs the vldac backend"):
        run_lmms("recording", "vsi_bench_route_planning", out_dir=tmp_path / "other",
                 fixture=True, lm=Oracle(), max_new_tokens=5)


def test_video_frames_are_sampled_uniformly(tmp_path):
    import decord
    import numpy as np

    from vldac.eval.lmms.model import video_frames

    path = vsi_bench.write_video(tmp_path / "v.mp4", num_frames=16)
    frames = video_frames(path, 4)
    reference = decord.VideoReader(str(path)).get_batch([0, 5, 10, 15]).asnumpy()
    assert len(frames) == 4
    assert all(np.array_equal(np.asarray(f), r) for f, r in zip(frames, reference, strict=True))
    assert len(video_frames(path, 32)) == 16


def test_missing_video_makes_run_lmms_raise_and_write_nothing(tmp_path):
    data = vsi_bench.make_fixture(tmp_path / "data")
    (data / "scannet" / "scene0000_00.mp4").unlink()
    with pytest.raises(LmmsEvalError, match=str(data / "scannet" / "scene0000_00.mp4")):
        run_lmms("oracle", "vsi_bench", data_root=data, out_dir=tmp_path / "out", lm=Oracle())
    assert not (tmp_path / "out").exists()


def test_missing_data_file_raises_with_the_benchmarks_data_help(tmp_path):
    data = vwb.make_fixture(tmp_path / "data")
    shutil.rmtree(data / "webqa")
    with pytest.raises(FileNotFoundError, match="webqa/test-.*visualwebbench/VisualWebBench"):
        run_lmms("oracle", "visualwebbench", data_root=data, out_dir=tmp_path / "out",
                 lm=Oracle())


def test_limit_without_every_direction_type_raises_a_clear_error(tmp_path):
    with pytest.raises(LmmsEvalError, match="relative-direction types"):
        run_lmms("oracle", "vsi_bench", out_dir=tmp_path / "out", fixture=True, lm=Oracle(),
                 limit=3)


def test_results_are_never_overwritten(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "metrics.json").write_text("{}")
    with pytest.raises(FileExistsError):
        run_lmms("oracle", "visualwebbench", out_dir=tmp_path / "out", fixture=True,
                 lm=Oracle())


def _parser():
    parser = argparse.ArgumentParser(prog="vldac")
    sub = parser.add_subparsers()
    lmms_cmd = sub.add_parser("lmms")
    cli.add_arguments(lmms_cmd)
    lmms_cmd.set_defaults(func=cli.run)
    fixtures_cmd = sub.add_parser("fixtures")
    fixtures.add_arguments(fixtures_cmd)
    fixtures_cmd.set_defaults(func=fixtures.run)
    return parser


def test_command_lines(tmp_path, capsys):
    def vldac(*argv):
        args = _parser().parse_args([str(a) for a in argv])
        return args.func(args)

    data = tmp_path / "vsi"
    assert vldac("fixtures", "--benchmark", "vsi_bench", "--out", data) == 0
    assert vldac("fixtures", "--benchmark", "vsi_bench", "--out", data) == 2  # not empty
    assert vldac("lmms", "--model", "tiny:qwen2_vl", "--benchmark", "vsi_bench_route_planning",
                 "--data", data, "--device", "cpu", "--out", tmp_path / "r") == 0
    assert "route_planning:" in capsys.readouterr().out
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["fixture"] is False
    assert vldac("lmms", "--model", "m", "--benchmark", "nope", "--fixture",
                 "--out", tmp_path / "x") == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err
    assert vldac("lmms", "--model", "m", "--benchmark", "vsi_bench", "--fixture", "--data", data,
                 "--out", tmp_path / "x") == 2
    assert vldac("lmms", "--model", "tiny:qwen2_vl", "--benchmark", "vsi_bench", "--fixture",
                 "--backend", "qwen2_vl", "--out", tmp_path / "x") == 2  # no CUDA here
    assert "qwen2_vl backend needs" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_command_line_evaluates_a_training_run_and_its_base_model(tmp_path, capsys):
    from vldac.config import from_dict
    from vldac.models.merge import base_model_dir
    from vldac.train import train

    run = train(from_dict({
        "seed": 1, "output_dir": str(tmp_path / "run"),
        "model": {"path": "tiny:qwen2_vl", "value_head": [32],
                  "lora": {"r": 4, "alpha": 8, "dropout": 0.0}},
        "env": {"name": "gym_cards/NumberLine-v0", "num_envs": 2, "num_workers": 0},
        "rollout": {"steps_per_env": 2, "max_new_tokens": 4},
        "train": {"total_env_steps": 4, "mini_batch_size": 4, "grad_accum_steps": 1,
                  "checkpoint_every": 1},
        "log": {"dvclive": False, "progress": False},
    })).output_dir

    def vldac(*argv):
        args = _parser().parse_args(["lmms", "--benchmark", "vsi_bench_route_planning",
                                     "--fixture", "--device", "cpu", *map(str, argv)])
        return args.func(args)

    assert vldac("--run", run, "--out", tmp_path / "trained") == 0
    trained = json.loads((tmp_path / "trained" / "metrics.json").read_text())
    assert trained["model"].endswith("update_000001") and trained["backend"] == "vldac"
    assert vldac("--run", run, "--base", "--out", tmp_path / "base") == 0
    base = json.loads((tmp_path / "base" / "metrics.json").read_text())
    assert base["model"] == base_model_dir(run)
    capsys.readouterr()
    assert vldac("--run", run, "--base", "--checkpoint", "update_000001",
                 "--out", tmp_path / "x") == 2
    assert vldac("--run", run, "--backend", "qwen2_vl", "--out", tmp_path / "x") == 2
    assert "vldac model merge" in capsys.readouterr().err


def test_vldac_chat_is_a_model_name_in_lmms_evals_registry():
    from lmms_eval.models import get_model

    from vldac.eval.lmms import lmms_eval_manifest
    from vldac.eval.lmms.model import VldacChat, register

    register()
    assert get_model("vldac_chat") is VldacChat
    manifest = lmms_eval_manifest()  # the `lmms_eval.models` entry point's payload
    assert manifest.model_id == "vldac_chat"
    assert manifest.simple_class_path == "vldac.eval.lmms.model.VldacChat"
