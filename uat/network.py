"""k fully connected networks of one shape, evaluated and differentiated at once.

The lecture's notation with an ensemble axis in front: samples are columns,

    W[l]: (k, n_l, n_{l-1})   B[l]: (k, n_l, 1)   A[0] = X: (k, n_0, n_s)
    Z[l] = W[l] @ A[l-1] + B[l]   A[l] = f(Z[l])   for l = 1..L

with an affine output layer (regression, mean squared error) or a sigmoid one (classification,
binary cross-entropy). Each member's parameters are one row of a flat array `theta: (k, P)`;
`W[l]` and `B[l]` are views into it, so an optimizer updates every layer of every member with
one array operation, and Levenberg-Marquardt gets the flat vector it needs. Members never mix:
member i's numbers are the same whether it is trained alone or among k others.

Layer l is stored as the matrix [W[l] | B[l]]: (n_l, n_{l-1} + 1), row j = unit j's incoming
weights, then its bias. Then Z[l] = [W[l] | B[l]] @ [A[l-1]; 1] is one matmul (BLAS) with no
separate bias pass, and the gradient [dW[l] | dB[l]] = delta[l] @ [A[l-1]; 1]^T another.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

from uat import activations
from uat.activations import Activation
from uat.errors import UserError

# how a member's parameter row is laid out (stored with every results table, uat.store):
# 2 = per layer the rows [W[l][j, :], B[l][j]]; 1 (before 2026-11-25) = all of W[l], then B[l]
LAYOUT = 2
OUTPUTS = ("affine", "sigmoid")  # affine + MSE for regression; sigmoid + BCE for classification


@dataclass(frozen=True)
class Shape:
    """The architecture shared by all k members of a batch."""

    n_in: int  # n[0], the input dimension n
    width: int  # nodes per hidden layer
    depth: int  # number of hidden layers; 0 is an affine model (linear or logistic regression)
    n_out: int = 1  # n[L], the output dimension m
    activation: str = "tanh"  # activation spec of every hidden layer, e.g. "leaky_relu(slope=0.1)"
    output: str = "affine"  # "affine" (loss: mse) or "sigmoid" (loss: bce)

    def __post_init__(self):
        for key in ("n_in", "width", "depth", "n_out"):
            value = getattr(self, key)
            if not isinstance(value, int | np.integer) or isinstance(value, bool):
                raise UserError(f"`{key}` must be an integer; got {value!r}")
        if self.n_in < 1 or self.n_out < 1:
            raise UserError(f"`n_in` and `n_out` must be >= 1; got {self.n_in}, {self.n_out}")
        if self.width < (0 if self.depth == 0 else 1):  # depth 0 has no hidden layer
            raise UserError(f"`width` must be an integer >= 1; got {self.width}")
        if self.depth < 0:
            raise UserError(f"`depth` must be an integer >= 0; got {self.depth}")
        if self.output not in OUTPUTS:
            raise UserError(f"`output` must be one of {OUTPUTS}; got {self.output!r}")
        object.__setattr__(self, "activation", self.act.name)  # canonical spec

    @cached_property
    def act(self) -> Activation:
        return activations.get(self.activation)

    def __getstate__(self):  # the cached Activation holds lambdas: rebuild it after unpickling
        return {k: v for k, v in self.__dict__.items() if k not in ("act", "spans")}

    @property
    def loss(self) -> str:
        return "mse" if self.output == "affine" else "bce"

    @property
    def sizes(self) -> tuple[int, ...]:
        """(n_0, n_1, ..., n_L): input, `depth` hidden layers of `width`, output."""
        return (self.n_in, *([self.width] * self.depth), self.n_out)

    @cached_property
    def spans(self) -> tuple[tuple[int, int], ...]:
        """Per layer l = 1..L: (start, end) of [W[l] | B[l]] in a member's row."""
        spans, at = [], 0
        for n_prev, n_l in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            spans.append((at, at + n_l * (n_prev + 1)))
            at += n_l * (n_prev + 1)
        return tuple(spans)

    @property
    def n_params(self) -> int:
        return self.spans[-1][1]


