"""The checks of notebook 05 recognize each common mistake, pass the right answers, and report
an untouched stub as not attempted."""

import math

import pytest
import torch
from torch.nn import functional as F

from aelab.checks import ExerciseFailed
from aelab.checks.denoising import (
    check_denoising_loss,
    check_masked_psnr,
    check_masking_noise,
    check_psnr,
    masked_psnr_second_order,
)

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading

# ---- masking noise ---------------------------------------------------------------------------

def masking_right(x, q):
    return x * (torch.rand_like(x) >= q)


def masking_fixed_count(x, q):
    """Vincent et al.'s variant: exactly round(q * d) entries of each image are zeroed."""
    flat = x.flatten(1)
    n_drop = round(q * flat.shape[1])
    order = torch.rand_like(flat).argsort(dim=1)
    keep = torch.ones_like(flat).scatter(1, order[:, :n_drop], 0.0)
    return (flat * keep).view_as(x)


def stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("fn", [masking_right, masking_fixed_count])
def test_masking_right_answers_pass(fn):
    assert check_masking_noise(fn).passed


def test_masking_stub_is_not_attempted(capsys):
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_masking_noise(stub)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda x, q: x * (1 - q), "scales instead of zeroing"),
    (lambda x, q: x * (torch.rand_like(x) < q), "keeps a fraction q"),
    (lambda x, q: x * (torch.rand_like(x) >= q) / (1 - q), "dropout-style rescaling"),
    (lambda x, q: x * (torch.rand_like(x[:1]) >= q), "same mask for every image"),
    (lambda x, q: x * (torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) >= q),
     "same mask at every call"),
])
def test_masking_mistakes_are_recognized(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=mistake):
        check_masking_noise(wrong)


def test_masking_wrong_fraction_and_altered_values_fail():
    with pytest.raises(ExerciseFailed, match="expected about"):
        check_masking_noise(lambda x, q: x * (torch.rand_like(x) >= q / 2))
    with pytest.raises(ExerciseFailed, match="keep their value"):
        check_masking_noise(lambda x, q: (x + 0.01) * (torch.rand_like(x) >= q))
    with pytest.raises(ExerciseFailed, match="shape"):
        check_masking_noise(lambda x, q: x.flatten())


def test_masking_crash_is_reported_with_the_input():
    with pytest.raises(ExerciseFailed, match="raised ZeroDivisionError"):
        check_masking_noise(lambda x, q: 1 / 0)


# ---- PSNR ------------------------------------------------------------------------------------

def psnr_right(x, reference, max_value=1.0):
    mse = ((x - reference) ** 2).flatten(1).mean(dim=1)
    return float((10 * torch.log10(max_value**2 / mse)).mean())


def test_psnr_right_answer_passes():
    assert check_psnr(psnr_right).passed
    rmse_form = lambda x, r, m=1.0: (20 * torch.log10(m / ((x - r) ** 2).flatten(1).mean(1).sqrt())).mean()  # noqa: E731
    assert check_psnr(rmse_form).passed


def test_psnr_stub_is_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_psnr(stub)


def _mse(x, r):
    return ((x - r) ** 2).flatten(1).mean(dim=1)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda x, r, m=1.0: 10 * math.log10(m**2 / float(_mse(x, r).mean())), "whole batch's MSE"),
    (lambda x, r, m=1.0: float((10 * torch.log10(m**2 / ((x - r) ** 2).flatten(1).sum(1))).mean()), "sum of squared"),
    (lambda x, r, m=1.0: float((10 * torch.log10(m / _mse(x, r))).mean()), "max not squared"),
    (lambda x, r, m=1.0: float((20 * torch.log10(m**2 / _mse(x, r))).mean()), "20 log10"),
    (lambda x, r, m=1.0: float((10 * torch.log(m**2 / _mse(x, r))).mean()), "natural logarithm"),
    (lambda x, r, m=1.0: float((10 * torch.log10(_mse(x, r) / m**2)).mean()), "upside down"),
])
def test_psnr_mistakes_are_recognized(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=mistake):
        check_psnr(wrong)


