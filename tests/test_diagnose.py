"""uat.diagnose: dead units and linear pieces against hand-built nets and brute force."""

import numpy as np
import pytest

from uat import diagnose, network, store, train
from uat.network import Shape
from uat.theory import constructions

X = np.linspace(-1, 1, 101)[None]  # (1, n_s)


def brute_pieces(theta, shape, lo=-1.0, hi=1.0, n=400_001):
    """Pieces from slopes on a fine grid: a kink makes the slope change once (kink on a grid
    point) or twice (kink inside a cell), in neighbouring cells: a run of changes is one kink."""
    x = np.linspace(lo, hi, n)
    y = network.predict(theta, x[None], shape)[:, 0]
    s = np.diff(y, axis=1) / np.diff(x)
    out = []
    for changed in np.abs(np.diff(s, axis=1)) > 1e-7:
        at = np.flatnonzero(changed)
        out.append(1 + np.count_nonzero(np.diff(at) > 1) + (at.size > 0))
    return np.array(out)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu(slope=0.1)", "elu(alpha=0)"])
@pytest.mark.parametrize(("width", "depth"), [(1, 1), (5, 1), (2, 3), (3, 4)])
def test_pieces_match_a_fine_grid(activation, width, depth):
    shape = Shape(1, width, depth, activation=activation)
    if shape.act.kink_slopes is None:
        pytest.skip(f"{activation} has no single kink at 0")
    theta = network.init(shape, range(6), X=X)
    np.testing.assert_array_equal(diagnose.linear_pieces(theta, -1.0, 1.0, shape),
                                  brute_pieces(theta, shape))


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_the_sawtooth_has_two_pieces_per_tooth(k):
    theta, shape = constructions.sawtooth_net(k), Shape(1, 2, k, activation="relu")
    assert diagnose.linear_pieces(theta, -1.0, 1.0, shape)[0] == 2 ** k
    assert diagnose.dead_units(theta, X, shape)[0] == 0


def test_a_unit_off_on_every_sample_is_dead_and_a_saturated_tanh_too():
    shape = Shape(1, 3, 2, activation="relu")
    theta = network.init(shape, [0], X=X)
    W, B = network.unpack(theta, shape)
    assert diagnose.dead_units(theta, X, shape)[0] == 0
    B[0][0, 1, 0] = -10.0  # |w x| < 10 on [-1, 1]: unit 2 of layer 1 is 0 everywhere
    assert diagnose.dead_units(theta, X, shape)[0] == 1
    W[1][0, 2, :], B[1][0, 2, 0] = 0.0, 0.3  # a constant unit that is on is dead too
    assert diagnose.dead_units(theta, X, shape)[0] == 2
    tanh = Shape(1, 2, 1, activation="tanh")
    theta = np.array([[1.0, 0.0, 0.0, 100.0, 1.0, 1.0, 0.0]])  # unit 2 = tanh(100) = 1
    assert diagnose.dead_units(theta, X, tanh)[0] == 1


def test_a_dead_unit_leaves_the_piece_count_alone():
    shape = Shape(1, 4, 1, activation="relu")
    theta = network.init(shape, [3], X=X)
    before = diagnose.linear_pieces(theta, -1.0, 1.0, shape)[0]
    W, B = network.unpack(theta, shape)
    W[1][0, 0, 0] = 0.0  # unit 1 no longer reaches the output: its kink is no piece
    assert diagnose.linear_pieces(theta, -1.0, 1.0, shape)[0] == before - 1


def test_pieces_are_not_defined_for_smooth_nets_sigmoid_outputs_or_n_d_inputs():
    for shape in (Shape(1, 3, 1, activation="tanh"), Shape(2, 3, 1, activation="relu"),
                  Shape(1, 3, 1, activation="relu", output="sigmoid")):
        theta = network.init(shape, [0])
        assert np.isnan(diagnose.linear_pieces(theta, -1.0, 1.0, shape)).all()


def test_every_run_records_its_diagnostics():
    from uat import targets
    data = targets.sample(targets.get("sin(freq=1)"), 64, 128)
    shape = Shape(1, 4, 2, activation="relu")
    res = train.train_batch(shape, "lm(steps=30)", [0, 1], [data, data])
    for m in res:
        assert m.dead_start == 0 and 0 <= m.dead_end <= 8
        assert 1 <= m.pieces <= 1 + 4 + 4 * 5
        lo, hi = float(data.X_test.min()), float(data.X_test.max())
        assert m.pieces == diagnose.linear_pieces(m.theta[None], lo, hi, shape)[0]


def test_a_table_written_before_the_diagnostics_reads_and_takes_new_rows(tmp_path):
    from tests.test_store import row
    store.append(tmp_path, "s", [row("a"), row("b")], batch="1")
    path = store.table_path(tmp_path, "s")
    old = path.read_text().splitlines()
    n = len(store.COLUMNS) - len(store.COLUMNS[:-3])
    path.write_text("\n".join(",".join(line.split(",")[:-n]) for line in old) + "\n")
    older = path.read_text().splitlines()
    path.write_text("\n".join([older[0], older[1], "x,y,z", *older[2:]]) + "\n")  # a bad row
    table, bad = store.inspect(tmp_path, "s")
    assert list(table["key"]) == ["a", "b"] and table["dead_end"].isna().all()
    assert [(b.line, b.text) for b in bad] == [(3, "x,y,z")]
    assert bad[0].reason == f"has 3 fields, the table has {len(store.COLUMNS) - n}"
    store.append(tmp_path, "s", [row("c", dead_start=0, dead_end=2, pieces=7.0)], batch="2")
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(store.COLUMNS) and lines[2] == "x,y,z"  # kept, in place
    table = store.read(tmp_path, "s")
    assert list(table["key"]) == ["a", "b", "c"]
    assert table["dead_end"].iloc[2] == 2 and table["pieces"].iloc[2] == 7.0
    assert table["dead_end"].iloc[:2].isna().all()


def test_kinks_that_agree_to_rounding_count_once():
    """Two units with proportional (w, b) share their kink; a unit whose outgoing weight is 0
    (a freshly revived one) adds no piece even when its kink is 1e-10 from another."""
    shape = Shape(1, 3, 1, activation="relu")
    rng = np.random.default_rng(0)
    wrong = 0
    for _ in range(300):
        c, s = rng.uniform(-0.9, 0.9), rng.uniform(0.1, 3.0, size=2)
        theta = np.zeros((1, shape.n_params))
        W, B = network.unpack(theta, shape)
        W[0][0, :, 0] = [s[0], s[1], 1.0]
        B[0][0, :, 0] = [-s[0] * c, -s[1] * c, -(c + 1e-10)]
        W[1][0, 0] = [1.0, 2.0, 0.0]  # units 1 and 2: one kink at c; unit 3 does not count
        wrong += diagnose.linear_pieces(theta, -1.0, 1.0, shape)[0] != 2
    assert wrong == 0
