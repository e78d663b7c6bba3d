"""The exercise checks of notebook 03: correct answers pass, each known mistake is named,
untouched stubs are "not attempted"."""

import pytest
import torch

from aelab.checks import ExerciseFailed
from aelab.checks.sparse import check_jensen_gap, check_kl_gradient, check_kl_penalty, check_rho_hat

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


def test_kl_penalty_calling_aelab_is_rejected_as_the_exercise_text_says():
    from aelab.penalties import kl_divergence, kl_sparsity_penalty
    with pytest.raises(ExerciseFailed, match="kl_sparsity_penalty"):
        check_kl_penalty(lambda code, rho, beta: beta * kl_sparsity_penalty(code, rho))
    with pytest.raises(ExerciseFailed, match="kl_divergence"):
        check_kl_penalty(lambda code, rho, beta: beta * kl_divergence(rho, code.mean(0)).sum())


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


def test_kl_gradient_by_autograd_is_rejected_as_the_exercise_text_says():
    def by_backward(rho_hat, rho, beta):
        q = rho_hat.clone().requires_grad_(True)
        (beta * _kl(torch.tensor(rho, dtype=q.dtype), q).sum()).backward()
        return q.grad

    def by_torch_func(rho_hat, rho, beta):      # torch.func's transforms run torch.autograd.grad underneath
        return torch.func.grad(lambda q: beta * _kl(torch.tensor(rho, dtype=q.dtype), q).sum())(rho_hat)
    for student in (by_backward, by_torch_func):
        with pytest.raises(ExerciseFailed, match="torch.autograd"):
            check_kl_gradient(student)


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


# ----------------------------------------------------------------------------- the second-order Jensen gap
def _jensen(m, rho, half=0.5, curvature=None, ddof=0):
    q = m.mean(dim=0)
    c = curvature(q, rho) if curvature else rho / q**2 + (1 - rho) / (1 - q) ** 2
    return (half * c * ((m - q) ** 2).sum(dim=0) / (len(m) - ddof)).sum()


def test_jensen_gap_correct_passes():
    assert check_jensen_gap(lambda m, rho: _jensen(m, rho)).passed
    assert check_jensen_gap(lambda m, rho: float(_jensen(m, rho))).passed      # a float is fine too


def test_jensen_gap_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_jensen_gap(stub)


def test_jensen_gap_second_order_is_close_to_the_exact_gap_for_small_spread():
    from aelab.checks.sparse import second_order_jensen_gap
    g = torch.Generator().manual_seed(0)
    m = 0.1 + 0.002 * torch.randn(50, 6, generator=g, dtype=torch.float64)
    exact = float(_kl(0.05, m).sum(dim=1).mean() - _kl(0.05, m.mean(dim=0)).sum())
    assert second_order_jensen_gap(m, 0.05) == pytest.approx(exact, rel=0.05)


@pytest.mark.parametrize("wrong, name", [
    (lambda m, rho: _kl(rho, m).sum(dim=1).mean() - _kl(rho, m.mean(dim=0)).sum(), "exact gap"),
    (lambda m, rho: _jensen(m, rho, half=1.0), "missing the 1/2"),
    (lambda m, rho: _jensen(m, rho, curvature=lambda q, r: r / q**2), r"only the rho / q\^2 term"),
    (lambda m, rho: _jensen(m, rho, curvature=lambda q, r: r / q**2 - (1 - r) / (1 - q) ** 2), "minus between"),
    (lambda m, rho: _jensen(m, rho, curvature=lambda q, r: 1 / q + 1 / (1 - q)), r"curvature of KL\(rho_hat"),
    (lambda m, rho: _jensen(m, rho, ddof=1), "variance with B - 1"),
])
def test_jensen_gap_mistakes_named(wrong, name):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {name}"):
        check_jensen_gap(wrong)
