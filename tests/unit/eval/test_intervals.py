import math

import pytest

from vldac.eval import heldout_seeds
from vldac.eval.in_domain import mean_interval, wilson_interval
from vldac.rollout import episode_seed


def test_wilson_interval_matches_a_hand_computed_case():
    lo, hi = wilson_interval(8, 10)  # p = 0.8, n = 10: textbook 95% Wilson (0.490, 0.943)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_stays_inside_zero_one_at_the_edges():
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(0, 20)[1] > 0.0
    assert wilson_interval(20, 20)[1] == 1.0 and wilson_interval(20, 20)[0] < 1.0
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_mean_interval_is_centred_and_shrinks_with_more_data():
    lo, hi = mean_interval([1.0, 2.0, 3.0])
    assert (lo + hi) / 2 == pytest.approx(2.0)
    assert hi - lo == pytest.approx(2 * 1.959964 * 1.0 / math.sqrt(3), rel=1e-5)
    lo4, hi4 = mean_interval([1.0, 2.0, 3.0] * 4)
    assert hi4 - lo4 < hi - lo
    assert mean_interval([5.0]) == (5.0, 5.0)


def test_heldout_seeds_are_distinct_reproducible_and_never_training_seeds():
    seeds = heldout_seeds(3, 500)
    assert len(seeds) == len(set(seeds)) == 500
    assert seeds == heldout_seeds(3, 500) and seeds != heldout_seeds(4, 500)
    assert seeds[:10] == heldout_seeds(3, 10)  # a longer evaluation extends a shorter one
    training = {episode_seed(3, env, ep) for env in range(16) for ep in range(200)}
    assert all(s % 2 == 1 for s in seeds) and all(s % 2 == 0 for s in training)
    assert not training & set(seeds)


def test_wilson_interval_contains_the_estimate_exactly_at_zero_and_one():
    for n in (1, 7, 64):
        assert wilson_interval(0, n)[0] == 0.0
        assert wilson_interval(n, n)[1] == 1.0