# ---- the denoising loss ----------------------------------------------------------------------

def loss_right(model, x, corrupt):
    x_tilde = corrupt(x)
    logits = model.decoder(model.encoder(x_tilde))
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()


def loss_right_probabilities(model, x, corrupt):
    out = model(corrupt(x))
    return F.binary_cross_entropy(out, x, reduction="sum") / len(x)


def test_loss_right_answers_pass():
    assert check_denoising_loss(loss_right).passed
    assert check_denoising_loss(loss_right_probabilities).passed


def test_loss_stub_is_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_denoising_loss(stub)


def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1).mean()


@pytest.mark.parametrize("wrong, mistake", [
    (lambda m, x, c: _bce(m.decoder(m.encoder(c(x))), c(x)), "loss against the noisy input"),
    (lambda m, x, c: _bce(m.decoder(m.encoder(x)), x), "no corruption"),
    (lambda m, x, c: F.binary_cross_entropy(m(c(x)), x), "averaged over pixels"),
    (lambda m, x, c: _bce(m(c(x)), x), "sigmoid applied twice"),
])
def test_loss_mistakes_are_recognized(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=mistake):
        check_denoising_loss(wrong)


# ---- the predicted PSNR of a masked input -----------------------------------------------------

def masked_psnr_right(x, q):
    d = x[0].numel()
    err = q * x.flatten(1).pow(2).sum(dim=1) / d
    return float((10 * torch.log10(1 / err)).mean())


def masked_psnr_right_rmse(x, q):
    rmse = (q * x.flatten(1).pow(2).mean(dim=1)).sqrt()
    return float((20 * torch.log10(1 / rmse)).mean())


@pytest.mark.parametrize("fn", [masked_psnr_right, masked_psnr_right_rmse])
def test_masked_psnr_right_answers_pass(fn):
    assert check_masked_psnr(fn).passed


def test_masked_psnr_stub_is_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_masked_psnr(stub)


def _sq(x):
    return x.flatten(1).pow(2)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda x, q: float((10 * torch.log10(1 / ((1 - q) * _sq(x).mean(1)))).mean()), "1 - q instead of q"),
    (lambda x, q: float((10 * torch.log10(1 / (q * x.flatten(1).mean(1)))).mean()), "squares forgotten"),
    (lambda x, q: 10 * math.log10(1 / q), "every pixel treated as ink"),
    (lambda x, q: float((10 * torch.log10(1 / (q * _sq(x).sum(1)))).mean()), "sum instead of mean"),
    (lambda x, q: float(10 * torch.log10(1 / (q * _sq(x).mean(1)).mean())), "PSNR of the pooled MSE"),
    (lambda x, q: float((20 * torch.log10(1 / (q * _sq(x).mean(1)))).mean()), "20 log10"),
])
def test_masked_psnr_mistakes_are_recognized(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=mistake):
        check_masked_psnr(wrong)


def test_masked_psnr_second_order_matches_monte_carlo():
    """Few ink pixels (a large term): the mean PSNR of many random masks minus the expected-error
    prediction is the second-order term, up to the Monte Carlo error and higher orders."""
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(20, 1, 10, 10, generator=g) < 0.4) * torch.rand(20, 1, 10, 10, generator=g).clamp(min=0.3)
    q = 0.3
    flat = x.double().flatten(1)
    mse = torch.stack([((torch.rand(flat.shape, generator=g) < q) * flat).pow(2).mean(1) for _ in range(4000)])
    gap = float((-10 * torch.log10(mse)).mean() - (-10 * torch.log10(q * flat.pow(2).mean(1))).mean())
    term = masked_psnr_second_order(x, q)
    assert term > 0
    assert abs(gap - term) < 0.2 * term
