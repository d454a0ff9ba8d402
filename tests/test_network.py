"""uat.network: back-propagation and the output Jacobian against central finite differences,
for every activation x depth x loss, and one small network worked by hand."""

import numpy as np
import pytest

from uat import activations, network
from uat.errors import UserError
from uat.network import Shape

ACTS = [n for n in activations.ACTIVATIONS if n not in ("poly", "act")] + [
    "poly(degree=3)", "act(f='x / (1 + abs(x)) + 0.1 * sin(2 * x)')", "act(f='x**2 - x / 2')"]
KINKED = {"relu", "leaky_relu", "elu"}  # derivative jumps at 0: keep samples off the kinks
H = 1e-4  # 5-point central differences in float64: error ~ H^4 f^(5) + 1e-16 |loss| / H


def rel_error(exact, numeric):
    """max |exact - numeric| / (|numeric| + 1e-5 x the largest entry).

    The floor keeps exact zeros (e.g. output o's bias in output o' != o) from dividing the
    stencil's rounding noise (~1e-16 |f| / H = 1e-12) by zero; entries below it are thereby
    checked to 1e-11 x the largest entry in absolute terms."""
    floor = 1e-5 * np.max(np.abs(numeric))
    return float(np.max(np.abs(exact - numeric) / (np.abs(numeric) + floor)))


def central(fn, theta, e):
    """(-f(t+2e) + 8 f(t+e) - 8 f(t-e) + f(t-2e)) / (12 H): fourth-order accurate."""
    twice, once = fn(theta + 2 * e) - fn(theta - 2 * e), fn(theta + e) - fn(theta - e)
    return (8 * once - twice) / (12 * H)


def problem(activation, depth, output, k=3, n_in=2, n_out=2, n_s=7, width=3, shared=None):
    """k members with different targets, far enough from every kink. By default two outputs
    go with inputs of each member's own (k, n_in, n_s), and one output (the back-propagation
    with W[L] folded into the small matrices) with one input set shared by all (n_in, n_s),
    as in a width study; `shared` overrides that."""
    shape = Shape(n_in, width, depth, n_out, activation, output)
    shared = n_out == 1 if shared is None else shared
    for seed in range(100):
        rng = np.random.default_rng(seed)
        theta = network.init(shape, [seed, seed + 100, seed + 200])
        X = rng.uniform(-1, 1, (n_in, n_s) if shared else (k, n_in, n_s))
        Z, _ = network.forward(theta, X, shape)
        far = all(np.min(np.abs(z)) > 1e-2 for z in Z[:-1])
        if activation.split("(")[0] not in KINKED or far:
            break
    if output == "sigmoid":
        Y = (rng.uniform(size=(k, n_out, n_s)) > 0.5).astype(float)
    else:
        Y = rng.normal(size=(k, n_out, n_s))
    return shape, theta, X, Y


def check_gradient_and_jacobian(activation, depth, output, **kwargs):
    shape, theta, X, Y = problem(activation, depth, output, **kwargs)
    loss, grad = network.loss_and_grad(theta, X, Y, shape)
    np.testing.assert_array_equal(loss, network.losses(theta, X, Y, shape))  # to the bit
    Z_L, J = network.output_jacobian(theta, X, shape)
    num_grad, num_J = np.empty_like(grad), np.empty_like(J)
    for p in range(shape.n_params):
        e = np.zeros_like(theta)
        e[:, p] = H
        num_grad[:, p] = central(lambda t: network.losses(t, X, Y, shape), theta, e)
        z = central(lambda t: network.forward(t, X, shape)[0][-1], theta, e)
        num_J[:, :, p] = z.reshape(len(theta), -1)
    err = max(rel_error(grad, num_grad), rel_error(J, num_J))
    assert err <= 1e-6, f"max relative error {err:.2e}"


@pytest.mark.parametrize("n_in, n_out", [(2, 2), (1, 1)])
@pytest.mark.parametrize("output", ["affine", "sigmoid"])
@pytest.mark.parametrize("depth", [0, 1, 2, 3])
@pytest.mark.parametrize("activation", ACTS)
def test_gradient_and_jacobian_match_finite_differences(activation, depth, output, n_in, n_out):
    check_gradient_and_jacobian(activation, depth, output, n_in=n_in, n_out=n_out)


