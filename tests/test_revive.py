"""uat.revive and lm(revive=R): units renewed without raising the loss, per member."""

import numpy as np
import pytest

from uat import diagnose, network, optim, revive, targets, train
from uat.errors import SpecError
from uat.network import Shape

DATA = targets.sample(targets.get("sin(freq=4)"), 128, 512)


def trained(shape, seeds, spec="lm(steps=200, revive=0)"):
    res = train.train_batch(shape, spec, seeds, [DATA] * len(seeds))
    return np.stack([m.theta for m in res])


def mse(theta, shape):
    return np.mean((network.predict(theta, DATA.X, shape) - DATA.Y) ** 2, axis=(1, 2))


@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu(slope=0.1)"])
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_revive_keeps_the_function_and_leaves_no_dead_unit(activation, depth):
    shape = Shape(1, 3, depth, activation=activation)
    theta = trained(shape, range(6))
    W, B = network.unpack(theta, shape)
    B[0][:, 0, 0] = -50.0  # unit 1 of layer 1 off (relu) or saturated (tanh) on every sample
    before = network.predict(theta, DATA.X, shape)
    assert (diagnose.dead_units(theta, DATA.X, shape) >= (0 if "leaky" in activation else 1)).all()
    new, count = revive.revive(theta, DATA.X, shape, [(s, 1) for s in range(6)])
    np.testing.assert_allclose(network.predict(new, DATA.X, shape), before, rtol=0, atol=1e-12)
    assert (diagnose.dead_units(new, DATA.X, shape) == 0).all()
    np.testing.assert_array_equal(count, diagnose.dead_units(theta, DATA.X, shape))


def test_a_whole_dead_layer_comes_back_from_the_input_up():
    shape = Shape(1, 2, 3, activation="relu")
    theta = trained(shape, [0])
    W, B = network.unpack(theta, shape)
    B[0][0, :, 0] = -50.0  # layer 1 dead: layers 2 and 3 see constants and are dead too
    assert diagnose.dead_units(theta, DATA.X, shape)[0] == 6
    new, count = revive.revive(theta, DATA.X, shape, [1])
    assert count[0] == 6 and diagnose.dead_units(new, DATA.X, shape)[0] == 0
    np.testing.assert_allclose(mse(new, shape), mse(theta, shape), rtol=1e-12)


@pytest.mark.parametrize("depth", [1, 3])
def test_an_exchange_never_raises_the_loss_and_finds_a_better_unit(depth):
    shape = Shape(1, 8, depth, activation="relu")
    theta = trained(shape, range(8))
    new, swapped = revive.exchange(theta, DATA.X, DATA.Y[None].repeat(8, 0), shape,
                                   [(s, 1) for s in range(8)])
    before, after = mse(theta, shape), mse(new, shape)
    assert (after <= before).all() and swapped.any()
    assert (after[swapped] < before[swapped]).all()
    np.testing.assert_array_equal(new[~swapped], theta[~swapped])


def test_the_least_useful_unit_is_the_one_that_repeats_another():
    x = np.linspace(-1, 1, 50)
    H = np.stack([np.maximum(x, 0), np.maximum(x - 0.5, 0), np.maximum(x, 0), x**2])
    y = (np.maximum(x, 0) + 2 * np.maximum(x - 0.5, 0) + x**2)[None]
    assert revive.least_useful(H, np.ones((1, 50)), y) in (0, 2)  # either copy costs nothing


def test_a_member_gets_the_same_result_in_any_batch():
    shape = Shape(1, 4, 2, activation="relu")
    seeds = [11, 12, 13, 14, 15]
    together = train.train_batch(shape, "lm(steps=150, revive=20)", seeds, [DATA] * 5)
    for i in (0, 3):
        alone = train.train_batch(shape, "lm(steps=150, revive=20)", [seeds[i]], [DATA])[0]
        np.testing.assert_array_equal(alone.theta, together[i].theta)
        assert alone.steps == together[i].steps


def test_revive_beats_plain_lm_on_shallow_relu_and_counts_its_steps():
    """The regression this option exists for (benchmarks/trainability.md): shallow ReLU at
    width 16 on sin(4 pi x) stalls near 0.2 with plain LM; renewed units go below 0.02."""
    shape = Shape(1, 16, 1, activation="relu")
    data = targets.sample(targets.get("sin(freq=4)"), 256, 1024)
    plain = train.train_batch(shape, "lm(steps=400, revive=0)", range(5), [data] * 5)
    renewed = train.train_batch(shape, "lm(steps=400, revive=20)", range(5), [data] * 5)
    assert np.median([m.test_mse for m in plain]) > 0.05
    assert np.median([m.test_mse for m in renewed]) < 0.02
    assert all(m.steps <= 400 for m in renewed)
    assert sum(m.dead_end for m in renewed) <= sum(m.dead_end for m in plain)


