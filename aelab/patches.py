"""Whitened natural-image patches: the data of the UFLDL sparse-autoencoder exercise.

UFLDL's ``IMAGES.mat`` are ten photographs whitened by Olshausen & Field (1997): in the Fourier
domain each image is multiplied by R(f) = f * exp(-(f / f0)^4). Natural images have a power
spectrum falling like 1/f^2, so the factor f flattens it (all spatial frequencies get equal
power, which is what whitening means), and the exp(-(f/f0)^4) roll-off keeps the highest
frequencies, mostly noise and JPEG artefacts, from being amplified. Here the two photographs that
ship with scikit-learn stand in for the ten (offline: they are part of the scikit-learn wheel).
"""

from __future__ import annotations

import numpy as np
import torch

from . import validation


def whiten_1f(image: np.ndarray, f0: float = 0.2) -> np.ndarray:
    """Olshausen-Field whitening of a greyscale image (H, W): mean removed, spectrum multiplied by
    f * exp(-(f / f0)^4) (f in cycles per pixel, Nyquist 0.5), result scaled to unit variance."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 8:
        raise ValueError(f"whiten_1f needs a greyscale image of shape (H, W) with H, W >= 8, got {image.shape}.")
    if not np.isfinite(image).all():
        raise ValueError("whiten_1f: the image contains NaN or infinite values.")
    if not 0 < f0 <= 0.5:
        raise ValueError(f"f0 is a frequency in cycles per pixel, 0 < f0 <= 0.5; got {f0}.")
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.fftfreq(image.shape[1])[None, :]
    f = np.hypot(fx, fy)
    white = np.real(np.fft.ifft2(np.fft.fft2(image - image.mean()) * f * np.exp(-((f / f0) ** 4))))
    std = white.std()
    if std == 0:
        raise ValueError("whiten_1f: the image is constant, there is nothing to whiten.")
    return white / std


def natural_image_patches(n: int, size: int = 8, *, seed: int = 0, images=None) -> torch.Tensor:
    """``n`` random ``size`` x ``size`` patches of whitened photographs, as UFLDL prepares them.

    Each image is whitened (:func:`whiten_1f`); patches are drawn uniformly from all positions,
    equally many from each image; each patch's mean is removed (a filter then cannot respond to
    brightness); values are clipped at +-3 standard deviations and mapped to [0.1, 0.9], the
    range a sigmoid output can reach.

    Args:
        images: greyscale images (H, W) with values in [0, 1]; default scikit-learn's two sample
            photographs (``load_sample_images``), averaged over the colour channels.

    Returns:
        float32 tensor of shape (n, 1, size, size) with values in [0.1, 0.9].
    """
    validation.positive_int("n", n)
    if not isinstance(size, int) or size < 2:
        raise ValueError(f"size must be an integer >= 2, got {size!r}.")
    if images is None:
        from sklearn.datasets import load_sample_images

        images = [photo.mean(axis=-1) / 255 for photo in load_sample_images().images]
    images = list(images)
    if not images:
        raise ValueError("natural_image_patches needs at least one image.")
    generator = torch.Generator().manual_seed(seed)
    per_image = [n // len(images) + (i < n % len(images)) for i in range(len(images))]
    patches = []
    for image, count in zip(images, per_image):
        white = torch.from_numpy(whiten_1f(image))
        if min(white.shape) < size:
            raise ValueError(f"an image of shape {tuple(white.shape)} is smaller than the patch size {size}.")
        rows = torch.randint(white.shape[0] - size + 1, (count,), generator=generator)
        cols = torch.randint(white.shape[1] - size + 1, (count,), generator=generator)
        offsets = torch.arange(size)
        # Gather every patch at once: (count, size, size) via broadcast row and column indices.
        patches.append(white[(rows[:, None] + offsets)[:, :, None], (cols[:, None] + offsets)[:, None, :]])
    x = torch.cat(patches).flatten(1)
    x = x - x.mean(dim=1, keepdim=True)
    limit = 3 * x.std()
    x = x.clamp(-limit, limit) / limit                      # [-1, 1]
    return ((x + 1) * 0.4 + 0.1).float().reshape(n, 1, size, size)