def layers(theta: np.ndarray, shape: Shape) -> list[np.ndarray]:
    """Views [W[l] | B[l]]: (k, n_l, n_{l-1} + 1) into theta: (k, P), for l = 1..L."""
    k, sizes = theta.shape[0], shape.sizes
    return [theta[:, a:b].reshape(k, sizes[l], sizes[l - 1] + 1)
            for l, (a, b) in enumerate(shape.spans, start=1)]


def unpack(theta: np.ndarray, shape: Shape) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Views W[l]: (k, n_l, n_{l-1}) and B[l]: (k, n_l, 1) into theta: (k, P), for l = 1..L.

    Writing into a view writes into theta (and into a gradient array laid out the same way).
    """
    M = layers(theta, shape)
    return [m[..., :-1] for m in M], [m[..., -1:] for m in M]


def augment(A: np.ndarray) -> np.ndarray:
    """[A; 1]: A: (..., n, n_s) with a row of ones below, (..., n + 1, n_s), for the bias."""
    out = ones_below(A.shape, A.dtype)
    out[..., :-1, :] = A
    return out


def ones_below(shape: tuple, dtype) -> np.ndarray:
    """An array for [A; 1] with A: `shape` (..., n, n_s): the last of its n + 1 rows is ones,
    the others are to be written (by f, or by a copy of A)."""
    out = np.empty((*shape[:-2], shape[-2] + 1, shape[-1]), dtype)
    out[..., -1, :] = 1
    return out


def init(shape: Shape, seeds, dtype=np.float64, X: np.ndarray | None = None) -> np.ndarray:
    """Draw each member's parameters from its own seed: theta: (k, P).

    Hidden weights ~ N(0, gain / n_{l-1}) with the activation's gain (2 for ReLU-like: He et
    al. 2015, arXiv:1502.01852; 1 otherwise: LeCun-style); output weights ~ N(0, 1 / n_{L-1}),
    output bias 0. Draws are made in float64 and then cast, so float32 and float64 runs start
    from the same network.

    Hidden biases: with the training inputs X ((k, n_0, n_s) or (n_0, n_s)), layer by layer
    each unit's bias is set so that its pre-activation crosses 0 at a quantile of its own
    values on X, stratified over the layer (unit j at a random point of the j-th of n_l equal
    slices of [0.05, 0.95]), so the kinks start spread over the data: no unit starts dead
    (a ReLU that is off on every sample gets no gradient, and a width-1 ReLU net then never
    leaves the constant) or saturated. A data-dependent initialisation in the spirit of Lu
    et al. 2020's fix for dying ReLUs (arXiv:1903.06733). Without X, hidden biases are drawn
    like the weights.
    """
    seeds = list(seeds)
    theta = np.empty((len(seeds), shape.n_params))
    gain, L, f = shape.act.init_gain, shape.depth + 1, shape.act.f
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        W, B = unpack(theta[i : i + 1], shape)
        A = None if X is None else (X if X.ndim == 2 else X[i])[None].astype(np.float64)
        for l in range(L):
            std = np.sqrt((gain if l < L - 1 else 1.0) / W[l].shape[2])
            W[l][...] = rng.normal(0.0, std, W[l].shape)
            B[l][...] = rng.normal(0.0, std, B[l].shape) if l < L - 1 else 0.0
            if A is not None and l < L - 1:
                Z = W[l] @ A  # (1, n_l, n_{l-1}) @ (1, n_{l-1}, n_s) -> (1, n_l, n_s)
                n_l = W[l].shape[1]  # stratified: unit j crosses in the j-th 1/n_l of the data
                q = 0.05 + 0.9 * (np.arange(n_l) + rng.uniform(size=n_l)) / n_l
                B[l][0, :, 0] = [-_crossing(z, qi) for z, qi in zip(Z[0], q, strict=True)]
                A = f(Z + B[l])
    return theta.astype(dtype, copy=False)


def _crossing(z: np.ndarray, q: float) -> float:
    """A point between two distinct values of z near its q-quantile, so samples lie on both
    sides (after a ReLU layer many values tie at the flat part; a kink on a tie kills the
    unit). z: (n_s,)."""
    values = np.unique(z)
    if values.size < 2:
        return float(values[0])
    j = min(int(q * (values.size - 1)), values.size - 2)
    return float(0.5 * (values[j] + values[j + 1]))


def forward(theta: np.ndarray, X: np.ndarray, shape: Shape):
    """Run the k networks on their inputs.

    Parameters
    ----------
    theta : ndarray of shape (k, P)
    X : ndarray of shape (k, n_0, n_s) or (n_0, n_s) (one input set shared by all members)

    Returns
    -------
    Z : list of L arrays (k, n_l, n_s), the pre-activations; Z[-1] is the output layer's
    A : list of L+1 arrays, A[0] = X and A[l] = f(Z[l]) for hidden l; A[L] is the network
        output (Z[L] itself for affine output, sigmoid(Z[L]) for sigmoid output)
    """
    Z, Aa = _forward(theta, X, shape)
    A = [X] + [a[..., :-1, :] for a in Aa[1:]]
    A.append(Z[-1] if shape.output == "affine" else special.expit(Z[-1]))
    return Z, A


def _forward(theta: np.ndarray, X: np.ndarray, shape: Shape):
    """Z[l] for l = 1..L and the layer inputs [A[l-1]; 1] (the last row ones), l = 1..L."""
    M = layers(theta, shape)
    f, L = shape.act.f, len(M)
    Z, Aa = [], [augment(X)]
    for l in range(L):
        z = np.matmul(M[l], Aa[l])  # (k, n_l, n_{l-1} + 1) @ (k, n_{l-1} + 1, n_s)
        Z.append(z)
        if l < L - 1:
            a = ones_below(z.shape, z.dtype)
            f(z, out=a[:, :-1])
            Aa.append(a)
    return Z, Aa


def predict(theta: np.ndarray, X: np.ndarray, shape: Shape) -> np.ndarray:
    """The k networks' outputs A[L]: (k, n_out, n_s)."""
    return forward(theta, X, shape)[1][-1]


