"""Where uat's W1 training step spends its time (k = 5 members, n_s = 256, tanh, depth 1).

uat's engine is measured only through train.train_batch, so this holds whatever the engine
does inside: a step's cost is the marginal one, (T(long) - T(short)) / (long - short) steps,
so setup and test errors drop out. The NumPy kernels that any depth-1 step must run are timed
alone at the same shapes, into preallocated buffers (best of 5 loops), BLAS on one thread:
  step      marginal µs per Adam step of train_batch;  faults  its minor page faults per step
            (a difference of two runs: noise can make it slightly negative)
  fixed     ms per train_batch call outside the steps (init, setup, final loss, test errors)
  Z         the first layer, [W1 | B1] @ [X; 1]: (k, w, 2) @ (2, n_s), one matmul
  tanh      np.tanh(Z) on (k, w, n_s);  tanh'  1 - A*A (in place)
  out       the two matmuls of the output layer: [W2 | B2] @ [A1; 1] and delta @ [A1; 1]^T
  back      the first layer's gradient with W2 folded out (uat.network.gradient_fn):
            delta * [X; 1] and f'(Z1) @ (delta * [X; 1])^T
  adam      the Adam update on (k, P), in place (11 elementwise calls)
  1 op      one tiny NumPy call (np.multiply of two (5, 1, 1) arrays into a buffer)
  rest      step - (Z + tanh + tanh' + out + back + adam): above the kernel floor
            (Python, small ops, the loss, divergence checks, page faults)
  tuned     step, and faults, in a process started with MALLOC_MMAP_THRESHOLD_=2**28,
            MALLOC_TRIM_THRESHOLD_=2**30 (glibc keeps freed memory: no page faults)
Each table comes from a fresh process (the benchmark's own heap is retuned by big matmuls).
"""

import cProfile
import pstats
import resource
import time

import numpy as np
from threadpoolctl import threadpool_limits

from uat import network, targets, train

K, N_S = 5, 256


def _best(fn, reps: int, repeat: int = 5) -> float:
    """Microseconds per call: best of `repeat` loops of `reps` calls."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - start) / reps)
    return best * 1e6


def _train(width: int, dtype: str, data, steps: int, k: int = K) -> tuple[float, int]:
    """Seconds and minor page faults of one train.train_batch call."""
    shape = network.Shape(1, width, 1, 1, "tanh")
    spec = f"adam(lr=0.01, steps={steps}, dtype='{dtype}')"
    faults, start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
    train.train_batch(shape, spec, list(range(k)), [data] * k)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def marginal(width: int, dtype: str, data, steps: tuple[int, int], k: int = K) -> dict:
    """µs and faults per step, and fixed ms per call, of train_batch (short and long run)."""
    (t0, f0), (t1, f1) = (_train(width, dtype, data, n, k) for n in steps)
    per = (t1 - t0) / (steps[1] - steps[0])
    return {"step": per * 1e6, "faults": (f1 - f0) / (steps[1] - steps[0]),
            "fixed": (t0 - per * steps[0]) * 1e3}


def kernels(width: int, dtype: str, reps: int) -> dict:
    """µs of the NumPy work a depth-1 step cannot avoid, at W1's shapes."""
    rng, dt = np.random.default_rng(0), np.dtype(dtype)
    Xa = np.stack([np.linspace(-1, 1, N_S), np.ones(N_S)]).astype(dt)  # [X; 1], shared
    M1 = rng.standard_normal((K, width, 2)).astype(dt)
    M2 = rng.standard_normal((K, 1, width + 1)).astype(dt)
    Z = rng.standard_normal((K, width, N_S)).astype(dt)
    Aa = np.ones((K, width + 1, N_S), dt)
    np.tanh(Z, out=Aa[:, :-1])
    delta, out = rng.standard_normal((K, 1, N_S)).astype(dt), np.empty((K, 1, N_S), dt)
    dM1, dM2 = np.empty((K, width, 2), dt), np.empty((K, 1, width + 1), dt)
    V = np.empty((K, 2, N_S), dt)
    P = 3 * width + 1
    g, m, v, step, theta = (rng.random((K, P)).astype(dt) for _ in range(5))
    tiny, tiny_out = np.ones((K, 1, 1), dt), np.empty((K, 1, 1), dt)

    def adam():  # m, v moments; step = m_hat / (sqrt(v_hat) + eps); theta -= lr step
        np.multiply(m, 0.9, out=m)
        np.multiply(g, 0.1, out=step)
        np.add(m, step, out=m)
        np.multiply(v, 0.999, out=v)
        np.multiply(g, g, out=step)
        np.multiply(step, 0.001, out=step)
        np.add(v, step, out=v)
        np.sqrt(v, out=step)
        np.add(step, 1e-8, out=step)
        np.divide(m, step, out=step)
        np.subtract(theta, step, out=theta)

    def tanh_prime():
        np.multiply(Aa[:, :-1], Aa[:, :-1], out=Z)
        np.subtract(1, Z, out=Z)

    def back():
        np.multiply(delta, Xa, out=V)
        np.matmul(Z, V.transpose(0, 2, 1), out=dM1)

    return {
        "Z": _best(lambda: np.matmul(M1, Xa, out=Z), reps),
        "tanh": _best(lambda: np.tanh(Z, out=Aa[:, :-1]), reps),
        "tanh'": _best(tanh_prime, reps),
        "out": _best(lambda: (np.matmul(M2, Aa, out=out),
                              np.matmul(delta, Aa.transpose(0, 2, 1), out=dM2)), reps),
        "back": _best(back, reps),
        "adam": _best(adam, reps),
        "1 op": _best(lambda: np.multiply(tiny, tiny, out=tiny_out), reps),
    }


