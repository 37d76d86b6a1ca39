"""The actor-critic on a tiny Qwen2-VL: log-prob consistency, gradient flow, warm-up."""

import pytest
import torch

from vldac.models import adapter_counts, load_policy
from vldac.rollout import EnvSpec, RolloutCollector, VectorEnv
from vldac.train.update import _minibatch, compute_advantages, ppo_update


def collect(cfg, policy):
    vec = VectorEnv(EnvSpec(cfg.env.name, {}), cfg.env.num_envs, 0)
    collector = RolloutCollector(policy, vec, seed=cfg.seed, history=1,
                                 max_new_tokens=cfg.rollout.max_new_tokens,
                                 temperature=cfg.rollout.temperature, do_sample=True,
                                 stats_window=10)
    rollout, _ = collector.collect(cfg.rollout.steps_per_env)
    vec.close()
    compute_advantages(rollout, cfg.algo)
    return rollout


@pytest.fixture
def setup(make_config):
    cfg = make_config(rollout={"temperature": 0.7})
    policy = load_policy(cfg.model, seed=cfg.seed)
    return cfg, policy, collect(cfg, policy)


def lora_params(policy):
    return {n: p for n, p in policy.named_parameters() if "lora_" in n}


def test_first_epoch_ratio_is_one_and_kl_to_reference_is_zero(setup):
    cfg, policy, rollout = setup
    policy.train()  # update mode; LoRA dropout is 0 in this config
    batch, resp, mask, old, ref, *_ = _minibatch(policy, rollout, list(range(len(rollout.samples))))
    new = policy.score(batch, resp, mask, temperature=0.7).logprobs
    assert mask.sum() > 0
    assert (new - old)[mask].abs().max() < 1e-5  # behaviour log-probs from generation logits
    assert (new - ref)[mask].abs().max() < 1e-5  # LoRA B starts at 0: policy == base model


def test_gradients_reach_only_lora_and_the_value_head(setup):
    cfg, policy, rollout = setup
    policy.train()
    batch, resp, mask, old, ref, adv, old_v, ret, _ = _minibatch(policy, rollout, [0, 1, 2, 3])
    scores = policy.score(batch, resp, mask, temperature=0.7)
    loss = (scores.logprobs * mask).sum() + scores.values.sum()
    loss.backward()
    with_grad = {n for n, p in policy.named_parameters() if p.grad is not None}
    assert with_grad and all("lora_" in n or n.startswith("value_head.") for n in with_grad)
    assert any(n.startswith("value_head.") for n in with_grad)
    assert any("lora_B" in n for n in with_grad)
    frozen = [n for n, p in policy.named_parameters() if p.requires_grad
              and "lora_" not in n and not n.startswith("value_head.")]
    assert frozen == []


def test_value_head_input_is_detached(setup):
    cfg, policy, rollout = setup
    policy.train()
    batch, resp, mask, *_ = _minibatch(policy, rollout, [0, 1])
    policy.score(batch, resp, mask).values.sum().backward()
    assert all(p.grad is None for n, p in lora_params(policy).items())


def test_warmup_moves_the_value_head_but_not_lora(setup):
    cfg, policy, rollout = setup
    before = {n: p.detach().clone() for n, p in policy.named_parameters() if p.requires_grad}
    opt = torch.optim.Adam(policy.trainable_parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    ppo_update(policy, opt, sched, rollout, cfg.algo, cfg.train, 0.7, policy_frozen=True)
    for name, p in policy.named_parameters():
        if "lora_" in name:
            assert torch.equal(p, before[name]), name
    assert any(not torch.equal(p, before[n]) for n, p in policy.named_parameters()
               if n.startswith("value_head."))


def test_every_lora_tensor_changes_after_one_policy_update(setup):
    cfg, policy, rollout = setup
    assert cfg.train.ppo_epochs >= 2  # lora_A first moves once lora_B is non-zero
    before = {n: p.detach().clone() for n, p in lora_params(policy).items()}
    opt = torch.optim.Adam(policy.trainable_parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    ppo_update(policy, opt, sched, rollout, cfg.algo, cfg.train, 0.7, policy_frozen=False)
    unchanged = [n for n, p in lora_params(policy).items() if torch.equal(p, before[n])]
    assert before and unchanged == []


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "gemma3", "idefics3"])
def test_lora_sits_in_the_language_model_only(make_config, family):
    cfg = make_config(model={"path": f"tiny:{family}"})
    policy = load_policy(cfg.model)
    counts = adapter_counts(policy)
    assert counts["vision"] == 0 and counts["other"] == 0
    assert counts["language_model"] == 2 * 7  # 2 layers x (q, k, v, o, gate, up, down)
    # and the whole learner path runs for this family
    rollout = collect(cfg, policy)
    assert rollout.valid.all() and len(rollout.samples) == 12


