import re

import pytest
import torch

from aelab.checks import maximize as checks
from aelab.checks._core import ExerciseFailed

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def _rows(v):
    return v.flatten(1).norm(dim=1).view(-1, *([1] * (v.ndim - 1)))


def step_correct(x, grad, lr, rho):
    v = x + lr * grad
    return rho * v / _rows(v)


STEP_MISTAKES = {
    "no re-projection": lambda x, g, lr, rho: x + lr * g,
    "descent instead of ascent": lambda x, g, lr, rho: rho * (x - lr * g) / _rows(x - lr * g),
    "projection onto the ball": lambda x, g, lr, rho: (x + lr * g) * torch.clamp(rho / _rows(x + lr * g), max=1),
    "unit radius": lambda x, g, lr, rho: (x + lr * g) / _rows(x + lr * g),
    "keeps the old norm": lambda x, g, lr, rho: _rows(x) * (x + lr * g) / _rows(x + lr * g),
    "normalized gradient, x not projected": lambda x, g, lr, rho: x + lr * g / _rows(g),
    "normalized gradient times rho, x not projected": lambda x, g, lr, rho: x + lr * rho * g / _rows(g),
    "norm of the whole batch": lambda x, g, lr, rho: rho * (x + lr * g) / (x + lr * g).norm(),
}


def test_step_correct_passes():
    assert checks.check_projected_step(step_correct).passed


@pytest.mark.parametrize("name", list(STEP_MISTAKES))
def test_step_mistake_recognized(name):
    with pytest.raises(ExerciseFailed, match=re.escape(f"recognized mistake: {name}]")):
        checks.check_projected_step(STEP_MISTAKES[name])


def test_step_not_attempted(capsys):
    def stub(x, grad, lr, rho):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        checks.check_projected_step(stub)


def test_step_crash_is_reported():
    with pytest.raises(ExerciseFailed, match="raised"):
        checks.check_projected_step(lambda x, grad, lr, rho: x @ x)


def optimum_correct(weight, bias, rho):
    return rho * weight / weight.norm(dim=1, keepdim=True)


OPTIMUM_MISTAKES = {
    "forgot rho": lambda w, b, rho: w / w.norm(dim=1, keepdim=True),
    "normalized the columns": lambda w, b, rho: rho * w / w.norm(dim=0, keepdim=True),
    "no normalization": lambda w, b, rho: w.clone(),
    "rho * W, no normalization": lambda w, b, rho: rho * w,
    "Frobenius norm": lambda w, b, rho: rho * w / w.norm(),
    "minimizer": lambda w, b, rho: -rho * w / w.norm(dim=1, keepdim=True),
    "squared norm": lambda w, b, rho: rho * w / (w * w).sum(dim=1, keepdim=True),
    "bias in the direction": lambda w, b, rho: rho * (w + b[:, None]) / (w + b[:, None]).norm(dim=1, keepdim=True),
}


def test_optimum_correct_passes():
    assert checks.check_first_layer_optimum(optimum_correct).passed


@pytest.mark.parametrize("name", list(OPTIMUM_MISTAKES))
def test_optimum_mistake_recognized(name):
    with pytest.raises(ExerciseFailed, match=re.escape(f"recognized mistake: {name}]")):
        checks.check_first_layer_optimum(OPTIMUM_MISTAKES[name])


def test_optimum_transposed_shape_is_explained():
    with pytest.raises(ExerciseFailed, match="shape"):
        checks.check_first_layer_optimum(lambda w, b, rho: optimum_correct(w, b, rho).T)


def test_optimum_not_attempted():
    def stub(weight, bias, rho):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        checks.check_first_layer_optimum(stub)


def agreement_correct(x):
    u = x.flatten(1) / x.flatten(1).norm(dim=1, keepdim=True)
    n = len(u)
    return float(((u @ u.T).sum() - n) / (n * (n - 1)))


AGREEMENT_MISTAKES = {
    "diagonal included": lambda x: float(_normalized_gram(x).mean()),
    "dot products, not cosines": lambda x: float(((x.flatten(1) @ x.flatten(1).T).sum()
                                                  - (x.flatten(1) ** 2).sum()) / (len(x) * (len(x) - 1))),
    "absolute cosines": lambda x: float((_normalized_gram(x).abs().sum() - len(x)) / (len(x) * (len(x) - 1))),
}


