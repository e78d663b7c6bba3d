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
