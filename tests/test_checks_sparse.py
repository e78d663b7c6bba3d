"""The exercise checks of notebook 03: correct answers pass, each known mistake is named,
untouched stubs are "not attempted"."""

import pytest
import torch

from aelab.checks import ExerciseFailed
from aelab.checks.sparse import check_kl_gradient, check_kl_penalty, check_rho_hat

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def _kl(p, q):
    return p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))


def stub(*args):
    raise NotImplementedError()


# ----------------------------------------------------------------------------- rho_hat
def test_rho_hat_correct_passes():
    assert check_rho_hat(lambda code: code.mean(dim=0)).passed


def test_rho_hat_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_rho_hat(stub)


@pytest.mark.parametrize("wrong, name", [
    (lambda code: code.mean(dim=1), "averaged over units"),
    (lambda code: code.sum(dim=0), "sum instead of mean"),
    (lambda code: code.mean().expand(code.shape[1]), "mean over everything"),
])
def test_rho_hat_mistakes_named(wrong, name):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {name}"):
        check_rho_hat(wrong)


def test_rho_hat_error_reported():
    def broken(code):
        raise KeyError("oops")
    with pytest.raises(ExerciseFailed, match="KeyError"):
        check_rho_hat(broken)


# ----------------------------------------------------------------------------- the KL penalty
def correct_penalty(code, rho, beta):
    return beta * _kl(torch.tensor(rho, dtype=code.dtype), code.mean(dim=0)).sum()


def test_kl_penalty_correct_passes():
    assert check_kl_penalty(correct_penalty).passed


def test_kl_penalty_correct_with_aelab_passes():
    from aelab.penalties import kl_sparsity_penalty
    assert check_kl_penalty(lambda code, rho, beta: beta * kl_sparsity_penalty(code, rho)).passed


def test_kl_penalty_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_kl_penalty(stub)


@pytest.mark.parametrize("wrong, name", [
    (lambda code, rho, beta: _kl(torch.tensor(rho), code.mean(dim=0)).sum(), "missing beta"),
    (lambda code, rho, beta: beta * _kl(code.mean(dim=0), torch.tensor(rho)).sum(), r"swapped arguments"),
    (lambda code, rho, beta: beta * _kl(torch.tensor(rho), code.mean(dim=1)).sum(), "rho_hat averaged over units"),
    (lambda code, rho, beta: beta * _kl(torch.tensor(rho), code.mean(dim=0)).mean(), "mean over units instead of sum"),
    (lambda code, rho, beta: beta * (rho * torch.log(rho / code.mean(dim=0))).sum(), "only the rho log"),
])
def test_kl_penalty_mistakes_named(wrong, name):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {name}"):
        check_kl_penalty(wrong)


def test_kl_penalty_unknown_mistake_gets_generic_message():
    with pytest.raises(ExerciseFailed, match="wrong value"):
        check_kl_penalty(lambda code, rho, beta: correct_penalty(code, rho, beta) + 1.0)


# ----------------------------------------------------------------------------- its gradient
def correct_gradient(rho_hat, rho, beta):
    return beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))


def test_kl_gradient_correct_passes():
    assert check_kl_gradient(correct_gradient).passed


def test_kl_gradient_autograd_answer_passes():
    def by_autograd(rho_hat, rho, beta):
        q = rho_hat.clone().requires_grad_(True)
        (beta * _kl(torch.tensor(rho, dtype=q.dtype), q).sum()).backward()
        return q.grad
    assert check_kl_gradient(by_autograd).passed


def test_kl_gradient_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_kl_gradient(stub)


@pytest.mark.parametrize("wrong, name", [
    (lambda q, rho, beta: beta * (-rho / q + (1 - rho) / q), r"\(1-rho\)/rho_hat typo"),
    (lambda q, rho, beta: beta * (-1.0 + (1 - rho) / (1 - q)), "slide's garbled"),
    (lambda q, rho, beta: beta * (torch.log(q / rho) - torch.log((1 - q) / (1 - rho))), "swapped arguments"),
    (lambda q, rho, beta: -rho / q + (1 - rho) / (1 - q), "missing beta"),
    (lambda q, rho, beta: beta * (rho / q - (1 - rho) / (1 - q)), "sign flipped"),
])
def test_kl_gradient_mistakes_named(wrong, name):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {name}"):
        check_kl_gradient(wrong)


def test_kl_gradient_wrong_shape_reported():
    with pytest.raises(ExerciseFailed, match="shape"):
        check_kl_gradient(lambda q, rho, beta: correct_gradient(q, rho, beta).sum())
