"""Optimizers for a batch of k networks: full-batch Adam and batched Levenberg-Marquardt.

Each optimizer is a frozen config (built from a spec such as "lm(steps=300)"), a NamedTuple
state and a pure update; `minimize` runs the loop with per-member stopping. A member whose loss
becomes NaN/inf or grows past 1e4 x its initial loss is frozen and marked `diverged`; the
others go on. The loop never raises or warns for a diverging member.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from uat import spec
from uat.errors import SpecError

MAX_STEPS = 10**7  # a run's step budget (a study's time is checked as a whole, see uat run)
REVIVE_EVERY = 25  # with lm(revive=R): look at running members this often (steps) ...
STALL = 0.3  # ... and renew those whose loss fell by less than this fraction since
EXPLODE = 1e4  # a loss above EXPLODE x the initial loss counts as diverged (README)
STATUS = {
    "converged": "stopped by a tolerance (gradient norm, relative improvement or zero loss)",
    "max_steps": "used its whole step budget",
    "diverged": "loss became NaN/inf or exceeded 1e4 x the initial loss; frozen there",
}


@dataclass(frozen=True)
class Adam:
    """Adam, full batch, bias-corrected (Kingma & Ba 2015, arXiv:1412.6980)."""

    name: str  # canonical spec
    lr: float  # step size alpha
    steps: int  # step budget per member
    b1: float  # decay of the first moment m
    b2: float  # decay of the second moment v
    eps: float  # added to sqrt(v_hat)
    gtol: float  # stop a member when max |grad| <= gtol (0: off)
    ftol: float  # stop when the best loss improves by < ftol (relative) over `window` steps
    window: int  # steps between ftol checks
    dtype: str  # "float64" or "float32" arithmetic


@dataclass(frozen=True)
class LevenbergMarquardt:
    """Damped Gauss-Newton with Nielsen's damping rule (Madsen, Nielsen & Tingleff 2004,
    "Methods for non-linear least squares problems", sec. 3.2), every member its own damping."""

    name: str  # canonical spec
    steps: int  # iteration budget per member (accepted and rejected steps both count)
    tau: float  # initial damping mu = tau * max diag(J^T J)
    ftol: float  # stop after an accepted step that improves the loss by < ftol (relative)
    gtol: float  # stop when max |grad| <= gtol
    scale: bool = False  # damp with mu D^2 (Moré 1978) instead of mu I
    revive: int = 20  # rounds of renewing units of a stalled or stopped member (uat.revive)
    dtype: str = "float64"  # always float64: the normal equations square the condition number


def _check(name: str, key: str, ok: bool, value, allowed: str):
    if not ok:
        raise SpecError(f"optimizer '{name}': '{key}' must be {allowed}; got {value!r}")


def adam(
    lr: float = 1e-2,
    steps: int = 2000,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    gtol: float = 0.0,
    ftol: float = 0.0,
    window: int = 100,
    dtype: str = "float32",
) -> Adam:
    """Spec `adam(lr=1e-2, steps=2000, ...)`. Arithmetic in float32 by default: on the W1
    benchmark (benchmarks/results.md) it halves the time at equal median error per width,
    because Adam's errors (1e-5 and up here) sit far above float32 rounding; errors are
    still measured in float64. `dtype='float64'` when an Adam run must go lower."""
    _check("adam", "lr", math.isfinite(lr) and lr > 0, lr, "a positive number")
    _check("adam", "steps", 1 <= steps <= MAX_STEPS, steps, f"an integer from 1 to {MAX_STEPS:,}")
    _check("adam", "b1", 0 <= b1 < 1, b1, "in [0, 1)")
    _check("adam", "b2", 0 <= b2 < 1, b2, "in [0, 1)")
    _check("adam", "eps", eps > 0, eps, "> 0")
    _check("adam", "gtol", gtol >= 0, gtol, ">= 0")
    _check("adam", "ftol", 0 <= ftol < 1, ftol, "in [0, 1)")
    _check("adam", "window", window >= 1, window, "an integer >= 1")
    _check("adam", "dtype", dtype in ("float64", "float32"), dtype, "'float64' or 'float32'")
    kw = dict(lr=lr, steps=steps, b1=b1, b2=b2, eps=eps, gtol=gtol, ftol=ftol, window=window,
              dtype=dtype)
    return Adam(spec.canonical("adam", kw), **kw)


def lm(steps: int = 300, tau: float = 1e-3, ftol: float = 1e-10, gtol: float = 0.0,
       scale: bool = False, revive: int = 20):
    """Spec `lm(steps=300, ...)`: Levenberg-Marquardt for networks of up to a few hundred
    parameters (the normal equations are (P, P) per member).

    scale=True damps each parameter by the running maximum of its diag(J^T J) (Moré 1978, as
    MINPACK and SciPy's least_squares(method='lm') do) instead of uniformly, with the initial
    damping tau relative to it. Measured (benchmarks/results.md, W3): 10x lower error on
    tanh nets of width 16-32 on sin(pi x), but worse on the smoke studies (XOR, narrow ReLU,
    gaussian units), so off by default. It enters the canonical spec only when on, so run keys
    of existing `lm(...)` runs are unchanged.

    revive=R (default 20; 0 is plain LM): a member that stops before its budget, or gains
    less than STALL of its loss in REVIVE_EVERY steps, has its units renewed (uat.revive):
    dead units re-placed without changing the function, then, for piecewise-linear
    activations, one unit exchanged for a better one if a draw finds one. The loss never
    rises; at most R renewals per member, and the steps after one count in `steps`.
    Measured in benchmarks/trainability.md: ReLU nets reach 10-100x lower errors, e.g.
    shallow ReLU at width 16 on sin(4 pi x) (the width study's runs) median 0.17 -> 0.0024,
    the NMR spectrum at width 32 17.3 -> 0.17; smooth nets change only where a unit died.
    The canonical spec always names it: a spec without it meant plain LM before it existed,
    so runs stored then (whose optimizer reads `lm(...)` without `revive`) are never taken
    for either."""
    _check("lm", "steps", 1 <= steps <= MAX_STEPS, steps, f"an integer from 1 to {MAX_STEPS:,}")
    _check("lm", "tau", math.isfinite(tau) and tau > 0, tau, "a positive number")
    _check("lm", "ftol", 0 <= ftol < 1, ftol, "in [0, 1)")
    _check("lm", "gtol", gtol >= 0, gtol, ">= 0")
    _check("lm", "scale", isinstance(scale, bool), scale, "true or false")
    _check("lm", "revive", not isinstance(revive, bool) and 0 <= revive <= 1000, revive,
           "an integer from 0 to 1,000")
    kw = dict(steps=steps, tau=tau, ftol=ftol, gtol=gtol)
    named = {**kw, **({"scale": True} if scale else {}), "revive": revive}
    return LevenbergMarquardt(spec.canonical("lm", named), **kw, scale=scale, revive=revive)


OPTIMIZERS: dict[str, Callable] = {"adam": adam, "lm": lm}


def get(text: str) -> Adam | LevenbergMarquardt:
    """The optimizer config named by a spec such as "lm(steps=300)"."""
    return spec.resolve(text, OPTIMIZERS, "optimizer").value


class OptimResult(NamedTuple):
    """What `minimize` returns for a batch of k members."""

    theta: np.ndarray  # (k, P) final parameters (frozen where diverged)
    loss: np.ndarray  # (k,) loss at theta (NaN-free only for members not diverged)
    steps: np.ndarray  # (k,) steps taken
    status: np.ndarray  # (k,) one of STATUS's keys


# ---------------------------------------------------------------------------------- Adam


class AdamState(NamedTuple):
    t: int  # steps taken
    m: np.ndarray  # (k, P) first-moment estimate
    v: np.ndarray  # (k, P) second-moment estimate


def adam_init(theta: np.ndarray) -> AdamState:
    return AdamState(0, np.zeros_like(theta), np.zeros_like(theta))


def adam_update(grad: np.ndarray, state: AdamState, cfg: Adam, out: np.ndarray | None = None):
    """One Adam step: returns (step to add to theta, new state). grad: (k, P).

    The moments are updated in place (the new state holds the same m and v arrays; a
    training loop owns them) and the step is written into `out` when given: about a dozen
    array operations and no allocation per step. Bias correction is folded into two scalars,
    lr sqrt(1 - b2^t) / (1 - b1^t) and eps sqrt(1 - b2^t), which is Kingma & Ba's update
    (sec. 2, "efficient version") written without the m_hat and v_hat arrays.
    """
    t = state.t + 1
    m, v = state.m, state.v
    tmp = np.empty_like(grad) if out is None else out
    m *= cfg.b1
    np.multiply(grad, 1 - cfg.b1, out=tmp)
    m += tmp  # m = b1 m + (1 - b1) g
    np.multiply(grad, grad, out=tmp)
    tmp *= 1 - cfg.b2
    v *= cfg.b2
    v += tmp  # v = b2 v + (1 - b2) g^2
    root = math.sqrt(1 - cfg.b2**t)
    np.sqrt(v, out=tmp)
    tmp += cfg.eps * root
    np.divide(m, tmp, out=tmp)
    tmp *= -cfg.lr * root / (1 - cfg.b1**t)
    return tmp, AdamState(t, m, v)


def _run_adam(cfg: Adam, theta, value_and_grad, value):
    k = theta.shape[0]
    theta = theta.copy()
    state = adam_init(theta)
    step = np.empty_like(theta)
    stopped = np.full(k, cfg.steps, dtype=np.int64)  # step at which each member stopped
    status = np.full(k, "max_steps", dtype=object)
    active = np.ones(k, dtype=bool)
    limit = best = last_best = None

    def stop(mask, why, t):
        nonlocal active
        status[mask], stopped[mask] = why, t
        active = active & ~mask

    for t in range(cfg.steps):
        loss, grad = value_and_grad(theta)
        if limit is None:
            limit = EXPLODE * loss
            best, last_best = loss.copy(), loss.copy()
        fine = loss <= limit  # NaN compares False: caught here too
        if not fine.all():
            stop(active & ~fine, "diverged", t)
        if cfg.gtol > 0:
            stop(active & (np.max(np.abs(grad), axis=1) <= cfg.gtol), "converged", t)
        if cfg.ftol > 0:
            np.fmin(best, loss, out=best)
            if t > 0 and t % cfg.window == 0:
                stop(active & (last_best - best <= cfg.ftol * last_best), "converged", t)
                last_best = best.copy()
        if not active.any():
            break
        _, state = adam_update(grad, state, cfg, out=step)
        if not active.all():
            step[~active] = 0
        theta += step
    loss = value(theta)
    late = (status != "diverged") & ~(loss <= limit)  # the very last step blew up
    status[late] = "diverged"
    return OptimResult(theta, loss, stopped, status)


# ------------------------------------------------------------------- Levenberg-Marquardt


class LMState(NamedTuple):
    mu: np.ndarray  # (k,) damping
    nu: np.ndarray  # (k,) growth factor of mu after a rejected step


def lm_step(g: np.ndarray, H: np.ndarray, mu: np.ndarray, D2: np.ndarray | None = None):
    """Solve (H + mu D^2) delta = -g for every member at once (D = I without D2).

    g : (k, P) gradient; H : (k, P, P) Gauss-Newton matrix; mu : (k,); D2 : (k, P).
    Returns delta (k, P) and the reduction the quadratic model predicts,
    L(0) - L(delta) = 1/2 delta^T (mu D^2 delta - g): (k,).
    """
    damp = mu[:, None] if D2 is None else mu[:, None] * D2  # (k, 1) or (k, P)
    M = H.copy()
    np.einsum("kpp->kp", M)[...] += damp  # the diagonal, as a writable view
    try:
        delta = np.linalg.solve(M, -g[..., None])[..., 0]  # (k, P, P) \ (k, P, 1) -> (k, P)
    except np.linalg.LinAlgError:  # one member's system is singular: solve them one by one
        delta = np.stack([_solve_one(Mi, -gi) for Mi, gi in zip(M, g, strict=True)])
    predicted = 0.5 * np.einsum("kp,kp->k", delta, damp * delta - g)
    return delta, predicted


def _solve_one(M: np.ndarray, b: np.ndarray) -> np.ndarray:
    """M x = b, or no step (x = 0, then rejected and the damping raised) if M is singular."""
    try:
        return np.linalg.solve(M, b)
    except np.linalg.LinAlgError:
        return np.zeros_like(b)


def lm_damping(state: LMState, rho: np.ndarray, accepted: np.ndarray) -> LMState:
    """Nielsen's rule: after an accepted step with gain ratio rho, mu *= max(1/3, 1-(2rho-1)^3)
    and nu = 2; after a rejected one, mu *= nu and nu doubles."""
    shrink = np.maximum(1 / 3, 1 - (2 * rho - 1) ** 3)
    mu = np.where(accepted, state.mu * shrink, state.mu * state.nu)
    nu = np.where(accepted, 2.0, 2 * state.nu)
    return LMState(mu, nu)


def _run_lm(cfg: LevenbergMarquardt, theta, gauss_newton, value, renew=None):
    """gauss_newton(theta_sub, idx) -> (loss, g, H) and value(theta_sub, idx) -> loss for the
    members `idx`; only members still running are computed, and the Jacobian only after an
    accepted step (a rejected step just raises the damping).

    renew(theta_sub, idx, rounds, steps) -> (theta_sub, changed (n,)) with cfg.revive: a
    member that stops early or stalls is handed to it (at most cfg.revive times: every try
    of a stopped member counts, only renewals that changed something for a running one)
    and, if changed, goes on from there with fresh damping. A member depends on
    its own numbers only, so the batch it is in never changes its result."""
    k = theta.shape[0]
    theta = theta.copy()
    everyone = np.arange(k)
    loss, g, H = gauss_newton(theta, everyone)
    hmax = _diag_max(H)  # (k,) the scale of each member's H
    scaled = cfg.scale
    D2 = _scaling(H, None) if scaled else None  # mu D^2 replaces mu I; mu is then relative
    mu0 = np.full(k, cfg.tau) if scaled else cfg.tau * np.where(hmax > 0, hmax, 1.0)
    state = LMState(mu0, np.full(k, 2.0))
    steps = np.zeros(k, dtype=np.int64)
    status = np.full(k, "max_steps", dtype=object)
    finite = np.isfinite(loss) & np.isfinite(g).all(axis=1)
    status[~finite] = "diverged"
    done = ~finite | (np.max(np.abs(g), axis=1) <= cfg.gtol) | (loss == 0)
    status[finite & done] = "converged"
    tiny, eps = np.finfo(theta.dtype).tiny, np.finfo(theta.dtype).eps
    rounds = np.zeros(k, dtype=np.int64)  # revivals so far
    last = np.full(k, np.inf)  # a running member's loss at its last look (every REVIVE_EVERY)
    renewed = np.full(k, -REVIVE_EVERY, dtype=np.int64)  # step of the last renewal: the
    # relative-improvement stop waits REVIVE_EVERY steps after one (a refitted output layer
    # makes the first steps small, which is no sign of convergence)
    while True:
        if renew is not None and cfg.revive:
            # members that stopped early, and running members that gained less than STALL
            # over the last REVIVE_EVERY steps
            look = ~done & (steps > 0) & (steps % REVIVE_EVERY == 0)  # running members step
            stalled = look & (loss > (1 - STALL) * last)  # once per pass: one look per step
            last[look] = loss[look]
            due = (done & (status == "converged")) | stalled
            again = np.flatnonzero(due & (rounds < cfg.revive) & (steps < cfg.steps)
                                   & (loss > 0))
            if again.size:
                new, changed = renew(theta[again], again, rounds[again] + 1, steps[again])
                # a stopped member tries again with fresh draws until the budget is spent;
                # a stalled one is still running, and pays only for a renewal that took
                rounds[again[changed | done[again]]] += 1
                go = again[changed]
                if go.size:
                    renewed[go] = steps[go]
                    theta[go] = new[changed]
                    loss[go], g[go], H[go] = gauss_newton(theta[go], go)
                    hmax[go] = _diag_max(H[go])
                    if scaled:
                        D2[go] = _scaling(H[go], None)
                    state.mu[go] = cfg.tau if scaled else cfg.tau * np.where(hmax[go] > 0,
                                                                             hmax[go], 1.0)
                    state.nu[go] = 2.0
                    status[go], done[go] = "max_steps", False
        idx = np.flatnonzero(~done & (steps < cfg.steps))
        if idx.size == 0:
            retry = done & (status == "converged") & (rounds < cfg.revive) & (steps < cfg.steps)
            if renew is not None and cfg.revive and (retry & (loss > 0)).any():
                continue  # stopped members with tries left: each try is a round, so this ends
            break
        rows = slice(None) if idx.size == k else idx  # all: views, not copies of H and g
        delta, predicted = lm_step(g[rows], H[rows], state.mu[idx],
                                   None if D2 is None else D2[rows])
        trial = theta[rows] + delta
        new = value(trial, idx)
        rho = (loss[idx] - new) / np.maximum(predicted, tiny)
        ok = np.isfinite(new) & (new < loss[idx]) & (predicted > 0)
        steps[idx] += 1
        sub = lm_damping(LMState(state.mu[idx], state.nu[idx]), np.nan_to_num(rho), ok)
        # keep mu above rounding relative to H's scale: a saturated net (BCE with p -> 0/1)
        # has H -> 0, and a vanishing mu would leave H + mu I singular
        # (scaled: mu D^2 >= eps max(max D^2, 1) likewise)
        floor = eps * (np.maximum(1.0, 1.0 / np.max(D2[idx], axis=1)) if scaled
                       else np.maximum(hmax[idx], 1.0))
        state.mu[idx], state.nu[idx] = np.maximum(sub.mu, floor), sub.nu
        acc = idx[ok]
        if acc.size:
            old = loss[acc]
            theta[acc] = trial[ok]
            loss[acc], g[acc], H[acc] = gauss_newton(theta[acc], acc)
            hmax[acc] = _diag_max(H[acc])
            if scaled:
                D2[acc] = _scaling(H[acc], D2[acc])
            gnorm = np.max(np.abs(g[acc]), axis=1)
            slow = (old - loss[acc] <= cfg.ftol * old) & (steps[acc] - renewed[acc] >= REVIVE_EVERY)
            stop = slow | (gnorm <= cfg.gtol) | (loss[acc] == 0)
            status[acc[stop]] = "converged"
            done[acc[stop]] = True
        # a damping so large that steps vanish below rounding: nothing left to gain
        rej = idx[~ok]
        stuck = state.mu[rej] > 1e16 * (1.0 if scaled else np.maximum(hmax[rej], tiny))
        status[rej[stuck]] = "converged"
        done[rej[stuck]] = True
        done |= steps >= cfg.steps
    return OptimResult(theta, loss, steps, status)


def _diag_max(H: np.ndarray) -> np.ndarray:
    return np.max(np.diagonal(H, axis1=1, axis2=2), axis=1)


def _scaling(H: np.ndarray, D2: np.ndarray | None) -> np.ndarray:
    """Moré's (1978) damping scale D^2: the running maximum of diag(H) per parameter; a
    parameter whose column of J has always been zero (a dead unit) gets the largest."""
    d = np.diagonal(H, axis1=1, axis2=2).copy()
    if D2 is not None:
        np.maximum(d, D2, out=d)
    top = np.max(d, axis=1, keepdims=True)
    return np.where(d > 0, d, np.where(top > 0, top, 1.0))


def minimize(cfg, theta, *, value_and_grad=None, gauss_newton=None, value=None, renew=None):
    """Run `cfg`'s optimizer from theta: (k, P) to the end of every member.

    Adam needs value_and_grad(theta) -> (loss (k,), grad (k, P)) and value(theta) -> (k,);
    Levenberg-Marquardt needs gauss_newton(theta_sub, idx) -> (loss, g, H) and
    value(theta_sub, idx) -> loss on the members idx, and with `revive` on,
    renew(theta_sub, idx, rounds, steps) (see _run_lm). Floating-point warnings of diverging
    members are silenced: divergence is a status, not a warning.
    """
    with np.errstate(all="ignore"):
        if isinstance(cfg, Adam):
            return _run_adam(cfg, theta, value_and_grad, value)
        if isinstance(cfg, LevenbergMarquardt):
            return _run_lm(cfg, theta, gauss_newton, value, renew)
    raise TypeError(f"unknown optimizer config {cfg!r}")