def calls_per_step(data, steps: tuple[int, int]) -> float:
    """Python-level function and C-method calls per Adam step at width 1 (cProfile, marginal)."""
    counts = []
    for n in steps:
        prof = cProfile.Profile()
        prof.enable()
        _train(1, "float64", data, n)
        prof.disable()
        counts.append(pstats.Stats(prof).total_calls)
    return (counts[1] - counts[0]) / (steps[1] - steps[0])


def _setup(quick: bool):
    data = targets.sample(targets.get("sin(freq=2)"), N_S, 2048)
    widths = (1, 8, 128) if quick else (1, 2, 4, 8, 16, 32, 64, 128)
    return data, widths, (20, 100) if quick else (200, 2000)


def steps_only(quick: bool) -> dict:
    """{dtype: {width: marginal(...)}}, BLAS 1 thread (for the malloc-tuned process)."""
    data, widths, steps = _setup(quick)
    with threadpool_limits(1):
        return {dt: {w: marginal(w, dt, data, steps) for w in widths}
                for dt in ("float64", "float32")}


def profile(quick: bool) -> dict:
    data, widths, steps = _setup(quick)
    reps = 30 if quick else 200
    with threadpool_limits(1):
        rows = {dt: {w: {**marginal(w, dt, data, steps), **kernels(w, dt, reps)}
                     for w in widths} for dt in ("float64", "float32")}
        small = (1, 2, 4, 8, 16)
        packed = (sum(marginal(w, "float64", data, steps)["step"] for w in small),
                  marginal(16, "float64", data, steps, k=K * len(small))["step"])
        calls = calls_per_step(data, steps)
    for table in rows.values():
        for row in table.values():
            floor = sum(row[key] for key in ("Z", "tanh", "tanh'", "out", "back", "adam"))
            row["rest"] = row["step"] - floor
    return {"rows": rows, "calls": calls, "packed": packed}


def suggestions(prof: dict, steps: int = 2000) -> list[str]:
    """Estimated savings on W1 (all widths, `steps` Adam steps, one core), from the tables
    (after the benchmark has added the malloc-tuned `tuned` column to each row)."""
    rows64, rows32 = prof["rows"]["float64"], prof["rows"]["float32"]
    one_op = min(r["1 op"] for rows in prof["rows"].values() for r in rows.values())

    def total(rows, fn) -> float:  # seconds over W1: sum over widths of fn(row) x steps
        return sum(fn(r) for r in rows.values()) * steps / 1e6

    out = []
    for dt, rows in (("float64", rows64), ("float32", rows32)):
        whole = total(rows, lambda r: r["step"])
        fixed = sum(r["fixed"] for r in rows.values()) / 1e3
        heap = whole - total(rows, lambda r: r["tuned"])
        rest = total(rows, lambda r: r["rest"])
        narrow = rows[min(rows)]
        out.append(
            f"- {dt}: W1's steps cost {whole:.2f} s on one core (+ {fixed:.2f} s outside the "
            f"steps). Above the kernel floor ('rest'): {rest:.2f} s ({100 * rest / whole:.0f}%);"
            f" at width {min(rows)} a step costs as much as {narrow['step'] / one_op:.0f} tiny "
            f"NumPy calls. Page faults: a fault-free heap would save {heap:.2f} s "
            f"({100 * heap / whole:.0f}%).")
    tanh = total(rows64, lambda r: r["tanh"]) - total(rows32, lambda r: r["tanh"])
    f32 = total(rows64, lambda r: r["step"]) - total(rows32, lambda r: r["step"])
    out.append(f"- float32 instead of float64 saves {f32:.2f} s of W1's steps, of which "
               f"np.tanh {tanh:.2f} s.")
    return out
