"""k fully connected networks of one shape, evaluated and differentiated at once.

The lecture's notation with an ensemble axis in front (DESIGN.md): samples are columns,

    W[l]: (k, n_l, n_{l-1})   B[l]: (k, n_l, 1)   A[0] = X: (k, n_0, n_s)
    Z[l] = W[l] @ A[l-1] + B[l]   A[l] = f(Z[l])   for l = 1..L

with an affine output layer (regression, mean squared error) or a sigmoid one (classification,
binary cross-entropy). Each member's parameters are one row of a flat array `theta: (k, P)`;
`W[l]` and `B[l]` are views into it, so an optimizer updates every layer of every member with
one array operation, and Levenberg-Marquardt gets the flat vector it needs. Members never mix:
member i's numbers are the same whether it is trained alone or among k others.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

from uat import activations
from uat.activations import Activation
from uat.errors import UserError

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
        return {k: v for k, v in self.__dict__.items() if k not in ("act", "layout")}

    @property
    def loss(self) -> str:
        return "mse" if self.output == "affine" else "bce"

    @property
    def sizes(self) -> tuple[int, ...]:
        """(n_0, n_1, ..., n_L): input, `depth` hidden layers of `width`, output."""
        return (self.n_in, *([self.width] * self.depth), self.n_out)

    @cached_property
    def layout(self) -> tuple[tuple[int, int, int], ...]:
        """Per layer l = 1..L: (start of W[l], start of B[l], end of B[l]) in a member's row."""
        spans, at = [], 0
        for n_prev, n_l in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            spans.append((at, at + n_l * n_prev, at + n_l * n_prev + n_l))
            at += n_l * n_prev + n_l
        return tuple(spans)

    @property
    def n_params(self) -> int:
        return self.layout[-1][2]


