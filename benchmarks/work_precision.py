"""Part WP: a work-precision diagram, test error reached against wall time, per width.

Every side trains the same k networks per width (Group.theta0: uat's initial parameters) on
the same points with a ladder of budgets (steps, max_iter or max_nfev, roughly geometric);
each budget is a fresh training from theta0, so each side gives a curve of (wall seconds for
all k networks of a width, median test MSE over the k) per width. uat trains the k as one
batch (train.train_batch), the peers one network at a time, as a user would write them.

Timing: one freshly spawned process per side (no side sees another's imports, threads or
heap), BLAS pinned to 1 thread (threadpoolctl) and torch to 1 (torch.set_num_threads); each
width is warmed up on a 2-iteration run, then each budget is timed with time.perf_counter
(best of 3 when one run takes under MIN_TIMED seconds: results are deterministic, so the
repeats only remove timer and scheduler noise).
"""

import time
import warnings
from typing import NamedTuple

import numpy as np
from scipy.optimize import least_squares
from threadpoolctl import threadpool_limits

from benchmarks import markdown, sides, workloads
from uat import network, optim, train

LEVELS = (1e-3, 1e-5, 1e-7, 1e-9, 1e-10)  # error levels of the table and of the goal
SPEED_UP = 10.0  # the goal: uat reaches every level a peer reaches at least this much sooner
GOAL = ("every error level a peer reaches, uat reaches at least 10x sooner, and uat reaches "
        "1e-10 where they stop")
FIGURE = "work_precision.png"
MIN_TIMED = 0.2  # seconds: a shorter point is timed 3 times and the fastest run kept
EPS = sides.EPS  # the smallest tolerances scipy's 'lm' accepts


class Ladder(NamedTuple):
    """One side of WP: a training function of this module, its budgets and its arguments."""

    name: str
    fn: str  # fn(group, data, budget, **kwargs) -> (test MSE (k,), used (k,), stopped (k,))
    unit: str  # what a budget counts, e.g. "steps" or "max_nfev"
    budgets: tuple[int, ...]  # increasing
    kwargs: dict | None = None
    uat: bool = False  # a uat side (the others are its peers)
    torch: bool = False  # also pin torch's intra-op threads (and import torch)


def work(quick: bool) -> workloads.Work:
    """tanh on sin(2 pi x), depth 1: widths 8, 16, 32 x 8 seeds (quick: widths 8, 16 x 3)."""
    widths, seeds = ((8, 16), 3) if quick else ((8, 16, 32), 8)
    # the optimizer spec fixes the run keys, hence the seeds and theta0, for every side
    return workloads.Work("WP", "sin(freq=2)", "tanh", widths, (1,), seeds,
                          optim.get("lm(ftol=0)").name, 300)


