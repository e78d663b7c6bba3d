import pytest
import torch

from aelab.pca import covariance, eigengaps, fit_pca, principal_angles, shuffle_pixels


def test_eig_and_svd_agree(tiny_images):
    a, b = fit_pca(tiny_images, 5, "eig"), fit_pca(tiny_images, 5, "svd")
    assert torch.allclose(a.eigenvalues, b.eigenvalues, rtol=1e-8, atol=1e-12)
    assert torch.allclose(a.components, b.components, atol=1e-7)


def test_mse_is_sum_of_discarded_eigenvalues(tiny_images):
    p = fit_pca(tiny_images, 6)
    x = tiny_images.double()
    mse = (p.reconstruct(x) - x).pow(2).flatten(1).sum(1).mean()
    assert torch.isclose(mse, p.all_eigenvalues[6:].sum(), rtol=1e-9)


def test_covariance_is_one_over_n():
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert torch.allclose(covariance(x), torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=torch.float64))


def test_shuffle_pixels_keeps_each_pixel_and_breaks_correlation(tiny_images):
    s = shuffle_pixels(tiny_images, seed=1)
    assert s.shape == tiny_images.shape and s.dtype == tiny_images.dtype
    a, b = tiny_images.flatten(1), s.flatten(1)
    assert torch.equal(a.sort(dim=0).values, b.sort(dim=0).values)
    # neighbouring pixels of the smooth images are strongly correlated; after shuffling they are not
    assert torch.corrcoef(a[:, 9:11].T)[0, 1] > 0.5
    assert torch.corrcoef(b[:, 9:11].T)[0, 1].abs() < 0.3


def test_shuffle_pixels_is_seeded(tiny_images):
    assert torch.equal(shuffle_pixels(tiny_images, 3), shuffle_pixels(tiny_images, 3))


@pytest.mark.parametrize("bad", [torch.zeros(5), torch.zeros(1, 4), "x"])
def test_shuffle_pixels_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        shuffle_pixels(bad)


def test_eigengaps():
    assert torch.allclose(eigengaps(torch.tensor([4.0, 2.0, 1.0])), torch.tensor([2.0, 2.0], dtype=torch.float64))
    with pytest.raises(ValueError):
        eigengaps(torch.tensor([1.0]))


def test_principal_angles_rotation_invariant():
    q, _ = torch.linalg.qr(torch.randn(10, 3, dtype=torch.float64))
    a = q @ torch.randn(3, 3, dtype=torch.float64)
    assert principal_angles(a, q).max() < 1e-5
    assert torch.allclose(principal_angles(q[:, :1], q[:, 1:2]), torch.tensor([90.0], dtype=torch.float64))