def _normalized_gram(x):
    u = x.flatten(1) / x.flatten(1).norm(dim=1, keepdim=True)
    return u @ u.T


def test_agreement_correct_passes():
    assert checks.check_mean_pairwise_cosine(agreement_correct).passed


@pytest.mark.parametrize("name", list(AGREEMENT_MISTAKES))
def test_agreement_mistake_recognized(name):
    with pytest.raises(ExerciseFailed, match=re.escape(f"recognized mistake: {name}]")):
        checks.check_mean_pairwise_cosine(AGREEMENT_MISTAKES[name])


def test_agreement_not_attempted():
    def stub(x):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        checks.check_mean_pairwise_cosine(stub)


def angle_correct(theta0, lr, w_norm, rho, k):
    # Components along u = W/||W|| and orthogonal to it: (rho cos t + lr ||W||, rho sin t).
    theta = theta0
    for _ in range(k):
        theta = torch.atan2(rho * torch.sin(theta), rho * torch.cos(theta) + lr * w_norm)
    return theta


def _angle_loop(c_of, steps=lambda k: k, step=lambda t, c: torch.atan2(torch.sin(t), torch.cos(t) + c)):
    def wrong(theta0, lr, w_norm, rho, k):
        theta = theta0
        for _ in range(max(steps(k), 0)):
            theta = step(theta, c_of(lr, w_norm, rho))
        return theta
    return wrong


def _c(lr, w_norm, rho):
    return lr * w_norm / rho


ANGLE_MISTAKES = {
    "c without rho": _angle_loop(lambda lr, w, rho: lr * w),
    "c without the weight norm": _angle_loop(lambda lr, w, rho: lr / rho),
    "squared weight norm": _angle_loop(lambda lr, w, rho: lr * w * w / rho),
    "atan instead of atan2": _angle_loop(_c, step=lambda t, c: torch.atan(torch.sin(t) / (torch.cos(t) + c))),
    "one step too few": _angle_loop(_c, steps=lambda k: k - 1),
    "one step too many": _angle_loop(_c, steps=lambda k: k + 1),
    "small-angle formula": lambda t, lr, w, rho, k: t / (1 + lr * w / rho) ** k,
    "no projection": lambda t, lr, w, rho, k: torch.atan2(rho * torch.sin(t), rho * torch.cos(t) + k * lr * w),
}


def test_angle_correct_passes():
    assert checks.check_angle_after_steps(angle_correct).passed


def test_angle_via_tangent_and_cosine_passes():
    # Another correct derivation: cos t' = (cos t + c) / sqrt(1 + 2 c cos t + c^2), then arccos.
    def via_cos(theta0, lr, w_norm, rho, k):
        c, theta = lr * w_norm / rho, theta0
        for _ in range(k):
            theta = torch.arccos((torch.cos(theta) + c) / torch.sqrt(1 + 2 * c * torch.cos(theta) + c * c))
        return theta
    assert checks.check_angle_after_steps(via_cos).passed


@pytest.mark.parametrize("name", list(ANGLE_MISTAKES))
def test_angle_mistake_recognized(name):
    with pytest.raises(ExerciseFailed, match=re.escape(f"recognized mistake: {name}]")):
        checks.check_angle_after_steps(ANGLE_MISTAKES[name])


def test_angle_not_attempted():
    def stub(theta0, lr, w_norm, rho, k):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        checks.check_angle_after_steps(stub)


def test_predicted_angle_matches_the_projected_ascent():
    # The reference against the iterates themselves, in 5 dimensions, from angles on both sides of 90 degrees.
    g = torch.Generator().manual_seed(2)
    w = torch.randn(5, generator=g, dtype=torch.float64)
    rho, lr = 1.7, 0.3
    x = torch.randn(6, 5, generator=g, dtype=torch.float64)
    x = rho * x / x.norm(dim=1, keepdim=True)
    theta0 = torch.arccos((x @ w) / (rho * w.norm()))
    for _ in range(4):
        x = x + lr * w
        x = rho * x / x.norm(dim=1, keepdim=True)
    measured = torch.arccos(((x @ w) / (rho * w.norm())).clamp(-1, 1))
    assert torch.allclose(checks.predicted_angle(theta0, lr, float(w.norm()), rho, 4), measured, atol=1e-10)
