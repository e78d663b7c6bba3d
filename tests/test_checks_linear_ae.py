import pytest
import torch

from aelab.checks import ExerciseFailed
from aelab.checks.linear_ae import check_linear_ae_gradients, check_predicted_tied_excess, check_principal_angles

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def grads(x, w, wd):
    h = x @ w.T
    r = h @ wd.T - x
    return 2 / len(x) * wd.T @ r.T @ x, 2 / len(x) * r.T @ h


def test_gradients_correct():
    assert check_linear_ae_gradients(grads).passed


@pytest.mark.parametrize("wrong, label", [
    (lambda x, w, wd: tuple(g / 2 for g in grads(x, w, wd)), "missing factor 2"),
    (lambda x, w, wd: (grads(x, w, wd)[0].T, grads(x, w, wd)[1]), "transposed gradient"),
    (lambda x, w, wd: (grads(x, w, wd)[0], grads(x, w, wd)[1].T), "transposed gradient"),
    (lambda x, w, wd: tuple(g * len(x) for g in grads(x, w, wd)), "sum instead of mean"),
    (lambda x, w, wd: tuple(-g for g in grads(x, w, wd)), "sign"),
])
def test_gradient_mistakes(wrong, label):
    with pytest.raises(ExerciseFailed, match=label):
        check_linear_ae_gradients(wrong)


def test_gradients_not_attempted():
    def stub(x, w, wd):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_linear_ae_gradients(stub)


def angles(a, b):
    qa, qb = torch.linalg.qr(a)[0], torch.linalg.qr(b)[0]
    return torch.rad2deg(torch.arccos(torch.linalg.svdvals(qa.T @ qb).clamp(-1, 1)))


def test_angles_correct():
    assert check_principal_angles(angles).passed


@pytest.mark.parametrize("wrong, label", [
    (lambda a, b: torch.deg2rad(angles(a, b)), "radians"),
    (lambda a, b: torch.rad2deg(torch.arccos(torch.linalg.svdvals(a.T @ b).clamp(-1, 1))), "no orthonormalization"),
])
def test_angle_mistakes(wrong, label):
    with pytest.raises(ExerciseFailed, match=label):
        check_principal_angles(wrong)


def test_angles_not_attempted():
    def stub(a, b):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_principal_angles(stub)


def excess(lam, E, eps):
    return float(eps**2 * (lam[:, None] * (E + E.T).pow(2)).sum())


def test_tied_excess_correct():
    assert check_predicted_tied_excess(excess).passed


def test_tied_excess_exact_is_accepted():
    def exact(lam, E, eps):
        return float((lam[:, None] * (eps * (E + E.T) + eps**2 * E.T @ E).pow(2)).sum())
    assert check_predicted_tied_excess(exact).passed


@pytest.mark.parametrize("wrong, label", [
    (lambda lam, E, eps: float(eps**2 * (lam[:, None] * E.pow(2)).sum()), "E instead of E"),
    (lambda lam, E, eps: float(eps**2 * (lam[:, None] * (2 * E).pow(2)).sum()), "2E instead of E"),
    (lambda lam, E, eps: excess(lam, E, eps) / eps, "first order in eps"),
    (lambda lam, E, eps: float(eps**2 * (E + E.T).pow(2).sum()), "no eigenvalue weighting"),
    (lambda lam, E, eps: float(eps**2 * (lam[:, None] ** 2 * (E + E.T).pow(2)).sum()), "eigenvalues squared"),
    (lambda lam, E, eps: float(eps**2 * (lam * torch.diagonal(E + E.T).pow(2)).sum()), "diagonal only"),
])
def test_tied_excess_mistakes(wrong, label):
    with pytest.raises(ExerciseFailed, match=label):
        check_predicted_tied_excess(wrong)


def test_tied_excess_not_attempted():
    def stub(lam, E, eps):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_predicted_tied_excess(stub)