def test_the_spec_always_names_revive_round_trips_and_refuses_bad_values():
    assert optim.get("lm(steps=5)").revive == 20
    assert "revive=20" in optim.get("lm(steps=5)").name
    plain = optim.get("lm(steps=5, revive=0)")
    assert "revive=0" in plain.name and optim.get(plain.name) == plain
    for bad in ("revive=-1", "revive=1001", "revive=true", "revive=1.5"):
        with pytest.raises(SpecError, match="revive"):
            optim.get(f"lm({bad})")


def test_smooth_nets_are_only_revived_never_exchanged():
    """The exchange is for piecewise-linear units (README "Renewing units"): a tanh net with
    no dead unit comes back from renew untouched."""
    shape = Shape(1, 8, 2, activation="tanh")
    theta = trained(shape, range(4))
    assert (diagnose.dead_units(theta, DATA.X, shape) == 0).all()
    new, changed = revive.renew(theta, DATA.X, DATA.Y[None].repeat(4, 0), shape,
                                [(s, 1) for s in range(4)])
    assert not changed.any()
    np.testing.assert_array_equal(new, theta)


def test_the_lm_loop_renews_within_its_budget_and_tries_stopped_members_afresh():
    """A fake renew that never finds anything: a stopped member is tried `revive` times with
    fresh (round, step) draws, then stays stopped; no renewal at or past the step budget."""
    shape = Shape(1, 3, 1, activation="relu")
    seeds = [1, 2, 3]
    gauss_newton, value = train.gauss_newton_fns(shape, DATA.X, DATA.Y[None].repeat(3, 0))
    calls = []

    def renew(theta, idx, rounds, steps):
        calls.extend(zip(idx.tolist(), rounds.tolist(), steps.tolist(), strict=True))
        return theta, np.zeros(len(idx), dtype=bool)

    theta0 = network.init(shape, seeds, X=DATA.X)
    cfg = optim.get("lm(steps=400, revive=5)")
    res = optim.minimize(cfg, theta0, gauss_newton=gauss_newton, value=value, renew=renew)
    for i in range(3):
        mine = [(r, t) for j, r, t in calls if j == i]
        assert len(set(mine)) == len(mine)  # never the same draw twice
        assert all(t < 400 for _, t in mine)
        at_stop = [r for r, t in mine if t == res.steps[i]]
        assert len(at_stop) <= 5  # failed stall checks are free; tries at a stop are rounds
        if res.status[i] == "converged" and res.steps[i] < 400:
            assert at_stop == [1, 2, 3, 4, 5]  # its whole budget was tried, then it stopped
    plain = optim.minimize(optim.get("lm(steps=400, revive=0)"), theta0,
                           gauss_newton=gauss_newton, value=value, renew=renew)
    np.testing.assert_array_equal(plain.theta, res.theta)  # nothing changed: plain LM's path


def test_a_renewed_member_is_the_same_alone_and_with_other_data():
    """Renewals happen (ReLU on sin(4 pi x) stalls) and a member's result depends on its own
    seed and data only, whatever the others in its batch train on."""
    other = targets.sample(targets.get("abs"), 128, 512)
    shape = Shape(1, 8, 2, activation="relu")
    spec = "lm(steps=200, revive=20)"
    mixed = train.train_batch(shape, spec, [5, 6, 7], [DATA, other, DATA])
    plain = train.train_batch(shape, "lm(steps=200, revive=0)", [5], [DATA])[0]
    alone = train.train_batch(shape, spec, [7], [DATA])[0]
    np.testing.assert_array_equal(alone.theta, mixed[2].theta)
    assert not np.array_equal(alone.theta, plain.theta)  # a renewal did happen


def test_run_seeds_of_64_bits_draw_without_error():
    shape = Shape(1, 3, 2, activation="relu")
    theta = trained(shape, [0])
    W, B = network.unpack(theta, shape)
    B[0][0, 0, 0] = -50.0
    new, count = revive.renew(theta, DATA.X, DATA.Y[None], shape, [(2**64 - 5, 3, 125)])
    assert count.all()
