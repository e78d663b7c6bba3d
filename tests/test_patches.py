"""aelab.patches: 1/f whitening flattens a natural-image spectrum; patches have UFLDL's format."""

import numpy as np
import pytest
import torch

from aelab.patches import natural_image_patches, whiten_1f


def pink_noise(side=128, seed=0):
    """An image with a natural-image-like power spectrum, 1/f^2 (amplitude 1/f)."""
    rng = np.random.default_rng(seed)
    f = np.hypot(np.fft.fftfreq(side)[:, None], np.fft.fftfreq(side)[None, :])
    spectrum = np.fft.fft2(rng.standard_normal((side, side))) / np.maximum(f, 1 / side)
    return np.real(np.fft.ifft2(spectrum))


def band_power(image, low, high):
    f = np.hypot(np.fft.fftfreq(image.shape[0])[:, None], np.fft.fftfreq(image.shape[1])[None, :])
    power = np.abs(np.fft.fft2(image)) ** 2
    return power[(f >= low) & (f < high)].mean()


def test_whitening_flattens_a_one_over_f_spectrum():
    image = pink_noise()
    before = band_power(image, 0.02, 0.05) / band_power(image, 0.1, 0.15)
    white = whiten_1f(image)
    after = band_power(white, 0.02, 0.05) / band_power(white, 0.1, 0.15)
    assert before > 10          # 1/f^2: low frequencies dominate
    assert 0.5 < after < 2.0    # whitened: about equal power per frequency below the roll-off
    assert white.mean() == pytest.approx(0, abs=1e-9) and white.std() == pytest.approx(1)


def test_patches_have_ufldl_format():
    images = [pink_noise(64, seed=s) for s in range(3)]
    x = natural_image_patches(100, 8, images=images, seed=1)
    assert x.shape == (100, 1, 8, 8) and x.dtype == torch.float32
    assert float(x.min()) >= 0.1 - 1e-6 and float(x.max()) <= 0.9 + 1e-6
    centred = (x.flatten(1) - 0.5) / 0.4          # back to the clipped, per-patch zero-mean values
    assert float(centred.mean(dim=1).abs().median()) < 0.05
    assert torch.equal(x, natural_image_patches(100, 8, images=images, seed=1))
    assert not torch.equal(x, natural_image_patches(100, 8, images=images, seed=2))


def test_patches_from_the_sample_photographs():
    x = natural_image_patches(50)
    assert x.shape == (50, 1, 8, 8)


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, "positive integer"),
    ({"n": 10, "size": 1}, "size"),
    ({"n": 10, "size": 80, "images": [np.zeros((64, 64)) + np.eye(64)]}, "smaller than"),
    ({"n": 10, "images": []}, "at least one"),
])
def test_patch_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        natural_image_patches(**kwargs)


def test_whitening_errors():
    with pytest.raises(ValueError, match="greyscale"):
        whiten_1f(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        whiten_1f(np.full((16, 16), np.nan))
    with pytest.raises(ValueError, match="constant"):
        whiten_1f(np.ones((16, 16)))