def unpack(theta: np.ndarray, shape: Shape) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Views W[l]: (k, n_l, n_{l-1}) and B[l]: (k, n_l, 1) into theta: (k, P), for l = 1..L.

    Writing into a view writes into theta (and into a gradient array laid out the same way).
    """
    k, sizes = theta.shape[0], shape.sizes
    W, B = [], []
    for l, (w0, b0, b1) in enumerate(shape.layout, start=1):
        W.append(theta[:, w0:b0].reshape(k, sizes[l], sizes[l - 1]))
        B.append(theta[:, b0:b1].reshape(k, sizes[l], 1))
    return W, B


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


def _mm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a @ b (batched), with an inner dimension of 1 done as a broadcast product: the same
    single rounding per entry, but 2-4x faster than BLAS on these outer products (the first
    layer of a 1-D net, and back-propagation through a single output)."""
    if a.shape[-1] == 1:
        return np.multiply(a, b, out=out)  # (k, n, 1) * (k, 1, n_s) -> (k, n, n_s)
    return np.matmul(a, b, out=out)


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
    W, B = unpack(theta, shape)
    f, L = shape.act.f, len(W)
    Z, A = [], [X]
    for l in range(L):
        z = _mm(W[l], A[l])  # (k, n_l, n_{l-1}) @ (k, n_{l-1}, n_s) -> (k, n_l, n_s)
        z += B[l]
        Z.append(z)
        if l < L - 1:
            A.append(f(z))
    A.append(Z[-1] if shape.output == "affine" else special.expit(Z[-1]))
    return Z, A


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

    Why: a step of a small network costs microseconds of arithmetic, so per-call overhead
    and fresh temporaries (page faults on every megabyte allocated) dominate. The views W[l],
    B[l] into theta and dW[l], dB[l] into the gradient, and buffers for Z, A, delta and f'(Z),
    are made once per theta array (the loop updates theta in place); then a step allocates
    nothing. The returned grad is overwritten by the next call. Same operations, in the same
    order, as `forward` and `_loss`: the numbers agree to the bit.
    """
    f, df, L = shape.act.f, shape.act.df, shape.depth + 1
    affine = shape.output == "affine"
    n_out_ns = Y.shape[-2] * Y.shape[-1]
    scale = (2.0 if affine else 1.0) / n_out_ns
    ws = {}  # the workspace of the theta array last seen

    def setup(theta):
        k, n_s, dt = theta.shape[0], Y.shape[-1], theta.dtype
        grad = np.empty_like(theta)
        W, B = unpack(theta, shape)
        dW, dB = unpack(grad, shape)
        layer = [np.empty((k, n, n_s), dt) for n in shape.sizes[1:]]
        A = [X] + [np.empty_like(z) for z in layer[:-1]]  # A[0] = X, then hidden outputs
        ws.update(
            theta=theta, grad=grad, W=W, B=B, dW=dW, dB=dB, A=A,
            WT=[w.transpose(0, 2, 1) for w in W],
            AT=[a.T if a.ndim == 2 else a.transpose(0, 2, 1) for a in A],  # views of A
            Z=layer,  # pre-activations Z[l]
            D=[np.empty_like(z) for z in layer],  # delta[l]
            T=[np.empty_like(z) for z in layer[:-1]],  # f'(Z[l])
            out=layer[-1] if affine else np.empty_like(layer[-1]),
            E=np.empty_like(layer[-1]),  # per-sample loss terms
        )

    def fn(theta):
        if ws.get("theta") is not theta:
            setup(theta)
        W, B, Z, A, D, T = ws["W"], ws["B"], ws["Z"], ws["A"], ws["D"], ws["T"]
        for l in range(L):
            _mm(W[l], A[l], out=Z[l])  # (k, n_l, n_{l-1}) @ (k, n_{l-1}, n_s)
            Z[l] += B[l]
            if l < L - 1:
                f(Z[l], out=A[l + 1])
        out, E, delta = ws["out"], ws["E"], D[-1]
        if affine:
            np.subtract(out, Y, out=delta)
            np.multiply(delta, delta, out=E)
        else:  # sigmoid output and BCE: log(1 + e^z) - y z, as in `_loss`
            special.expit(Z[-1], out=out)
            np.logaddexp(0, Z[-1], out=E)
            E -= Y * Z[-1]
            np.subtract(out, Y, out=delta)
        loss = np.add.reduce(E, axis=(1, 2)) / n_out_ns
        delta *= scale
        for l in range(L - 1, -1, -1):
            _mm(delta, ws["AT"][l], out=ws["dW"][l])  # (k, n_l, n_s) @ (k, n_s, n_{l-1})
            np.add.reduce(delta, axis=2, keepdims=True, out=ws["dB"][l])
            if l > 0:
                _mm(ws["WT"][l], delta, out=D[l - 1])  # (k, n_{l-1}, n_l) @ (k, n_l, n_s)
                D[l - 1] *= df(Z[l - 1], A[l], out=T[l - 1])
                delta = D[l - 1]
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
    J : ndarray of shape (k, m * n_s, P), J[i, o * n_s + s, p] = dZ_L[i, o, s] / dtheta[i, p]
    """
    Z, A = forward(theta, X, shape)
    W, _ = unpack(theta, shape)
    k, m, n_s = Z[-1].shape
    J = np.empty((k, m, n_s, shape.n_params), dtype=theta.dtype)
    delta = np.broadcast_to(np.eye(m, dtype=theta.dtype)[None, :, :, None], (k, m, m, n_s))
    df = shape.act.df
    for l in range(len(W) - 1, -1, -1):
        w0, b0, b1 = shape.layout[l]
        n_l, n_prev = W[l].shape[1:]
        A_prev = np.broadcast_to(A[l], (k, n_prev, n_s))
        # dZ_L[o, s] / dW[l][i, j] = delta[l][i, o, s] * A[l-1][j, s]
        d = np.moveaxis(delta, 1, -1)  # (k, m, n_s, n_l)
        outer = d[..., None] * np.swapaxes(A_prev, 1, 2)[:, None, :, None, :]
        J[..., w0:b0] = outer.reshape(k, m, n_s, n_l * n_prev)  # (k, m, n_s, n_l, n_prev)
        J[..., b0:b1] = d
        if l > 0:
            # (k, n_{l-1}, n_l) @ (k, n_l, m*n_s) -> (k, n_{l-1}, m, n_s)
            back = np.swapaxes(W[l], -1, -2) @ delta.reshape(k, n_l, m * n_s)
            delta = back.reshape(k, n_prev, m, n_s) * df(Z[l - 1], A[l])[:, :, None, :]
    return Z[-1], J.reshape(k, m * n_s, shape.n_params)