def losses(theta: np.ndarray, X: np.ndarray, Y: np.ndarray, shape: Shape) -> np.ndarray:
    """Each member's loss: (k,). MSE = mean over outputs and samples of (A[L] - Y)^2;
    BCE = mean of -(Y log A[L] + (1 - Y) log(1 - A[L])), computed from Z[L] without overflow."""
    Z, A = forward(theta, X, shape)
    return _loss(Z[-1], A[-1], Y, shape)


def _loss(Z_L, A_L, Y, shape):
    """(k,) from Z[L], A[L], Y: (k, m, n_s). One formula for `losses` and `loss_and_grad`, so
    a trial loss and a training loss of the same parameters agree to the bit."""
    if shape.output == "affine":
        R = A_L - Y
        E = R * R
    else:  # -[y log s(z) + (1-y) log(1 - s(z))] = log(1 + e^z) - y z
        E = np.logaddexp(0, Z_L) - Y * Z_L
    return np.add.reduce(E, axis=(1, 2)) / (E.shape[1] * E.shape[2])


def loss_and_grad(theta: np.ndarray, X: np.ndarray, Y: np.ndarray, shape: Shape):
    """Losses (k,) and their gradients (k, P) by back-propagation.

    delta[l] = dLoss/dZ[l]: (k, n_l, n_s). At the output both losses give
    delta[L] = c (A[L] - Y) with c = 2/(m n_s) for MSE and 1/(m n_s) for BCE (sigmoid output);
    then delta[l] = (W[l+1]^T @ delta[l+1]) * f'(Z[l]), dW[l] = delta[l] @ A[l-1]^T and
    dB[l] = sum over samples of delta[l].
    """
    return gradient_fn(shape, X, Y)(theta)


