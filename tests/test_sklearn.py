"""uat.sklearn: the estimators pass scikit-learn's checks, fit what the lecture says they fit,
and their W_, B_ are the network that predicts."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from uat import train
from uat.sklearn import NetworkClassifier, NetworkRegressor

SMALL = dict(width=4, optimizer="lm(steps=50)", n_seeds=2)  # fast enough for check_estimator


def sine(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """sin(pi x) at n uniform points of [-1, 1]: X (n, 1), y (n,)."""
    x = np.random.default_rng(seed).uniform(-1, 1, n)
    return x[:, None], np.sin(np.pi * x)


def xor_blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """4 Gaussian blobs at (+-1, +-1), label 1 where x1 x2 > 0: X (n, 2), y (n,)."""
    rng = np.random.default_rng(seed)
    centers = rng.choice([-1.0, 1.0], size=(n, 2))
    X = centers + rng.normal(0, 0.3, (n, 2))
    return X, (centers[:, 0] * centers[:, 1] > 0).astype(int)


@pytest.mark.parametrize("est", [NetworkRegressor(**SMALL), NetworkClassifier(**SMALL)],
                         ids=lambda e: type(e).__name__)
def test_check_estimator(est):
    check_estimator(est)


def test_import_uat_does_not_import_sklearn():
    code = "import sys, uat, uat.train; assert 'sklearn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_regressor_fits_sine_and_its_layers_are_the_network():
    X, y = sine(200, seed=0)
    est = NetworkRegressor(width=8, optimizer="lm(steps=300)", random_state=0).fit(X, y)
    Xt = np.linspace(-1, 1, 101)[:, None]
    assert np.mean((est.predict(Xt) - np.sin(np.pi * Xt[:, 0])) ** 2) < 1e-4

    A = ((Xt - est.x_mean_) / est.x_scale_).T  # standardised inputs as columns: (1, n_s)
    L = len(est.W_)
    assert L == 2 and est.W_[0].shape == (8, 1) and est.B_[0].shape == (8, 1)
    for l in range(L):
        Z = est.W_[l] @ A + est.B_[l]
        A = np.tanh(Z) if l < L - 1 else Z  # affine output layer
    np.testing.assert_allclose(A[0] * est.y_scale_ + est.y_mean_, est.predict(Xt), atol=1e-12)


def test_regressor_multi_output_keeps_y_ndim():
    X, y = sine(60, seed=1)
    Y = np.column_stack([y, 3 * X[:, 0] + 10])
    est = NetworkRegressor(**SMALL, random_state=0).fit(X, Y)
    assert est.predict(X).shape == (60, 2) and est.W_[-1].shape == (2, 4)
    assert NetworkRegressor(**SMALL).fit(X, Y[:, :1]).predict(X).shape == (60, 1)
    assert NetworkRegressor(**SMALL).fit(X, y).predict(X).shape == (60,)


def test_best_member_is_chosen_on_validation_error():
    X, y = sine(100, seed=2)
    est = NetworkRegressor(width=3, optimizer="lm(steps=30)", n_seeds=6, random_state=0)
    est.fit(X, y)
    errors = est.validation_errors_
    assert errors.shape == (6,) and np.isfinite(errors).all() and est.validation_split_
    assert errors[est.best_seed_] == min(errors)
    assert len(set(errors.tolist())) > 1  # the members differ, so the choice means something


def test_diverged_members_are_ignored(monkeypatch):
    """A diverged member gets NaN and is never kept; all diverged is an error."""
    real = train.train_batch

    def first_diverges(*args):
        results = real(*args)
        return [results[0]._replace(status="diverged"), *results[1:]]

    X, y = sine(40, seed=2)
    monkeypatch.setattr(train, "train_batch", first_diverges)
    est = NetworkRegressor(**SMALL, random_state=0).fit(X, y)
    assert np.isnan(est.validation_errors_[0]) and est.best_seed_ == 1
    with pytest.raises(RuntimeError, match="all 1 networks diverged"):
        NetworkRegressor(width=4, optimizer="lm(steps=50)", n_seeds=1).fit(X, y)


def test_tiny_data_trains_and_validates_on_all_points():
    est = NetworkRegressor(**SMALL, random_state=0).fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 4.0])
    assert not est.validation_split_


def test_xor_needs_a_hidden_layer():
    """The lecture's point: logistic regression cannot separate XOR, one hidden layer can."""
    X, y = xor_blobs(200, seed=0)
    Xt, yt = xor_blobs(400, seed=1)
    net = NetworkClassifier(width=4, random_state=0).fit(X, y)
    assert net.score(Xt, yt) > 0.95
    logistic = NetworkClassifier(depth=0, random_state=0).fit(X, y)
    assert logistic.score(Xt, yt) < 0.8
    assert logistic.shape_.depth == 0 and len(logistic.W_) == 1


def test_classifier_string_labels_and_probabilities():
    X, y = xor_blobs(120, seed=3)
    names = np.array(["even", "odd"])[y]
    est = NetworkClassifier(**SMALL, random_state=0).fit(X, names)
    assert est.classes_.tolist() == ["even", "odd"]
    P = est.predict_proba(X)
    assert P.shape == (120, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1)
    assert (est.predict(X) == est.classes_[np.argmax(P, axis=1)]).all()

    three = np.array(["a", "b", "c"])[(X > 0).sum(axis=1)]  # 0, 1 or 2 coordinates > 0
    est = NetworkClassifier(**SMALL, random_state=0).fit(X, three)
    P = est.predict_proba(X)
    assert P.shape == (120, 3) and est.W_[-1].shape == (3, 4)  # one sigmoid per class
    np.testing.assert_allclose(P.sum(axis=1), 1)
    assert est.score(X, three) > 0.9


def test_pipeline_and_grid_search():
    X, y = sine(90, seed=4)
    X = 100 * X + 5  # badly scaled input: the pipeline's scaler and fit's standardising agree
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", NetworkRegressor(width=8, optimizer="lm(steps=100)", n_seeds=2,
                                              random_state=0))])
    assert pipe.fit(X, y).score(X, y) > 0.99

    grid = GridSearchCV(NetworkRegressor(optimizer="lm(steps=100)", n_seeds=2, random_state=0),
                        {"width": [1, 8]}, cv=3).fit(X, y)
    assert grid.best_params_ == {"width": 8}  # width 1 tanh is monotone: it cannot be a sine
    assert grid.best_score_ > 0.99


def test_same_random_state_same_predictions():
    X, y = sine(80, seed=5)
    a = NetworkRegressor(**SMALL, random_state=7).fit(X, y).predict(X)
    b = NetworkRegressor(**SMALL, random_state=7).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    Xc, yc = xor_blobs(80, seed=5)
    p = NetworkClassifier(**SMALL, random_state=7).fit(Xc, yc).predict_proba(Xc)
    q = NetworkClassifier(**SMALL, random_state=7).fit(Xc, yc).predict_proba(Xc)
    np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("params, match", [
    (dict(activation="nope"), "nope"),
    (dict(optimizer="sgd(lr=0.1)"), "sgd"),
    (dict(width=0), "width"),
    (dict(depth=-1), "depth"),
    (dict(n_seeds=0), "n_seeds"),
    (dict(validation_fraction=1.0), "validation_fraction"),
])
def test_invalid_parameters_raise_value_error(params, match):
    X, y = sine(20, seed=6)
    with pytest.raises(ValueError, match=match):
        NetworkRegressor(**params).fit(X, y)