def _noise_image(width, height, seed):
    from PIL import Image

    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (height, width, 3), generator=g, dtype=torch.uint8)
    return Image.fromarray(pixels.numpy(), "RGB")


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_cached_vision_features_give_the_pixel_results(make_config, family):
    """Features computed once (rollout) and fed back (reference, bootstrap, PPO epochs) give
    what re-encoding the pixels gives, for prompts with 0, 1 and 2 images, alone or batched."""
    from vldac.models.families import IMAGE_EMBEDS
    from vldac.rollout.collector import _with_features

    cfg = make_config(model={"path": f"tiny:{family}"})
    policy = load_policy(cfg.model)
    prompts = [policy.encode([], "Go."),
               policy.encode([_noise_image(300, 300, 1)], "The cards are 3, 7, K and 10."),
               policy.encode([_noise_image(64, 40, 2), _noise_image(90, 120, 3)], "Two images.")]
    pixels = policy.collate(prompts)
    feats = policy.image_features(pixels)
    assert IMAGE_EMBEDS in feats and "pixel_values" not in feats
    torch.manual_seed(0)
    gen_pixels = policy.generate(pixels, 6, 0.7)
    torch.manual_seed(0)
    gen_feats = policy.generate(feats, 6, 0.7)
    assert torch.equal(gen_pixels.response_ids, gen_feats.response_ids)
    assert (gen_pixels.old_logprobs - gen_feats.old_logprobs).abs().max() < 1e-6
    assert (gen_pixels.values - gen_feats.values).abs().max() < 1e-6
    resp, mask = gen_feats.response_ids, gen_feats.response_mask
    for train in (False, True):
        policy.train(train)
        a, b = policy.score(pixels, resp, mask), policy.score(feats, resp, mask)
        assert (a.logprobs - b.logprobs).abs().max() < 1e-6
        assert (a.values - b.values).abs().max() < 1e-6
    policy.eval()
    ref_a = policy.reference_logprobs(pixels, resp, mask, 0.7)
    assert (ref_a - policy.reference_logprobs(feats, resp, mask, 0.7)).abs().max() < 1e-6
    assert (policy.prompt_values(pixels) - policy.prompt_values(feats)).abs().max() < 1e-6
    # stored per sample, re-batched in another order and subset (as the update does)
    stored = _with_features(prompts, feats, policy)
    assert all("pixel_values" not in s for s in stored[1:]) and IMAGE_EMBEDS not in stored[0]
    order = [2, 0, 1]
    regrouped = policy.collate([stored[i] for i in order])
    direct = policy.collate([prompts[i] for i in order])
    got = policy.score(regrouped, resp[order], mask[order]).logprobs
    want = policy.score(direct, resp[order], mask[order]).logprobs
    assert (got - want).abs().max() < 1e-6


def test_gemma3_keeps_pixels(make_config):
    cfg = make_config(model={"path": "tiny:gemma3"})
    policy = load_policy(cfg.model)
    batch = policy.collate([policy.encode([_noise_image(64, 64, 1)], "Hi.")])
    assert policy.image_features(batch) is batch


def test_value_head_backward_once_per_group_gives_the_same_gradients(setup):
    """ppo_update takes the value head's backward once per optimiser step (over all its
    micro-batches); the gradients equal those of a backward through V per micro-batch."""
    from vldac.algo import vldac_loss
    from vldac.train.update import _head_backward, _head_leaf

    cfg, policy, rollout = setup
    policy.train()
    kw = dict(clip_eps=0.1, value_clip_eps=0.1, kl_coef=0.05, value_coef=0.15,
              token_normalizer=40.0, sample_normalizer=6.0)
    groups = [[0, 1, 2], [3, 4, 5]]
    # make the policy differ from the reference and the head non-trivial
    with torch.no_grad():
        for p in policy.trainable_parameters():
            p.add_(torch.randn_like(p) * 0.02)

    def grads():
        out = {n: p.grad.clone() for n, p in policy.named_parameters() if p.grad is not None}
        policy.zero_grad(set_to_none=True)
        return out

    for idx in groups:  # V with grad, backward per micro-batch
        batch, resp, mask, old, ref, adv, old_v, ret, _ = _minibatch(policy, rollout, idx)
        s = policy.score(batch, resp, mask, temperature=0.7)
        vldac_loss(s.logprobs, old, ref, mask, adv, s.values, old_v, ret, **kw)[0].backward()
    want = grads()
    inputs, head_grads = [], []
    for idx in groups:  # V as a leaf, one head backward at the end
        batch, resp, mask, old, ref, adv, old_v, ret, _ = _minibatch(policy, rollout, idx)
        s = policy.score(batch, resp, mask, temperature=0.7, values=False)
        v = _head_leaf(policy, s.value_inputs)
        vldac_loss(s.logprobs, old, ref, mask, adv, v, old_v, ret, **kw)[0].backward()
        inputs.append(s.value_inputs)
        head_grads.append(v.grad)
    _head_backward(policy, inputs, head_grads)
    got = grads()
    assert set(got) == set(want) and any(n.startswith("value_head.") for n in got)
    for n in want:
        scale = want[n].abs().max().clamp_min(1e-12)
        assert ((got[n] - want[n]).abs().max() / scale) < 1e-5, n


def test_the_checkpoints_generation_defaults_never_shape_rollout_sampling(make_config, tmp_path):
    """A checkpoint's generation_config.json (Qwen2-VL-Instruct: top_k 1, top_p 0.001,
    repetition penalty 1.05) must not leak into rollouts: they sample at the temperature from
    the raw distribution their log-probs score. With top_k 1 leaked, every sample would be
    the greedy answer."""
    import dataclasses
    import json

    from PIL import Image

    from vldac.models.tiny import make_tiny

    folder = make_tiny("qwen2_vl", tmp_path / "tiny")
    gen_file = folder / "generation_config.json"
    hub_like = {**json.loads(gen_file.read_text()), "top_k": 1, "top_p": 0.001,
                "repetition_penalty": 1.05, "do_sample": True}
    gen_file.write_text(json.dumps(hub_like))
    cfg = make_config()
    policy = load_policy(dataclasses.replace(cfg.model, path=str(folder)), seed=0)
    prompt = policy.encode([Image.new("RGB", (56, 56), "red")], "Say anything.")
    batch = policy.collate([prompt] * 16)
    torch.manual_seed(0)
    out = policy.generate(batch, max_new_tokens=6, temperature=1.0)
    assert len({tuple(r.tolist()) for r in out.response_ids}) > 1
    # ... while the checkpoint's own settings survive for whoever saves the model.
    assert policy.checkpoint_generation_config.top_k == 1
    assert policy.hf_model.generation_config.top_k is None
