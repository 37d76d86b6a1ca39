"""Worker crashes: the worker restarts, the lost episode is discarded, the batch survives."""

from vldac.models import load_policy
from vldac.rollout import EnvSpec, RolloutCollector, VectorEnv

SPEC = EnvSpec("gym_cards/NumberLine-v0", {})


def test_a_dead_worker_is_restarted_and_only_its_envs_are_lost():
    with VectorEnv(SPEC, num_envs=4, num_workers=2) as vec:
        obs, crashed = vec.reset({i: 10 + i for i in range(4)})
        assert not crashed and len(obs) == 4
        vec.kill_worker_of(0)  # hosts envs 0 and 1
        results, crashed = vec.step({i: '{"action": "+"}' for i in range(4)})
        assert crashed == {0, 1} and set(results) == {2, 3}
        assert vec.restarts == 1
        obs, crashed = vec.reset({0: 1, 1: 2})  # the restarted worker serves again
        assert not crashed and set(obs) == {0, 1}


def test_replay_rebuilds_the_same_state():
    with VectorEnv(SPEC, num_envs=2, num_workers=0) as vec:
        vec.reset({0: 5, 1: 5})
        live, _ = vec.step({0: "+", 1: "+"})
        replayed, _ = vec.replay({0: (5, ["+"])})
        assert replayed[0][-1].text == live[0].observation.text
        assert replayed[0][-1].images[0].tobytes() == live[0].observation.images[0].tobytes()


def test_collector_masks_the_crashed_episode_and_keeps_the_rest(make_config):
    cfg = make_config()
    policy = load_policy(cfg.model, seed=cfg.seed)
    vec = VectorEnv(SPEC, cfg.env.num_envs, 0)
    step, calls = vec.step, {"n": 0}

    def flaky_step(texts):  # env 1 "crashes" on the second step of the rollout
        calls["n"] += 1
        results, crashed = step(texts)
        if calls["n"] == 2:
            results.pop(1)
            crashed = crashed | {1}
        return results, crashed

    vec.step = flaky_step
    collector = RolloutCollector(policy, vec, seed=0, history=1, max_new_tokens=4,
                                 temperature=1.0, do_sample=True, stats_window=10)
    rollout, _ = collector.collect(3)
    assert rollout.valid[:2, 1].tolist() == [False, False]  # its episode so far: discarded
    assert rollout.valid[2, 1]  # a new episode starts on the next step
    assert rollout.valid[:, [0, 2, 3]].all()  # the rest of the batch is kept
    assert rollout.terminated[1, 1]  # GAE never crosses into the new episode
    vec.close()