def gradient_fn(shape: Shape, X: np.ndarray, Y: np.ndarray):
    """`loss_and_grad` for a training loop: theta -> (loss (k,), grad (k, P)).

    Why: a step of a small network costs microseconds of arithmetic, so per-call overhead,
    passes over (k, n_l, n_s) arrays and fresh temporaries (page faults) dominate. Views into
    theta and the gradient, and buffers for Z, [A; 1] and delta, are made once per theta array
    (the loop updates theta in place); then a step allocates nothing. Each layer is one matmul
    forward and one backward (bias included, see the module docstring); f'(Z[l]) overwrites
    Z[l]. With one output (m = 1) delta[L-1] = W[L]^T delta[L] * f'(Z[L-1]) is never formed:
    the factor W[L][j] of unit j is applied to the small matrices it multiplies instead
    ((k, n_l, n_{l-1}+1) and (k, n_{l-1}, n_l)), which saves two passes over the largest
    arrays; for a one-hidden-layer net the backward pass then reads f'(Z[1]) once, in
    f'(Z[1]) @ (delta[L] * [X; 1])^T. The returned grad is overwritten by the next call. The
    forward pass is `forward`'s, operation for operation: losses agree to the bit.
    """
    f, df, L = shape.act.f, shape.act.df, shape.depth + 1
    affine = shape.output == "affine"
    n_out_ns = Y.shape[-2] * Y.shape[-1]
    scale = (2.0 if affine else 1.0) / n_out_ns
    fold = shape.n_out == 1 and L > 1  # m = 1: fold W[L] into the small matrices
    ws = {}  # the workspace of the theta array last seen

    def setup(theta):
        k, n_s, dt = theta.shape[0], Y.shape[-1], theta.dtype
        grad = np.empty_like(theta)
        sizes = shape.sizes
        # [A[l]; 1], l = 0..L-1
        Aa = [augment(X.astype(dt, copy=False))] + [ones_below((k, n, n_s), dt)
                                                    for n in sizes[1:-1]]
        M, dM = layers(theta, shape), layers(grad, shape)
        ws.update(
            theta=theta, grad=grad, M=M, dM=dM, Aa=Aa,
            A=[a[..., :-1, :] for a in Aa],  # views: A[l] without the ones row
            AaT=[np.swapaxes(a, -1, -2) for a in Aa],
            WT=[np.swapaxes(m[..., :-1], 1, 2) for m in M],  # W[l]^T: (k, n_{l-1}, n_l)
            Z=[np.empty((k, n, n_s), dt) for n in sizes[1:]],  # Z[l], then f'(Z[l]) in place
            # delta[l] of hidden l; none for the last one when W[L] is folded (never formed)
            D=[None if fold and l == L - 2 else np.empty((k, n, n_s), dt)
               for l, n in enumerate(sizes[1:-1])],
            out=None if affine else np.empty((k, sizes[-1], n_s), dt),
            E=np.empty((k, sizes[-1], n_s), dt),  # per-sample loss terms
            delta=np.empty((k, sizes[-1], n_s), dt),  # delta[L]
        )
        if fold:
            # s_j = W[L][0, j] as a column: (k, n_{L-1}, 1), a view into theta
            ws["s"] = np.swapaxes(M[-1][..., :-1], 1, 2)
            if L == 2:
                V = np.empty((k, sizes[0] + 1, n_s), dt)  # delta[L] * [X; 1]
                ws.update(V=V, VT=np.swapaxes(V, 1, 2))
            else:
                ws["WTs"] = np.empty((k, sizes[-3], sizes[-2]), dt)  # W[L-1]^T diag(s)

    def fn(theta):
        if ws.get("theta") is not theta:
            setup(theta)
        M, dM, Aa, AaT, Z, D = ws["M"], ws["dM"], ws["Aa"], ws["AaT"], ws["Z"], ws["D"]
        for l in range(L):
            np.matmul(M[l], Aa[l], out=Z[l])  # (k, n_l, n_{l-1}+1) @ (k, n_{l-1}+1, n_s)
            if l < L - 1:
                f(Z[l], out=ws["A"][l + 1])
        E, delta = ws["E"], ws["delta"]
        if affine:
            np.subtract(Z[-1], Y, out=delta)
            np.multiply(delta, delta, out=E)
        else:  # sigmoid output and BCE: log(1 + e^z) - y z, as in `_loss`
            out = special.expit(Z[-1], out=ws["out"])
            np.logaddexp(0, Z[-1], out=E)
            E -= np.multiply(Y, Z[-1], out=delta)
            np.subtract(out, Y, out=delta)
        loss = np.add.reduce(E, axis=(1, 2)) / n_out_ns
        delta *= scale
        np.matmul(delta, AaT[L - 1], out=dM[L - 1])  # (k, m, n_s) @ (k, n_s, n_{L-1}+1)
        for l in range(L - 2, -1, -1):  # hidden layers, from the last
            G = df(Z[l], ws["A"][l + 1], out=Z[l])  # f'(Z[l]): (k, n_l, n_s)
            if fold and l == L - 2:
                if l == 0:  # one hidden layer: dM[0] = s * (G @ (delta * [X; 1])^T)
                    np.multiply(delta, Aa[0], out=ws["V"])
                    np.matmul(G, ws["VT"], out=dM[0])
                else:  # delta[l] = s * (G * delta[L]); keep s out of the big array
                    np.multiply(G, delta, out=G)
                    np.matmul(G, AaT[l], out=dM[l])
                    delta = G
                dM[l] *= ws["s"]
                continue
            WT = ws["WT"][l + 1]
            if fold and l == L - 3:  # the pending factor s of delta[L-1]
                WT = np.multiply(WT, np.swapaxes(ws["s"], 1, 2), out=ws["WTs"])
            np.matmul(WT, delta, out=D[l])  # (k, n_l, n_{l+1}) @ (k, n_{l+1}, n_s)
            D[l] *= G
            np.matmul(D[l], AaT[l], out=dM[l])  # (k, n_l, n_s) @ (k, n_s, n_{l-1}+1)
            delta = D[l]
        return loss, ws["grad"]

    return fn


