"""A trained run's LoRA adapter merged into its base model, saved as a plain HF model folder.

Benchmarks (BALROG, lmms-eval) want an ordinary image-text model. :func:`merge_checkpoint`
loads the run's policy at a checkpoint, folds the adapter into the base weights (peft
``merge_and_unload``: W + (alpha / r) B A per wrapped layer) and saves the result with its
processor/tokenizer files, so ``AutoModelForImageTextToText.from_pretrained(out_dir)`` (and
lmms-eval's built-in ``qwen2_vl`` class on a GPU machine) load it like any checkpoint. The
value head is not part of the model and is left out. ``vldac_merge.json`` records where it
came from.

The weights keep the dtype the run used (``model.dtype``, with ``auto`` resolved for the
device the run trained on, read from its ``manifest.json``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import shutil
from pathlib import Path

from vldac.errors import RunExistsError

MERGE_RECORD = "vldac_merge.json"


def _run_config(run_dir: Path):
    from vldac.config import from_dict

    file = run_dir / "config.json"
    if not file.is_file():
        raise FileNotFoundError(f"{run_dir} holds no config.json; give the output_dir of a "
                                "`vldac train` run.")
    return from_dict(json.loads(file.read_text()))


def base_model_dir(run_dir: str | Path) -> str:
    """Where the run's untrained base model lives: a local folder (``tiny:`` paths are
    resolved, building the tiny model if needed) or the hub id the run was started with."""
    from vldac.models.loading import resolve_model_path

    return resolve_model_path(_run_config(Path(run_dir)).model.path)


def run_dtype(run_dir: str | Path) -> str:
    """The dtype the run's weights had: ``float32`` or ``bfloat16``."""
    run_dir = Path(run_dir)
    cfg = _run_config(run_dir)
    if cfg.model.dtype != "auto":
        return cfg.model.dtype
    manifest = run_dir / "manifest.json"
    device = json.loads(manifest.read_text()).get("device", "cpu") if manifest.is_file() else "cpu"
    return "bfloat16" if str(device).startswith("cuda") else "float32"


def load_merged(run_dir: str | Path, checkpoint: str | None = None):
    """(merged model, processor, checkpoint folder): the run's policy at ``checkpoint``
    (default: latest) in the run's dtype, its adapter folded into the base weights, in memory
    on a GPU if one is visible, else on the CPU."""
    from vldac.models.loading import load_policy
    from vldac.train.checkpoint import latest_checkpoint, load_checkpoint

    run_dir = Path(run_dir)
    cfg = _run_config(run_dir)
    root = run_dir / "checkpoints"
    path = root / checkpoint if checkpoint else latest_checkpoint(root)
    if path is None or not (path / "trainer_state.pt").is_file():
        raise FileNotFoundError(f"no checkpoint {checkpoint or 'latest'} under {root}; "
                                "train first or name one that exists.")
    # the run's dtype; any device (a run trained on a GPU merges on a CPU-only machine too)
    model_cfg = dataclasses.replace(cfg.model, dtype=run_dtype(run_dir), device="auto")
    policy = load_policy(model_cfg, seed=cfg.seed)
    load_checkpoint(path, policy)
    merged = policy.model.merge_and_unload()  # loaded in the run's dtype, merged in it
    merged.generation_config = policy.checkpoint_generation_config  # the base model's own
    merged.eval()
    return merged, policy.processor, path


def merge_checkpoint(run_dir: str | Path, out_dir: str | Path,
                     checkpoint: str | None = None) -> Path:
    """Merge the adapter of ``run_dir``'s ``checkpoint`` (default: latest) into the base
    model and save it to ``out_dir``, which must not exist or be empty. Returns ``out_dir``.

    The folder holds the model weights and config, the generation config, the processor and
    tokenizer files and ``vldac_merge.json`` (run, checkpoint, base model, dtype, time). It is
    written under a temporary name next to ``out_dir`` and renamed into place when complete.
    """
    run_dir, out = Path(run_dir), Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunExistsError(f"{out} already holds files; merge into a new or empty folder "
                             "(nothing existing is ever overwritten).")
    cfg = _run_config(run_dir)
    merged, processor, path = load_merged(run_dir, checkpoint)
    tmp = out.parent / f".{out.name}.merging-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        merged.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        _copy_processor_files(Path(base_model_dir(run_dir)), tmp)
        record = {
            "run": str(run_dir.resolve()),
            "checkpoint": path.name,
            "base_model": cfg.model.path,
            "base_model_dir": base_model_dir(run_dir),
            "dtype": run_dtype(run_dir),
            "lora": dataclasses.asdict(cfg.model.lora),
            "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        (tmp / MERGE_RECORD).write_text(json.dumps(record, indent=2))
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


_PROCESSOR_PATTERNS = ("*.json", "*.jinja", "*.txt", "*.model", "*.tiktoken")
_MODEL_FILES = {"config.json", "generation_config.json"}


def _copy_processor_files(base: Path, out: Path) -> None:
    """Copy the base model's processor/tokenizer files that the save did not write (e.g. a
    ``video_preprocessor_config.json`` that a processor loaded without torchvision cannot
    save), so that loaders expecting the original files find them. Nothing is replaced."""
    if not base.is_dir():
        return  # a hub id: the saved processor is all there is
    for pattern in _PROCESSOR_PATTERNS:
        for file in base.glob(pattern):
            if (file.name in _MODEL_FILES or file.name.endswith(".index.json")
                    or (out / file.name).exists()):
                continue
            shutil.copy2(file, out / file.name)
