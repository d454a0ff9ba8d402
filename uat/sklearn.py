"""scikit-learn estimators on uat's batched networks: NetworkRegressor and NetworkClassifier.

Each fit trains `n_seeds` networks of one shape as ONE batch (uat.train.train_batch) and keeps
the member with the lowest error on a held-out validation split. scikit-learn is an optional
dependency: this is the only uat module that imports it, and `import uat` does not import it.

scikit-learn gives samples as rows, X: (n_s, n); the networks take them as columns, as in the
lecture (uat.network): X: (n, n_s), W[l]: (n_l, n_{l-1}), B[l]: (n_l, 1), Z[l] = W[l] @ A[l-1]
+ B[l], A[l] = f(Z[l]). Inputs are standardised per feature (and regression targets per output)
before training, so the networks see well-scaled data whatever the units; predictions are
mapped back.
"""

from numbers import Integral, Real

import numpy as np
from scipy import special
from sklearn.base import BaseEstimator, ClassifierMixin, MultiOutputMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from uat import activations, network, optim, targets, train

MIN_SPLIT = 5  # fewer samples than this: train and validate on all of them


def _standardise(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std of V: (n_s, n); a constant column gets std 1 (no division by 0)."""
    mean, std = V.mean(axis=0), V.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def _split(groups: np.ndarray, fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) sample indices: `fraction` of each group's samples held out at
    random (stratified, so every class keeps at least one training sample). groups: (n_s,).
    Both are all samples when the data are too small to split (or fraction is 0)."""
    every = np.arange(len(groups))
    if fraction == 0 or len(groups) < MIN_SPLIT:
        return every, every
    val = []
    for g in np.unique(groups):
        idx = rng.permutation(np.flatnonzero(groups == g))
        val.append(idx[: min(round(fraction * idx.size), idx.size - 1)])
    val = np.sort(np.concatenate(val))
    if val.size == 0:
        return every, every
    return np.setdiff1d(every, val), val


class _Network(BaseEstimator):
    """What both estimators share: parameters, the batched fit, the forward pass."""

    def __init__(self, width=8, depth=1, activation="tanh", optimizer="lm(steps=300)",
                 n_seeds=8, validation_fraction=0.2, random_state=None):
        self.width = width
        self.depth = depth
        self.activation = activation
        self.optimizer = optimizer
        self.n_seeds = n_seeds
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _check_params(self):
        """Raise ValueError (uat's UserError is one) with a one-line message on a bad one."""
        activations.get(self.activation)
        optim.get(self.optimizer)
        for key in ("width", "depth", "n_seeds"):
            value = getattr(self, key)
            if not isinstance(value, Integral) or isinstance(value, bool):
                raise ValueError(f"`{key}` must be an integer; got {value!r}")
        if self.n_seeds < 1:
            raise ValueError(f"`n_seeds` must be >= 1; got {self.n_seeds}")
        f = self.validation_fraction
        if isinstance(f, bool) or not isinstance(f, Real) or not 0 <= f < 1:
            raise ValueError(f"`validation_fraction` must be in [0, 1); got {f!r}")

    def _fit(self, X: np.ndarray, Y: np.ndarray, groups: np.ndarray, output: str):
        """Train the batch on rows X: (n_s, n) (standardised here) and targets Y: (n_s, m), keep
        the member with the lowest validation error (MSE, or cross-entropy for sigmoid output)."""
        rng = check_random_state(self.random_state)
        seeds = [int(s) for s in rng.randint(2**31 - 1, size=self.n_seeds)]
        tr, val = _split(groups, self.validation_fraction, rng)
        self.validation_split_ = tr.size < X.shape[0]
        self.x_mean_, self.x_scale_ = _standardise(X)
        Xc = np.ascontiguousarray(((X - self.x_mean_) / self.x_scale_).T)  # (n, n_s)
        Yc = np.ascontiguousarray(Y.T, dtype=np.float64)  # (m, n_s)
        shape = network.Shape(X.shape[1], self.width if self.depth else 0, self.depth,
                              Y.shape[1], self.activation, output)
        data = targets.Data(np.ascontiguousarray(Xc[:, tr]), np.ascontiguousarray(Yc[:, tr]),
                            np.ascontiguousarray(Xc[:, val]), np.ascontiguousarray(Yc[:, val]),
                            np.zeros(val.size, bool))
        results = train.train_batch(shape, self.optimizer, seeds, [data] * len(seeds))
        errors = np.array([r.test_mse if output == "affine" else r.test_ce for r in results])
        errors[[r.status == "diverged" for r in results]] = np.nan
        if np.isnan(errors).all():
            raise RuntimeError(f"all {len(seeds)} networks diverged in training with optimizer "
                               f"{self.optimizer!r}; try a smaller lr or another optimizer")
        self.validation_errors_ = errors
        self.best_seed_ = int(np.nanargmin(errors))
        self.shape_ = shape
        self.theta_ = np.array(results[self.best_seed_].theta, dtype=np.float64)  # (P,)
        W, B = network.unpack(self.theta_[None], shape)
        self.W_ = [w[0].copy() for w in W]
        self.B_ = [b[0].copy() for b in B]
        return self

    def _columns(self, X) -> np.ndarray:
        """Rows X: (n_s, n) checked and standardised as in fit, as columns: (n, n_s) float64."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.ascontiguousarray(((X - self.x_mean_) / self.x_scale_).T)


class NetworkRegressor(MultiOutputMixin, RegressorMixin, _Network):
    """Fully connected network regressor: affine output, mean squared error.

    Parameters: `width` units in each of `depth` hidden layers (depth 0: linear regression,
    width ignored), hidden `activation` (a uat spec such as "tanh" or "leaky_relu(slope=0.1)"),
    `optimizer` (a uat spec, "lm(steps=300)" or "adam(lr=1e-2, steps=2000)"), `n_seeds`
    networks trained as one batch, `validation_fraction` of the samples held out to choose
    among them, `random_state` for the seeds and the split.

    X: (n_samples, n_features) and y: (n_samples,) or (n_samples, n_outputs) are standardised
    (per feature and per output: mean 0, std 1; a constant column keeps std 1) before training;
    predictions are mapped back and have y's ndim.

    Attributes: theta_ (P,) the kept network's parameters; W_, B_ its layers l = 1..L, W_[l-1]:
    (n_l, n_{l-1}) and B_[l-1]: (n_l, 1), acting on standardised inputs (columns) and giving
    standardised outputs; shape_ (uat.network.Shape); validation_errors_ (n_seeds,) each
    member's validation MSE in standardised units (NaN if diverged); best_seed_ the kept one;
    validation_split_ False if the data were too small to split and all points served for both
    training and validation; x_mean_, x_scale_ (n_features,); y_mean_, y_scale_ (n_outputs,);
    n_outputs_; n_features_in_.
    """

    def fit(self, X, y):
        """Train n_seeds networks as one batch, keep the best on the validation split."""
        self._check_params()
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        Y = np.asarray(y, dtype=np.float64)
        self._y_1d = Y.ndim == 1
        Y = Y.reshape(len(Y), -1)  # (n_s, m)
        self.n_outputs_ = Y.shape[1]
        self.y_mean_, self.y_scale_ = _standardise(Y)
        return self._fit(X, (Y - self.y_mean_) / self.y_scale_, np.zeros(len(Y)), "affine")

    def predict(self, X):
        """(n_samples,) or (n_samples, n_outputs), as y was in fit, in y's units."""
        Xc = self._columns(X)  # first: it raises NotFittedError before fit
        A = network.predict(self.theta_[None], Xc, self.shape_)  # (1, m, n_s)
        Y = A[0].T * self.y_scale_ + self.y_mean_
        return Y[:, 0] if self._y_1d else Y


class NetworkClassifier(ClassifierMixin, _Network):
    """Fully connected network classifier: sigmoid output(s), binary cross-entropy.

    Two classes: one sigmoid output p = P(classes_[1]). k > 2 classes: one sigmoid per class
    (one-vs-rest targets in one network), normalised to sum 1 for predict_proba. depth 0 is
    logistic regression. Parameters as NetworkRegressor's; inputs are standardised per feature
    before training.

    Attributes: classes_ (any labels, strings too); theta_, W_, B_, shape_ as the regressor's
    (W_, B_ act on standardised inputs; the last layer gives the logits Z[L]);
    validation_errors_ (n_seeds,) validation cross-entropy (NaN if diverged); best_seed_;
    validation_split_; x_mean_, x_scale_; n_features_in_.
    """

    def fit(self, X, y):
        """Train n_seeds networks as one batch, keep the best on the validation split."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        k = len(self.classes_)
        if k < 2:
            raise ValueError(f"NetworkClassifier needs at least 2 classes; got {k} class: "
                             f"{self.classes_.tolist()}")
        Y = codes[:, None] if k == 2 else np.eye(k)[codes]  # (n_s, 1) or one-hot (n_s, k)
        return self._fit(X, Y.astype(np.float64), codes, "sigmoid")

    def _logits(self, X) -> np.ndarray:
        """Z[L]: (n_s, 1 or k), the sigmoids' arguments, on rows X: (n_s, n)."""
        Xc = self._columns(X)  # first: it raises NotFittedError before fit
        Z, _ = network.forward(self.theta_[None], Xc, self.shape_)
        return Z[-1][0].T

    def decision_function(self, X):
        """The logits Z[L]: (n_samples,) for two classes (> 0: classes_[1]), else
        (n_samples, n_classes)."""
        Z = self._logits(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_proba(self, X):
        """(n_samples, n_classes): [1 - p, p] for two classes, else the k sigmoids normalised
        to sum 1 (in log space, so that no row is 0 / 0 when every sigmoid underflows)."""
        Z = self._logits(X)
        if Z.shape[1] == 1:
            return np.hstack([special.expit(-Z), special.expit(Z)])
        return special.softmax(special.log_expit(Z), axis=1)

    def predict(self, X):
        """Class labels: (n_samples,), the class with the largest logit (two: p > 1/2)."""
        Z = self._logits(X)
        codes = (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else np.argmax(Z, axis=1)
        return self.classes_[codes]
