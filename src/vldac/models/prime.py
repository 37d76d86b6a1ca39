"""A format prior for tiny random models: answer an env's prompts with a random legal action.

A real VLM arrives at RL already able to follow the answer format; a tiny random one emits
byte soup, so RL would spend its budget discovering the format instead of the task. This
supervised warm start teaches the format and nothing else: the target action is drawn
uniformly at random, independently of the image and state, so the primed model starts RL
at chance level. It trains all weights (the reference policy is the primed model too).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import torch


def prime_answer_format(model_dir: str | Path, env_name: str, out_dir: str | Path, *,
                        steps: int = 60, batch_size: int = 16, lr: float = 3e-3,
                        seed: int = 0) -> Path:
    """Fine-tune the model in ``model_dir`` to reply with a bare random legal action of
    ``env_name`` (plus EOS) and save it to ``out_dir``. Closed action sets only."""
    from transformers import AutoModelForImageTextToText

    from vldac.envs import make
    from vldac.models.families import family_of
    from vldac.models.tiny import load_processor

    env = make(env_name)
    if not env.actions:
        raise ValueError(f"{env_name} has no closed action set to prime a format for.")
    model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32)
    processor = load_processor(model_dir)
    family = family_of(model)
    tok = processor.tokenizer
    eos = model.generation_config.eos_token_id
    eos = eos[0] if isinstance(eos, list) else eos
    pad = tok.pad_token_id if tok.pad_token_id is not None else eos
    rng = random.Random(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    # A fixed pool of encoded prompts: encoding dominates the cost, and the labels are
    # random anyway, so many states add nothing.
    pool = []
    for _ in range(4 * batch_size):
        obs = env.reset(rng.randrange(2**31))
        pool.append(family.encode(processor, obs.images, obs.text))
    answers = [torch.tensor(tok(a, add_special_tokens=False)["input_ids"] + [eos])
               for a in env.actions]
    for _ in range(steps):
        prompts = rng.sample(pool, batch_size)
        targets = [rng.choice(answers) for _ in range(batch_size)]
        batch = family.collate(prompts, pad)
        width = max(len(t) for t in targets)
        response = torch.full((batch_size, width), pad)
        mask = torch.zeros(batch_size, width, dtype=torch.bool)
        for i, t in enumerate(targets):
            response[i, : len(t)], mask[i, : len(t)] = t, True
        logits = model(**family.with_response(batch, response, mask),
                       logits_to_keep=width + 1).logits[:, :-1]
        loss = torch.nn.functional.cross_entropy(logits[mask], response[mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    env.close()
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    processor.save_pretrained(tmp)
    tmp.rename(out)
    return out
