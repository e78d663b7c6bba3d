import pytest
import torch

from aelab.checks import ExerciseFailed
from aelab.checks.pca import check_covariance, check_pca_reconstruct

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def cov(x):
    xc = x - x.mean(dim=0)
    return xc.T @ xc / len(x)


def test_covariance_correct():
    assert check_covariance(cov).passed


def test_covariance_n_minus_1_accepted_with_note(capsys):
    def unbiased(x):
        xc = x - x.mean(0)
        return xc.T @ xc / (len(x) - 1)
    assert check_covariance(unbiased).passed
    assert "N-1" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, label", [
    (lambda x: x.T @ x / len(x), "no centering"),
    (lambda x: (x - x.mean(0)) @ (x - x.mean(0)).T / len(x), "transposed covariance"),
    (lambda x: cov(x) * len(x), "missing 1/N"),
])
def test_covariance_mistakes(wrong, label):
    with pytest.raises(ExerciseFailed, match=label):
        check_covariance(wrong)


def test_covariance_not_attempted():
    def stub(x):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_covariance(stub)


def recon(x, k, centre=True, sort=True, rows=False, add_mean=True):
    mean = x.mean(0) if centre else torch.zeros(x.shape[1], dtype=x.dtype)
    xc = x - mean
    _, v = torch.linalg.eigh(xc.T @ xc / len(x))
    v = v.flip(1) if sort else v
    u = v[:k].T if rows else v[:, :k]
    return xc @ u @ u.T + (mean if add_mean else 0)


def test_reconstruct_correct():
    assert check_pca_reconstruct(recon).passed


@pytest.mark.parametrize("kwargs, label", [
    ({"centre": False}, "no centering"),
    ({"add_mean": False}, "mean not added back"),
    ({"sort": False}, "unsorted eigenvectors"),
    ({"rows": True}, "rows instead of columns"),
])
def test_reconstruct_mistakes(kwargs, label):
    with pytest.raises(ExerciseFailed, match=label):
        check_pca_reconstruct(lambda x, k: recon(x, k, **kwargs))


def test_reconstruct_not_attempted():
    def stub(x, k):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_pca_reconstruct(stub)
