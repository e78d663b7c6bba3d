import pytest
import torch

from aelab.checks import contractive
from aelab.checks._core import ExerciseFailed

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def correct_penalty(code, weight):
    return ((code * (1 - code)) ** 2 @ weight.pow(2).sum(dim=1)).mean()


def correct_mc(encode, x, sigma, noise):
    h0 = encode(x)
    return torch.stack([(encode(x + sigma * z) - h0).pow(2).sum(dim=1) for z in noise]).mean(0)


def stub(*args):
    raise NotImplementedError()


def test_penalty_correct_passes():
    assert contractive.check_contractive_penalty(correct_penalty).passed


def test_penalty_stub_not_attempted(capsys):
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        contractive.check_contractive_penalty(stub)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda h, w: ((h * (1 - h)) @ w.pow(2).sum(dim=1)).mean(), "missing square on h(1-h)"),
    (lambda h, w: ((h * (1 - h)) ** 2 @ w.pow(2).sum(dim=0)).mean(), "column norms instead of row norms"),
    (lambda h, w: (h ** 2 @ w.pow(2).sum(dim=1)).mean(), "h instead of h(1-h)"),
    (lambda h, w: ((h * (1 - h)) ** 2 @ w.pow(2).sum(dim=1)).sum(), "sum over the batch instead of mean"),
    (lambda h, w: (h * (1 - h)) ** 2 @ w.pow(2).sum(dim=1), "forgot the mean over the batch"),
    (lambda h, w: ((h * (1 - h)) ** 2 @ w.pow(2).sum(dim=1)).sqrt().mean(), "Frobenius norm not squared"),
])
def test_penalty_mistakes_recognized(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {mistake}".replace("(", r"\(").replace(")", r"\)")):
        contractive.check_contractive_penalty(wrong)


def test_penalty_unknown_error_reported():
    with pytest.raises(ExerciseFailed, match="wrong value"):
        contractive.check_contractive_penalty(lambda h, w: correct_penalty(h, w) * 1.5)


def test_mc_correct_passes():
    assert contractive.check_stochastic_contraction(correct_mc).passed


def test_mc_stub_not_attempted(capsys):
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        contractive.check_stochastic_contraction(stub)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda e, x, s, z: correct_mc(e, x, 1.0, z), "noise not scaled by sigma"),
    (lambda e, x, s, z: correct_mc(e, x, s ** 2, z), "sigma squared used as the standard deviation"),
    (lambda e, x, s, z: correct_mc(e, x, s, z) / s ** 2, "divided by sigma"),
    (lambda e, x, s, z: torch.stack([(e(x + s * zi) - e(x)).norm(dim=1) for zi in z]).mean(0), "norm not squared"),
    (lambda e, x, s, z: torch.stack([(e(x + s * zi) - e(x)).pow(2).mean(dim=1) for zi in z]).mean(0),
     "mean over code units instead of sum"),
    (lambda e, x, s, z: correct_mc(e, x, s, z).mean(), "averaged over the batch too"),
])
def test_mc_mistakes_recognized(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {mistake}"):
        contractive.check_stochastic_contraction(wrong)


def correct_mult(code, weight, x, sigma):
    """Student-style: sigma^2 sum_j (h_j(1-h_j))^2 sum_i W_ji^2 x_i^2, per example."""
    slope2 = (code * (1 - code)) ** 2                       # (N, H)
    return sigma**2 * torch.einsum("nj,ji,ni->n", slope2, weight**2, x**2)


def test_mult_correct_passes():
    assert contractive.check_multiplicative_contraction(correct_mult).passed


def test_mult_stub_not_attempted(capsys):
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        contractive.check_multiplicative_contraction(stub)


def _s2(h):
    return (h * (1 - h)) ** 2


@pytest.mark.parametrize("wrong, mistake", [
    (lambda h, w, x, s: s**2 * _s2(h) @ (w**2).sum(1), "isotropic formula sigma^2 ||J||_F^2"),
    (lambda h, w, x, s: s**2 * torch.einsum("nj,ji,ni->n", _s2(h), w**2, x), "x_i instead of x_i^2"),
    (lambda h, w, x, s: s * torch.einsum("nj,ji,ni->n", _s2(h), w**2, x**2), "sigma instead of sigma^2"),
    (lambda h, w, x, s: torch.einsum("nj,ji,ni->n", _s2(h), w**2, x**2), "sigma^2 missing"),
    (lambda h, w, x, s: s**2 * (x**2).sum(1) * (_s2(h) @ (w**2).sum(1)),
     "whole-image scale ||x||^2 instead of pixel by pixel"),
    (lambda h, w, x, s: s**2 * torch.einsum("nj,ji,ni->n", h * (1 - h), w**2, x**2), "h(1-h) not squared"),
    (lambda h, w, x, s: correct_mult(h, w, x, s).mean(), "averaged over the batch"),
])
def test_mult_mistakes_recognized(wrong, mistake):
    pattern = f"recognized mistake: {mistake}"
    for ch in "()^|":
        pattern = pattern.replace(ch, "\\" + ch)
    with pytest.raises(ExerciseFailed, match=pattern):
        contractive.check_multiplicative_contraction(wrong)
