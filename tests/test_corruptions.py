"""Unit tests of aelab.corruptions: values, statistics, validation, and use in the Autoencoder."""

import dataclasses
import math

import numpy as np
import pytest
import torch

import aelab
from aelab.corruptions import salt_and_pepper_noise


def positive(n=200, d=500, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 0.1 + 0.9 * torch.rand(n, d, generator=g)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_masking_zeroes_a_fraction_q_and_keeps_the_rest_unchanged(q):
    x = positive()
    out = aelab.masking_noise(x, q)
    assert out.shape == x.shape and out.dtype == x.dtype
    dropped = out == 0
    assert torch.equal(out[~dropped], x[~dropped])  # not rescaled: a corruption, not dropout
    tolerance = 6 * math.sqrt(q * (1 - q) / x.numel())
    assert abs(float(dropped.double().mean()) - q) < tolerance


def test_masking_draws_a_fresh_independent_mask_per_image_and_call():
    x = positive(4000, 20)
    a, b = aelab.masking_noise(x, 0.5) == 0, aelab.masking_noise(x, 0.5) == 0
    assert not torch.equal(a, b)
    assert not (a == a[:1]).all()
    # independence of two entries of an image: P(both dropped) = q^2 (within 6 standard deviations)
    both = float((a[:, 0] & a[:, 1]).double().mean())
    assert abs(both - 0.25) < 6 * math.sqrt(0.25 * 0.75 / len(a))


def test_masking_with_zero_fraction_is_the_identity_and_keeps_gradients():
    x = positive(4, 10).requires_grad_()
    assert torch.equal(aelab.masking_noise(x, 0.0), x)
    out = aelab.masking_noise(x, 0.5)
    out.sum().backward()
    assert torch.equal(x.grad, (out != 0).to(x.dtype))


def test_masking_is_reproducible_under_seed_everything():
    x = positive(5, 30)
    aelab.seed_everything(3)
    a = aelab.masking_noise(x, 0.3)
    aelab.seed_everything(3)
    assert torch.equal(a, aelab.masking_noise(x, 0.3))


@pytest.mark.parametrize("std", [0.0, 0.1, 0.5, 2.0])
def test_gaussian_noise_has_mean_zero_and_the_requested_std(std):
    x = positive(400, 500)
    noise = aelab.gaussian_noise(x, std) - x
    assert abs(float(noise.mean())) < 6 * std / math.sqrt(x.numel()) + 1e-12
    assert abs(float(noise.std()) - std) < 0.01 * std + 1e-12


def test_gaussian_noise_is_not_clipped_and_is_independent_of_x():
    x = torch.zeros(100, 100)
    out = aelab.gaussian_noise(x, 1.0)
    assert out.min() < 0 < out.max()  # x_tilde may leave [0, 1]; the target x stays clean
    x2 = torch.ones(100, 100)
    torch.manual_seed(1)
    a = aelab.gaussian_noise(x, 0.3)
    torch.manual_seed(1)
    assert torch.allclose(aelab.gaussian_noise(x2, 0.3) - x2, a - x, atol=1e-6)


def test_salt_and_pepper_sets_a_fraction_to_zero_or_one():
    x = torch.full((200, 500), 0.5)
    out = salt_and_pepper_noise(x, 0.4)
    hit = out != 0.5
    assert set(out[hit].unique().tolist()) <= {0.0, 1.0}
    assert abs(float(hit.double().mean()) - 0.4) < 0.01
    assert abs(float((out[hit] == 1).double().mean()) - 0.5) < 0.02


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan"), "0.3", None, True])
def test_fractions_outside_0_1_are_refused(bad):
    with pytest.raises(ValueError, match="fraction"):
        aelab.masking_noise(torch.rand(2, 3), bad)
    with pytest.raises(ValueError, match="fraction"):
        aelab.MaskingNoise(bad)
    with pytest.raises(ValueError, match="fraction"):
        aelab.SaltAndPepper(bad)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "1", None, True])
def test_bad_std_is_refused(bad):
    with pytest.raises(ValueError, match="std"):
        aelab.gaussian_noise(torch.rand(2, 3), bad)
    with pytest.raises(ValueError, match="std"):
        aelab.GaussianNoise(bad)


def test_numpy_numbers_are_accepted():
    assert aelab.masking_noise(torch.rand(2, 3), np.float32(0.2)).shape == (2, 3)
    assert aelab.GaussianNoise(np.float64(0.1))(torch.rand(2, 3)).shape == (2, 3)


def test_integer_images_get_a_clear_error():
    x = torch.randint(0, 256, (2, 1, 4, 4), dtype=torch.uint8)
    for fn in (lambda: aelab.masking_noise(x, 0.2), lambda: aelab.gaussian_noise(x, 0.1),
               lambda: salt_and_pepper_noise(x, 0.1)):
        with pytest.raises(TypeError, match="floating-point"):
            fn()


def test_corruption_objects_call_the_functions_and_show_in_the_repr():
    x = positive(10, 50)
    torch.manual_seed(0)
    a = aelab.MaskingNoise(0.3)(x)
    torch.manual_seed(0)
    assert torch.equal(a, aelab.masking_noise(x, 0.3))
    model = aelab.mlp_autoencoder(50, code=4, corruption=aelab.GaussianNoise(0.2))
    assert "GaussianNoise(std=0.2)" in repr(model)
    with pytest.raises(dataclasses.FrozenInstanceError):  # frozen: the settings are part of the cache key
        aelab.MaskingNoise(0.3).fraction = 0.5


def test_autoencoder_corrupts_only_in_training_and_compares_with_the_clean_input():
    torch.manual_seed(0)
    model = aelab.mlp_autoencoder((1, 4, 4), code=3, corruption=aelab.MaskingNoise(0.5))
    x = torch.rand(8, 1, 4, 4)
    model.eval()
    clean = model.loss(x)[1]["reconstruction"]
    assert torch.allclose(clean, model.reconstruction_loss(model.decoder(model.encoder(x)), x))
    model.train()
    torch.manual_seed(1)
    noisy = model.loss(x)[1]["reconstruction"]
    torch.manual_seed(1)
    x_tilde = aelab.masking_noise(x, 0.5)
    expected = model.reconstruction_loss(model.decoder(model.encoder(x_tilde)), x)  # target: clean x
    assert torch.allclose(noisy, expected)
    assert not torch.allclose(noisy, model.reconstruction_loss(model.decoder(model.encoder(x_tilde)), x_tilde))
