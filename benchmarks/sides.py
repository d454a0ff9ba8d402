"""The sides of a comparison: what a user would otherwise write, and uat, on one workload.

Every side trains every group (one shape, k seeds) of a `Work` from the same initial
parameters (Group.theta0: what uat's train_batch starts from) on the same uat.targets.sample
points, and
returns {"test": {label: [mse per member]}, "train": {...}}. Timing and thread pinning are the
caller's (benchmarks.workloads); a side only trains and measures errors.
"""

import tempfile
import warnings

import joblib
import numpy as np
from scipy.optimize import least_squares

from uat import network, runner, store, study, train

EPS = np.finfo(np.float64).eps  # the smallest tolerances scipy's 'lm' accepts


def _mse(pred, Y) -> float:
    return float(np.mean((np.asarray(pred, np.float64).reshape(Y.shape) - Y) ** 2))


def _collect(out: dict, label, test: float, train_mse: float) -> None:
    out["test"].setdefault(label, []).append(test)
    out["train"].setdefault(label, []).append(train_mse)


def _empty() -> dict:
    return {"test": {}, "train": {}}


# ------------------------------------------------------------------------------ scikit-learn


def _sklearn_fit(work, g, theta, data) -> tuple[float, float]:
    """One MLPRegressor from uat's initial parameters; returns (test MSE, train MSE).

    sklearn has no init argument, so `_init_coef` (called once per layer, in order) is
    overridden to hand out uat's W[l]^T and B[l] instead of its Glorot draws.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    W, B = network.unpack(theta[None], g.shape)
    layers = iter([(Wl[0].T.copy(), Bl[0, :, 0].copy()) for Wl, Bl in zip(W, B, strict=True)])

    class UatInit(MLPRegressor):
        def _init_coef(self, fan_in, fan_out, dtype):
            return next(layers)

    mlp = UatInit(
        hidden_layer_sizes=(g.width,) * g.depth, activation=work.activation, solver="adam",
        learning_rate_init=work.lr, batch_size=data.X.shape[1], max_iter=work.steps,
        shuffle=False, early_stopping=False, alpha=0.0, tol=0.0,
        n_iter_no_change=work.steps + 1,  # never stop early: 1 epoch = 1 full-batch step
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(data.X.T, data.Y.ravel())
    assert mlp.n_iter_ == work.steps, mlp.n_iter_
    return _mse(mlp.predict(data.X_test.T), data.Y_test), _mse(mlp.predict(data.X.T), data.Y)


def sklearn_loop(work, groups, data, jobs: int = 1) -> dict:
    """A loop of MLPRegressor fits (adam, batch = all points, alpha = 0, no early stopping);
    jobs > 1 spreads the fits over joblib's loky processes (1 BLAS thread each)."""
    calls = [(g, g.theta0[i]) for g in groups for i in range(len(g.seeds))]
    if jobs == 1:
        fits = [_sklearn_fit(work, g, th, data) for g, th in calls]
    else:
        fits = joblib.Parallel(n_jobs=jobs, backend="loky")(
            joblib.delayed(_sklearn_fit)(work, g, th, data) for g, th in calls)
    out = _empty()
    for (g, _), (test, train_mse) in zip(calls, fits, strict=True):
        _collect(out, g.label, test, train_mse)
    return out


# ---------------------------------------------------------------------------------- PyTorch


def _torch_act(name: str):
    import torch

    return {"tanh": torch.tanh, "relu": torch.relu}[name]


def torch_loop(work, groups, data, dtype: str) -> dict:
    """One torch.nn.Sequential and one torch.optim.Adam per network, samples as rows."""
    import torch

    tdt = getattr(torch, dtype)
    Act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[work.activation]
    X, Y = (torch.tensor(a.T, dtype=tdt) for a in (data.X, data.Y))
    Xt = torch.tensor(data.X_test.T, dtype=tdt)
    out = _empty()
    for g in groups:
        sizes = g.shape.sizes
        for i in range(len(g.seeds)):
            W, B = network.unpack(g.theta0[i : i + 1], g.shape)
            layers = []
            for l in range(len(W)):
                lin = torch.nn.Linear(sizes[l], sizes[l + 1], dtype=tdt)
                with torch.no_grad():
                    lin.weight.copy_(torch.tensor(W[l][0]))
                    lin.bias.copy_(torch.tensor(B[l][0, :, 0]))
                layers += [lin, Act()] if l < len(W) - 1 else [lin]
            model = torch.nn.Sequential(*layers)
            opt = torch.optim.Adam(model.parameters(), lr=work.lr)
            for _ in range(work.steps):
                opt.zero_grad()
                loss = torch.mean((model(X) - Y) ** 2)
                loss.backward()
                opt.step()
            with torch.no_grad():
                _collect(out, g.label, _mse(model(Xt).double().numpy().T, data.Y_test),
                         _mse(model(X).double().numpy().T, data.Y))
    return out