@pytest.mark.parametrize("case", [
    dict(depth=4, n_in=3, n_out=1, width=1, shared=False),  # folded W[L], per-member inputs
    dict(depth=2, n_in=2, n_out=1, width=2, shared=False),
    dict(depth=1, n_in=3, n_out=1, width=4, shared=False),
    dict(depth=3, n_in=1, n_out=3, width=1, shared=True),  # no fold, shared inputs
])
@pytest.mark.parametrize("output", ["affine", "sigmoid"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gaussian", "sin"])
def test_gradient_on_more_shapes(activation, output, case):
    check_gradient_and_jacobian(activation, output=output, **case)


def test_hand_worked_tiny_network():
    """1-1-1 tanh net, one sample x = 1, target y = 1, worked by hand."""
    shape = Shape(1, 1, 1, 1, "tanh")
    theta = np.array([[0.5, 0.1, 2.0, -0.3]])  # [W1 | B1], [W2 | B2] in layout order
    X, Y = np.ones((1, 1, 1)), np.ones((1, 1, 1))
    Z, A = network.forward(theta, X, shape)
    # Z1 = 0.5*1 + 0.1 = 0.6; A1 = tanh(0.6) = 0.5370495669980352
    np.testing.assert_allclose(Z[0], 0.6, rtol=1e-15)
    np.testing.assert_allclose(A[1], 0.5370495669980352, rtol=1e-15)
    # Z2 = 2 * A1 - 0.3 = 0.7740991339960703 (affine output)
    np.testing.assert_allclose(A[2], 0.7740991339960703, rtol=1e-15)
    loss, grad = network.loss_and_grad(theta, X, Y, shape)
    # loss = (Z2 - 1)^2 = 0.05103120126132539; delta2 = 2 (Z2 - 1) = -0.45180173200785934
    # dW2 = delta2 * A1 = -0.2426399245437832; delta1 = W2 delta2 (1 - A1^2) = -0.6429841311903693
    np.testing.assert_allclose(loss, [0.05103120126132539], rtol=1e-14)
    np.testing.assert_allclose(
        grad, [[-0.6429841311903693, -0.6429841311903693, -0.2426399245437832,
                -0.45180173200785934]], rtol=1e-14)


def test_shapes_and_layout():
    shape = Shape(n_in=3, width=5, depth=2, n_out=2, activation="relu")
    assert shape.sizes == (3, 5, 5, 2)
    assert shape.n_params == (3 * 5 + 5) + (5 * 5 + 5) + (5 * 2 + 2)
    theta = network.init(shape, [0, 1, 2, 3])
    W, B = network.unpack(theta, shape)
    assert [w.shape for w in W] == [(4, 5, 3), (4, 5, 5), (4, 2, 5)]
    assert [b.shape for b in B] == [(4, 5, 1), (4, 5, 1), (4, 2, 1)]
    W[1][2, 0, 0] = 123.0  # views: writes land in theta
    assert 123.0 in theta[2]
    # each layer is [W | B]: unit j's weights, then its bias, row after row
    a, b = shape.spans[1]
    np.testing.assert_array_equal(theta[:, a:b].reshape(4, 5, 6),
                                  np.concatenate([W[1], B[1]], axis=2))
    assert [m.shape for m in network.layers(theta, shape)] == [(4, 5, 4), (4, 5, 6), (4, 2, 6)]
    X = np.zeros((3, 11))  # one input set shared by all members
    assert network.predict(theta, X, shape).shape == (4, 2, 11)
    assert Shape(1, 1, 0).n_params == 2  # depth 0: an affine model


def test_init_is_per_member_and_dtype_independent():
    shape = Shape(1, 8, 2, 1, "tanh")
    a = network.init(shape, [5, 6, 7])
    b = network.init(shape, [7, 5])
    np.testing.assert_array_equal(a[2], b[0])
    np.testing.assert_array_equal(a[0], b[1])
    c = network.init(shape, [5], dtype=np.float32)
    assert c.dtype == np.float32
    np.testing.assert_array_equal(c[0], a[0].astype(np.float32))


def test_canonical_activation_name():
    assert Shape(1, 2, 1, activation="leaky_relu").activation == "leaky_relu(slope=0.01)"


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(width=0), "`width` must be an integer >= 1; got 0"),
        (dict(depth=-1), "`depth` must be an integer >= 0"),
        (dict(width=2.5), "`width` must be an integer"),
        (dict(output="softmax"), "`output` must be one of"),
        (dict(activation="relux"), "unknown activation 'relux'"),
    ],
)
def test_bad_shapes(kwargs, word):
    base = dict(n_in=1, width=4, depth=1)
    with pytest.raises(UserError, match=word.replace("(", r"\(").replace(")", r"\)")):
        Shape(**{**base, **kwargs})


@pytest.mark.parametrize("activation", ACTS)
def test_derivative_may_overwrite_its_input(activation):
    """gradient_fn writes f'(Z) over Z (one buffer less): every df must allow out=Z."""
    act = activations.get(activation)
    Z = np.linspace(-2, 2, 41).reshape(1, 1, 41) + 0.013  # off relu's kink at 0
    A = act.f(Z)
    buf = Z.copy()
    got = act.df(buf, A, out=buf)
    assert got is buf
    np.testing.assert_array_equal(got, act.df(Z, A))