def ladders(quick: bool) -> list[Ladder]:
    """The sides and their budgets; the uat sides first."""
    lm = (5, 10) if quick else (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    adam = (10, 30) if quick else (10, 30, 100, 300, 1000, 3000, 10000)
    lbfgs = (5, 10) if quick else (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
    return [
        Ladder("uat lm", "uat_fit", "steps", lm, {"spec": "lm(steps={steps}, ftol=0)"},
               uat=True),
        Ladder("uat lm(scale=True)", "uat_fit", "steps", lm,
               {"spec": "lm(steps={steps}, ftol=0, scale=True)"}, uat=True),
        Ladder("uat adam float64", "uat_fit", "steps", adam,
               {"spec": "adam(steps={steps}, dtype='float64')"}, uat=True),
        Ladder("uat adam float32", "uat_fit", "steps", adam,
               {"spec": "adam(steps={steps}, dtype='float32')"}, uat=True),
        Ladder("sklearn adam", "sklearn_fit", "max_iter", adam, {"solver": "adam"}),
        Ladder("sklearn lbfgs", "sklearn_fit", "max_iter", lbfgs, {"solver": "lbfgs"}),
        Ladder("torch Adam float32", "torch_fit", "steps", adam,
               {"method": "adam", "dtype": "float32"}, torch=True),
        Ladder("torch LBFGS float64", "torch_fit", "max_iter", lbfgs,
               {"method": "lbfgs", "dtype": "float64"}, torch=True),
        Ladder("SciPy least_squares lm", "scipy_fit", "max_nfev", lm, {"method": "lm"}),
        Ladder("SciPy least_squares trf", "scipy_fit", "max_nfev", lm, {"method": "trf"}),
    ]


# ------------------------------------------------------------------------------------ sides


def uat_fit(g: workloads.Group, data, budget: int, spec: str):
    """All k members of the group as one train.train_batch; spec has a {steps} field."""
    res = train.train_batch(g.shape, spec.format(steps=budget), g.seeds, [data] * len(g.seeds))
    return (np.array([m.test_mse for m in res]), np.array([m.steps for m in res]),
            np.array([m.stop == "converged" for m in res]))


def _sklearn_one(g, theta: np.ndarray, data, budget: int, solver: str):
    """One MLPRegressor from theta (P,), uat's parameters; (test MSE, n_iter_).

    `_init_coef` is overridden to hand out uat's W[l]^T and B[l] (as in sides._sklearn_fit).
    adam: full batch, never stops early; lbfgs: max_iter = budget, gtol = tol = 0 and
    unlimited function evaluations, but L-BFGS-B's own ftol (2.2e-9, not settable through
    MLPRegressor) still ends a fit whose loss stops decreasing.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    W, B = network.unpack(theta[None], g.shape)
    layers = iter([(Wl[0].T.copy(), Bl[0, :, 0].copy()) for Wl, Bl in zip(W, B, strict=True)])

    class UatInit(MLPRegressor):
        def _init_coef(self, fan_in, fan_out, dtype):
            return next(layers)

    if solver == "adam":
        extra = dict(learning_rate_init=1e-2, batch_size=data.X.shape[1], shuffle=False,
                     n_iter_no_change=budget + 1)
    else:
        extra = dict(max_fun=10**9)
    mlp = UatInit(hidden_layer_sizes=(g.width,) * g.depth, activation="tanh", solver=solver,
                  max_iter=budget, alpha=0.0, tol=0.0, early_stopping=False, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(data.X.T, data.Y.ravel())
    return sides._mse(mlp.predict(data.X_test.T), data.Y_test), mlp.n_iter_


def sklearn_fit(g: workloads.Group, data, budget: int, solver: str):
    """A loop of MLPRegressor fits, one per member; stopped = n_iter_ < max_iter."""
    fits = [_sklearn_one(g, th, data, budget, solver) for th in g.theta0]
    used = np.array([n for _, n in fits])
    return np.array([t for t, _ in fits]), used, used < budget


def _torch_net(g, theta: np.ndarray, dtype):
    """nn.Sequential of the group's shape with theta (P,) copied in."""
    import torch

    W, B = network.unpack(theta[None], g.shape)
    layers = []
    for l in range(len(W)):
        lin = torch.nn.Linear(W[l].shape[2], W[l].shape[1], dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(W[l][0]))
            lin.bias.copy_(torch.tensor(B[l][0, :, 0]))
        layers += [lin, torch.nn.Tanh()] if l < len(W) - 1 else [lin]
    return torch.nn.Sequential(*layers)


def _torch_one(model, X, Y, budget: int, method: str) -> tuple[int, bool]:
    """Train model on (X, Y): `budget` Adam steps (lr 1e-2), or one LBFGS.step with
    max_iter = budget (strong Wolfe line search, history 100, tolerances 0); (iterations,
    stopped by itself)."""
    import torch

    def loss_fn():
        return torch.mean((model(X) - Y) ** 2)

    if method == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(budget):
            opt.zero_grad()
            loss_fn().backward()
            opt.step()
        return budget, False
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=budget, tolerance_grad=0,
                            tolerance_change=0, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[next(iter(model.parameters()))]
    stopped = state["n_iter"] < budget and state["func_evals"] < budget * 5 // 4
    return state["n_iter"], stopped


def torch_fit(g: workloads.Group, data, budget: int, method: str, dtype: str):
    """A loop of nn.Sequential models, one per member, samples as rows."""
    import torch

    tdt = getattr(torch, dtype)
    X, Y, Xt = (torch.tensor(a.T, dtype=tdt) for a in (data.X, data.Y, data.X_test))
    test, used, stopped = [], [], []
    for theta in g.theta0:
        model = _torch_net(g, theta, tdt)
        n, stop = _torch_one(model, X, Y, budget, method)
        with torch.no_grad():
            test.append(sides._mse(model(Xt).double().numpy().T, data.Y_test))
        used.append(n)
        stopped.append(stop)
    return np.array(test), np.array(used), np.array(stopped)


def scipy_fit(g: workloads.Group, data, budget: int, method: str):
    """A loop of least_squares(method, max_nfev=budget), residual = uat's forward pass on a
    k = 1 slice, Jacobian = uat.network.output_jacobian; tolerances at machine epsilon (the
    smallest 'lm' accepts); stopped = ended by a tolerance (status > 0)."""
    X, y, shape = data.X, data.Y.ravel(), g.shape

    def fun(th):
        return network.forward(th[None], X, shape)[1][-1].ravel() - y

    def jac(th):
        return network.output_jacobian(th[None], X, shape)[1][0]

    test, used, stopped = [], [], []
    for theta in g.theta0:
        res = least_squares(fun, theta, jac=jac, method=method, max_nfev=budget, ftol=EPS,
                            xtol=EPS, gtol=EPS)
        test.append(train.evaluate(res.x[None], data.X_test, data.Y_test[None], shape)["mse"][0])
        used.append(res.nfev)
        stopped.append(res.status > 0)
    return np.array(test, dtype=float), np.array(used), np.array(stopped)


# ---------------------------------------------------------------------------- measurement


def _timed(fn, *args, **kwargs) -> tuple[float, tuple]:
    """(seconds, fn's result): one run, or the fastest of 3 if one takes under MIN_TIMED."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    best = time.perf_counter() - start
    if best < MIN_TIMED:
        for _ in range(2):
            start = time.perf_counter()
            fn(*args, **kwargs)
            best = min(best, time.perf_counter() - start)
    return best, out


def median(test: np.ndarray) -> float:
    """Median test MSE over the members; a diverged member (NaN) counts as +inf."""
    return float(np.median(np.where(np.isnan(test), np.inf, test)))


def run_ladder(work: workloads.Work, ladder: Ladder, cap: float) -> dict:
    """Every width's budgets in this process, pinned to 1 thread: {"points": {label: [point]},
    "notes": [...], "others": cores other processes used meanwhile}.

    A point is {"budget", "seconds", "median", "test": (k,) list, "used": (k,) list,
    "stopped": members that ended by themselves}. The ladder of a width ends early when every
    member stopped by itself (a larger budget trains the same networks), or when the next
    budget would take over `cap` seconds (projected linearly).
    """
    if ladder.torch:
        import torch

        torch.set_num_threads(1)
    fn, kwargs = globals()[ladder.fn], ladder.kwargs or {}
    out = {"points": {}, "notes": [], "uat_source": workloads.uat_source()}
    start, cpu, busy = time.perf_counter(), workloads.own_seconds(), workloads.busy_seconds()
    with threadpool_limits(1):
        for g in work.groups:
            fn(g, work.data, 2, **kwargs)  # warm-up
            points = out["points"][g.label] = []
            for i, budget in enumerate(ladder.budgets):
                seconds, (test, used, stopped) = _timed(fn, g, work.data, budget, **kwargs)
                points.append({"budget": budget, "seconds": seconds, "median": median(test),
                               "test": test.tolist(), "used": used.tolist(),
                               "stopped": int(stopped.sum())})
                nxt = ladder.budgets[i + 1] if i + 1 < len(ladder.budgets) else None
                if nxt is None:
                    break
                if stopped.all():
                    out["notes"].append(
                        f"{g.label}: every member stopped by itself at {ladder.unit} {budget} "
                        f"(after {used.min()}-{used.max()}); larger budgets not run")
                    break
                if seconds * nxt / budget > cap:
                    out["notes"].append(f"{g.label}: {ladder.unit} {nxt} not run (projected "
                                        f"{seconds * nxt / budget:.0f} s > {cap:.0f} s)")
                    break
    wall = time.perf_counter() - start
    mine = workloads.own_seconds() - cpu
    out["others"] = max(0.0, workloads.busy_seconds() - busy - mine) / wall
    out["wall"] = wall
    return out


def collect(work: workloads.Work, sides_: list[Ladder], cap: float = 30.0, wait: float = 30.0,
            log=print) -> list[dict]:
    """run_ladder of every side in a freshly spawned process, each once the machine is quiet
    (or after `wait` seconds); [{"ladder": Ladder, "points", "notes", "others", "wall",
    "waited"}]."""
    out = []
    for ladder in sides_:
        waited = workloads.wait_quiet(wait)
        res = workloads.in_fresh_process(run_ladder, work, ladder, cap)
        out.append(res | {"ladder": ladder, "waited": waited})
        log(f"  WP {ladder.name}: {res['wall']:.1f} s in its process (others "
            f"{res['others']:.2f})", flush=True)
    return out


# ------------------------------------------------------------------------------- analysis


def time_to(points: list[dict], level: float) -> float | None:
    """Fewest seconds of a point whose median test MSE is <= level (None: never reached)."""
    times = [p["seconds"] for p in points if p["median"] <= level]
    return min(times) if times else None


def uat_time(results: list[dict], label: str, level: float,
             only: str | None = None) -> tuple[float | None, str]:
    """Fastest uat side (or the uat side named `only`) to reach `level` on width `label`:
    (seconds or None, side name)."""
    best = (None, "-")
    for r in results:
        if r["ladder"].uat and only in (None, r["ladder"].name):
            t = time_to(r["points"][label], level)
            if t is not None and (best[0] is None or t < best[0]):
                best = (t, r["ladder"].name)
    return best


def matches(results: list[dict], label: str, only: str | None = None) -> list[tuple]:
    """Every (level, peer, peer seconds, uat seconds or None, uat side) where a peer reaches
    the level on width `label`."""
    out = []
    for r in results:
        for level in LEVELS:
            peer = None if r["ladder"].uat else time_to(r["points"][label], level)
            if peer is not None:
                out.append((level, r["ladder"].name, peer, *uat_time(results, label, level, only)))
    return out


def goal(results: list[dict], label: str, only: str | None = None) -> tuple[bool, list[str]]:
    """Whether GOAL holds on width `label` (uat = its fastest side at each level, or the side
    named `only`), and why not: one line per failure, then the worst peer / uat ratio."""
    why, worst = [], None
    for level, peer, t, ours, who in matches(results, label, only):
        if ours is None:
            why.append(f"{peer} reaches {level:.0e}, uat never")
            continue
        if worst is None or t / ours < worst[0]:
            worst = (t / ours, f"{peer} at {level:.0e}")
        if t / ours < SPEED_UP:
            why.append(f"{peer} reaches {level:.0e} in {t:.3g} s, {who} in {ours:.3g} s: "
                       f"{t / ours:.1f}x")
    if uat_time(results, label, LEVELS[-1], only)[0] is None:
        why.append(f"uat never reaches {LEVELS[-1]:.0e}")
    ok = not why
    if worst is not None:
        why.append(f"worst peer / uat time ratio {worst[0]:.2g}x ({worst[1]})")
    return ok, why


# --------------------------------------------------------------------------------- output


def _cell(t: float | None, ratio: float | None = None) -> str:
    if t is None:
        return "never"
    return f"{t:.3g} s" + ("" if ratio is None else f" ({ratio:.3g}x)")


def width_table(results: list[dict], label: str) -> list[str]:
    """One row per side: best median, budget used there, time to each level (peer rows:
    peer time / fastest uat time in parentheses)."""
    rows = []
    for r in results:
        points, lad = r["points"][label], r["ladder"]
        best = min(points, key=lambda p: (p["median"], p["seconds"]))
        cells = []
        for level in LEVELS:
            t, ours = time_to(points, level), uat_time(results, label, level)[0]
            ratio = t / ours if not lad.uat and t is not None and ours is not None else None
            cells.append(_cell(t, ratio))
        top = points[-1]
        rows.append([lad.name, f"{best['median']:.2e}", f"{best['seconds']:.3g} s",
                     f"{lad.unit} {best['budget']}", f"{top['budget']}", *cells])
    return markdown.table(["side", "best median test MSE", "its time", "at", "largest run",
                   *(f"t({level:.0e})" for level in LEVELS)], rows)


def stops(results: list[dict]) -> list[str]:
    """Per side: where its members stopped by themselves (the largest run of each width)."""
    out = []
    for r in results:
        lad, parts = r["ladder"], []
        for label, points in r["points"].items():
            top = points[-1]
            if top["stopped"]:
                parts.append(f"{label}: {top['stopped']}/{len(top['used'])} members ended "
                             f"before {lad.unit} {top['budget']} (after {min(top['used'])}-"
                             f"{max(top['used'])})")
        if parts or r["notes"]:
            out.append(f"- {lad.name}: " + "; ".join(parts + [n for n in r["notes"]
                                                               if "not run (projected" in n]))
    return out


def figure(work: workloads.Work, results: list[dict], path) -> None:
    """Log-log, one panel per width, one line per side: wall seconds vs median test MSE."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    n = len(work.groups)
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 5.4), sharex=True, sharey=True,
                             squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, g in zip(axes[0], work.groups, strict=True):
        for i, r in enumerate(results):
            pts, lad = r["points"][g.label], r["ladder"]
            ax.loglog([p["seconds"] for p in pts], [p["median"] for p in pts],
                      "-" if lad.uat else "--", marker="o" if lad.uat else ".",
                      color=colors[i % len(colors)], lw=2 if lad.uat else 1.2, label=lad.name)
            if pts[-1]["stopped"] == len(pts[-1]["used"]):  # all stopped by themselves
                ax.plot(pts[-1]["seconds"], pts[-1]["median"], "x", ms=9,
                        color=colors[i % len(colors)])
        for level in LEVELS:
            ax.axhline(level, color="0.85", lw=0.8, zorder=0)
        ax.set_title(f"tanh width {g.width} (P = {g.shape.n_params}), {len(g.seeds)} networks")
        ax.set_xlabel("wall seconds, all networks of the width (1 core)")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel(f"test MSE, median over {work.seeds} seeds")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=5, fontsize=8,
               title=f"median over {work.seeds} seeds of test MSE; x: every member stopped "
                     "by itself")
    fig.suptitle(f"Work-precision: {work.target}, n_train {work.n_train}, n_test "
                 f"{work.n_test}; uat solid (one batch), peers dashed (one network at a time)")
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def section(work: workloads.Work, results: list[dict], figure_name: str | None, quick: bool,
            provenance: str) -> list[str]:
    """The markdown section of part WP; `provenance`: a line naming the command, date and
    uat source (the section may be pasted into a report of other parts' run)."""
    out = [f"### WP: work-precision, {work.target}, {work.activation}, widths "
           f"{list(work.widths)}, depth 1, {work.seeds} seeds, n_train {work.n_train}, "
           f"n_test {work.n_test}", "",
           provenance, ""]
    if quick:
        out += ["(--quick: a smoke test of tiny ladders; the numbers and verdicts mean "
                "nothing)", ""]
    out += [
        "Each side restarts from uat's initial networks (Group.theta0) for every budget of "
        "its ladder; a point = (wall seconds to train and test all networks of the width, "
        "median test MSE over the seeds). uat trains a width's networks as one batch, the "
        "peers one at a time. One spawned process per side, 1 BLAS/torch thread, each width "
        f"warmed up, points under {MIN_TIMED} s timed 3 times (fastest kept).", "",
        "Sides and ladders: " + "; ".join(
            f"{r['ladder'].name} ({r['ladder'].unit} {r['ladder'].budgets[0]}.."
            f"{r['ladder'].budgets[-1]})" for r in results) + ".", "",
        "- uat `lm(steps=S, ftol=0)` (float64, Nielsen damping), the same with `scale=True` "
        "(Moré's damping scale, as MINPACK; off by default), `adam(lr=0.01, steps=S)` in "
        "float64 and float32.",
        "- scikit-learn `MLPRegressor(tanh, alpha=0, tol=0)`, uat's initial parameters via "
        "`_init_coef`: solver='adam' (lr 0.01, batch = all points, no shuffle, never stops "
        "early); solver='lbfgs' (max_fun 1e9; L-BFGS-B's own ftol 2.2e-9 relative to "
        "max(|loss|, 1) is not settable through MLPRegressor and ends fits by itself).",
        "- torch `nn.Sequential`, one network at a time: `Adam(lr=0.01)` in float32 (torch's "
        "default); `LBFGS(lr=1, max_iter=S, line_search_fn='strong_wolfe', tolerance_grad=0, "
        "tolerance_change=0)` in float64, one `.step`.",
        "- SciPy `least_squares(method='lm' | 'trf', max_nfev=S)`, residual and Jacobian from "
        "uat's forward pass and `network.output_jacobian`, tolerances at machine epsilon.", "",
        f"![work-precision]({figure_name})" if figure_name else "(no figure: no --out)", "",
        "t(level) = fewest wall seconds of a point whose median test MSE is <= level ('never': "
        "not within the largest run); in parentheses for peers: peer time / time of the "
        "fastest uat side at that level (> 1: uat is faster).", ""]
    for g in work.groups:
        out += [f"{g.label} (P = {g.shape.n_params}):", "", *width_table(results, g.label), ""]
    notes = stops(results)
    if notes:
        out += ["Where a side ends by itself, or its ladder was cut:", "", *notes, ""]
    out += [f"Goal: {GOAL}. uat = its fastest side at each level; then uat's default `lm` "
            "alone.", ""]
    for g in work.groups:
        for only in (None, "uat lm"):
            ok, why = goal(results, g.label, only)
            out.append(f"- {g.label}, {only or 'fastest uat side'}: "
                       f"{'met' if ok else 'NOT met'}: " + "; ".join(why))
    shas = sorted({r["uat_source"] for r in results})
    if len(shas) > 1:
        out += ["", f"WARNING: uat's source changed during the run (sha256 {', '.join(shas)}):"
                " its sides did not all measure the same engine."]
    loaded = [f"{r['ladder'].name} {r['others']:.2f}" for r in results if r["others"] > 0.1]
    out += ["", "Other processes' load during a side (cores, shown above 0.1): "
            + (", ".join(loaded) if loaded else "none"), ""]
    return out