def torch_batched(work, groups, data, dtype: str) -> dict:
    """Per group, the k members' W[l]: (k, n_l, n_{l-1}) and B[l]: (k, n_l, 1) as stacked
    tensors, Z = baddbmm(B, W, A), one Adam over the stacked tensors. The loss is the sum of
    the members' MSEs, so each member gets its own gradient (Adam is elementwise)."""
    import torch

    tdt, f = getattr(torch, dtype), _torch_act(work.activation)

    def predict(W, B, X):
        A = X.expand(W[0].shape[0], *X.shape[1:])
        for l in range(len(W)):
            Z = torch.baddbmm(B[l], W[l], A)  # (k, n_l, n_{l-1}) @ (k, n_{l-1}, n_s)
            A = f(Z) if l < len(W) - 1 else Z
        return A

    X, Y, Xt = (torch.tensor(a[None], dtype=tdt) for a in (data.X, data.Y, data.X_test))
    out = _empty()
    for g in groups:
        W0, B0 = network.unpack(g.theta0, g.shape)
        W = [torch.tensor(w, dtype=tdt, requires_grad=True) for w in W0]
        B = [torch.tensor(b, dtype=tdt, requires_grad=True) for b in B0]
        opt = torch.optim.Adam(W + B, lr=work.lr)
        for _ in range(work.steps):
            opt.zero_grad()
            loss = torch.mean((predict(W, B, X) - Y) ** 2, dim=(1, 2)).sum()
            loss.backward()
            opt.step()
        with torch.no_grad():
            test, fit = predict(W, B, Xt).double().numpy(), predict(W, B, X).double().numpy()
        for i in range(len(g.seeds)):
            _collect(out, g.label, _mse(test[i], data.Y_test), _mse(fit[i], data.Y))
    return out


# ------------------------------------------------------------------------------------ SciPy


def scipy_lm(work, groups, data) -> dict:
    """A loop of scipy.optimize.least_squares(method="lm") (MINPACK lmder), one network each.

    The residual is uat's forward pass on a k = 1 slice and the analytic Jacobian is
    uat.network.output_jacobian on that slice (plain NumPy back-propagation). Budget: uat's LM
    counts trial steps, each one evaluation of the residual; MINPACK's nfev counts the initial
    evaluation plus one per trial step, so max_nfev = steps + 1 gives both the same number
    of trial steps. All tolerances are at machine epsilon, the smallest 'lm' allows.
    """
    X, y = data.X, data.Y.ravel()
    out = _empty()
    out["nfev"] = []
    for g in groups:
        shape = g.shape

        def fun(th, shape=shape):
            return network.forward(th[None], X, shape)[1][-1].ravel() - y

        def jac(th, shape=shape):
            return network.output_jacobian(th[None], X, shape)[1][0]

        for i in range(len(g.seeds)):
            res = least_squares(fun, g.theta0[i], jac=jac, method="lm",
                                max_nfev=work.steps + 1, ftol=EPS, xtol=EPS, gtol=EPS)
            test = train.evaluate(res.x[None], data.X_test, data.Y_test[None], shape)["mse"][0]
            _collect(out, g.label, float(test), float(np.mean(res.fun**2)))
            out["nfev"].append(res.nfev)
    return out


# -------------------------------------------------------------------------------------- uat


def _optimizer(work, dtype: str, options: str = "") -> str:
    """The work's uat optimizer spec with `dtype` arithmetic (Adam; LM is always float64),
    and `options` ("key=value, ...") added."""
    spec = work.optimizer.replace("dtype='float64'", f"dtype='{dtype}'")
    return f"{spec[:-1]}, {options})" if options else spec


def uat_batches(work, groups, data, dtype: str = "float64", options: str = "") -> dict:
    """uat's engine in this process: one train.train_batch per group (jobs 1, no store);
    the groups' seeds, so `options` (e.g. "scale=True") keeps every initial network."""
    optimizer, out = _optimizer(work, dtype, options), _empty()
    out["steps"] = []
    for g in groups:
        for m in train.train_batch(g.shape, optimizer, g.seeds, [data] * len(g.seeds)):
            _collect(out, g.label, m.test_mse, m.train_mse)
            out["steps"].append(m.steps)
    return out


def uat_study(work, groups, data, dtype: str = "float64", jobs: int = 2) -> dict:
    """uat's runner as `uat run --jobs N` does it: plan, loky workers, CSV store (a temp dir)."""
    the_study = study.parse(work.study_doc(_optimizer(work, dtype)), "<benchmark>")
    with tempfile.TemporaryDirectory(prefix="uat-bench-") as out_dir:
        runner.run_study(the_study, out_dir, jobs=jobs)
        table = store.read(out_dir, the_study.name)
    out = _empty()
    for g in groups:
        rows = table[(table["width"] == g.width) & (table["depth"] == g.depth)]
        assert len(rows) == len(g.seeds), (g.label, len(rows))
        out["test"][g.label] = list(rows["test_mse"])
        out["train"][g.label] = list(rows["train_mse"])
    return out