def output_jacobian(theta: np.ndarray, X: np.ndarray, shape: Shape):
    """The output layer's pre-activations Z[L] and their Jacobian, by back-propagation.

    Why Z[L]: for regression it is the network output, so J is the residual Jacobian of
    Gauss-Newton / Levenberg-Marquardt; for classification it is the logit, which with the
    BCE curvature sigmoid' gives the generalised Gauss-Newton matrix (Schraudolph 2002).
    One delta is propagated per output unit o and sample s (the (o, s) pairs play the role
    of samples): delta[l]: (k, n_l, m, n_s).

    Returns
    -------
    Z_L : ndarray of shape (k, m, n_s)
    J : ndarray of shape (k, m * n_s, P), J[i, o * n_s + s, p] = dZ_L[i, o, s] / dtheta[i, p];
        a transposed view of a C-contiguous J^T: (k, P, m * n_s), whose rows are written with
        the samples innermost (fast), and which J^T J and J^T r read as BLAS operands as is
    """
    Z, Aa = _forward(theta, X, shape)
    W, _ = unpack(theta, shape)
    k, m, n_s = Z[-1].shape
    JT = np.empty((k, shape.n_params, m, n_s), dtype=theta.dtype)  # J^T: samples innermost
    delta = np.broadcast_to(np.eye(m, dtype=theta.dtype)[None, :, :, None], (k, m, m, n_s))
    df = shape.act.df
    for l in range(len(W) - 1, -1, -1):
        a, b = shape.spans[l]
        n_l, n_prev = W[l].shape[1:]
        # dZ_L[o, s] / d[W | B][l][i, j] = delta[l][i, o, s] * [A[l-1]; 1][j, s], written
        # straight into J^T's rows of layer l: (k, n_l, n_{l-1} + 1, m, n_s)
        block = JT[:, a:b].reshape(k, n_l, n_prev + 1, m, n_s)  # a view: splits one axis
        np.multiply(delta[:, :, None], Aa[l][..., None, :, None, :], out=block)
        if l > 0:
            # (k, n_{l-1}, n_l) @ (k, n_l, m*n_s) -> (k, n_{l-1}, m, n_s)
            back = np.swapaxes(W[l], -1, -2) @ delta.reshape(k, n_l, m * n_s)
            G = df(Z[l - 1], Aa[l][:, :-1])
            delta = back.reshape(k, n_prev, m, n_s) * G[:, :, None, :]
    return Z[-1], np.swapaxes(JT.reshape(k, shape.n_params, m * n_s), 1, 2)

