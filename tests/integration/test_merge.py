"""Merging a trained run's adapter into its base model: same logits, a plain HF folder."""

import json

import pytest
import torch
from PIL import Image

from vldac.errors import RunExistsError
from vldac.eval.in_domain import load_run_policy
from vldac.models.loading import resolve_model_path
from vldac.models.merge import MERGE_RECORD, base_model_dir, merge_checkpoint
from vldac.train import train


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, config_factory):
    """Two PPO updates of the tiny Qwen2-VL on NumberLine (a few seconds)."""
    return train(config_factory(tmp_path_factory.mktemp("merge"))).output_dir


def _batch(policy):
    image = Image.new("RGB", (56, 84), (120, 30, 200))
    encodings = [policy.encode([image], "Current: 3, Target: 7. Move the number."),
                 policy.encode([], "What is 2 + 5?")]
    return policy.collate(encodings)


@torch.no_grad()
def test_the_merged_model_computes_the_adapted_policys_logits(trained_run, tmp_path):
    from transformers import AutoModelForImageTextToText

    out = merge_checkpoint(trained_run, tmp_path / "merged")
    policy, _cfg = load_run_policy(trained_run)
    batch = _batch(policy)
    adapted = policy.hf_model(**batch).logits
    with policy.model.disable_adapter():
        base = policy.hf_model(**batch).logits
    merged = AutoModelForImageTextToText.from_pretrained(out, dtype=torch.float32)
    logits = merged(**batch).logits
    assert (adapted - base).abs().max() > 1e-3  # training moved the adapter
    torch.testing.assert_close(logits, adapted, atol=1e-5, rtol=1e-5)
    assert not any("lora" in name for name, _ in merged.named_parameters())

    record = json.loads((out / MERGE_RECORD).read_text())
    assert record["checkpoint"] == "update_000002" and record["dtype"] == "float32"
    assert record["base_model"] == "tiny:qwen2_vl"
    assert base_model_dir(trained_run) == resolve_model_path("tiny:qwen2_vl")

    from vldac.eval.chat import ChatModel

    chat = ChatModel(str(out))  # processor files came along: the folder is a chat model
    answer = chat.generate([[{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]],
                           max_new_tokens=4)
    assert len(answer) == 1


def test_merging_never_overwrites_and_names_a_missing_checkpoint(trained_run, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(RunExistsError, match="already holds files"):
        merge_checkpoint(trained_run, taken)
    assert (taken / "notes.txt").read_text() == "mine" and len(list(taken.iterdir())) == 1
    with pytest.raises(FileNotFoundError, match="no checkpoint update_999999"):
        merge_checkpoint(trained_run, tmp_path / "new", checkpoint="update_999999")
    assert not (tmp_path / "new").exists()


def _parse(add, argv):
    import argparse

    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(argv)


def test_merge_and_balrog_command_lines_load_the_runs_models(trained_run, tmp_path, capsys):
    from vldac.cli import main
    from vldac.eval.balrog import cli

    argv = ["model", "merge", "--run", str(trained_run), "--out", str(tmp_path / "m"),
            "--checkpoint", "update_000001"]
    assert main(argv) == 0
    assert json.loads((tmp_path / "m" / MERGE_RECORD).read_text())["checkpoint"] == "update_000001"
    assert main(argv) == 2  # the folder now holds the model: refused, one line
    assert "already holds files" in capsys.readouterr().err

    tuned = cli._load_model(_parse(cli.add_arguments, ["--run", str(trained_run), "--out", "x"]))
    assert tuned.path.endswith("update_000002")
    base = cli._load_model(_parse(cli.add_arguments,
                                  ["--run", str(trained_run), "--base", "--out", "x"]))
    assert base.path == resolve_model_path("tiny:qwen2_vl")
    conversation = [[{"role": "user", "content": [{"type": "text", "text": "Go to the box"}]}]]
    assert tuned.generate(conversation, max_new_tokens=3) is not None
    both = _parse(cli.add_arguments, ["--run", str(trained_run), "--model", "tiny:qwen2_vl",
                                      "--out", str(tmp_path / "b")])
    assert cli.run(both) == 2 and "exactly one of --model" in capsys.readouterr().err
