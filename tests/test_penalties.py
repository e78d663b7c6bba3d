"""aelab.penalties: values, gradients and input validation of the L1, KL and contractive penalties."""

import math

import pytest
import torch
from torch import nn

import aelab
from aelab.penalties import (
    Contractive,
    KLSparsity,
    L1Code,
    contractive_penalty,
    kl_divergence,
    kl_sparsity_gradient,
    kl_sparsity_penalty,
    l1_code_penalty,
)


def codes(n=12, h=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 0.02 + 0.96 * torch.rand(n, h, generator=g, dtype=torch.float64)


# ----------------------------------------------------------------------------- L1
def test_l1_value():
    code = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert float(l1_code_penalty(code)) == pytest.approx((3 + 3) / 2)


def test_l1_object_applies_weight():
    code = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert float(L1Code(0.5)(None, None, code)) == pytest.approx(1.5)


def test_l1_gradient_is_sign_over_n():
    code = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    l1_code_penalty(code).backward()
    assert torch.equal(code.grad, torch.sign(code.detach()) / 2)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "1"])
def test_l1_bad_weight(bad):
    with pytest.raises(ValueError, match="weight"):
        L1Code(bad)


def test_code_must_be_2d():
    with pytest.raises(ValueError, match=r"\(N, H\)"):
        l1_code_penalty(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"\(N, H\)"):
        kl_sparsity_penalty(torch.zeros(5), 0.1)


# ----------------------------------------------------------------------------- KL
def test_kl_bernoulli_value():
    rho, q = 0.05, 0.2
    expected = rho * math.log(rho / q) + (1 - rho) * math.log((1 - rho) / (1 - q))
    assert float(kl_divergence(rho, torch.tensor(q, dtype=torch.float64))) == pytest.approx(expected, rel=1e-12)


def test_kl_zero_at_rho_and_positive_elsewhere():
    q = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
    for rho in (0.05, 0.2, 0.5):
        kl = kl_divergence(rho, q)
        assert (kl >= -1e-12).all()  # round-off near q = rho
        assert abs(float(q[kl.argmin()]) - rho) <= 0.001
        assert float(kl_divergence(rho, torch.tensor(rho, dtype=torch.float64))) == pytest.approx(0, abs=1e-12)


def test_kl_finite_at_zero_and_one():
    kl = kl_divergence(0.05, torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert torch.isfinite(kl).all() and (kl > 0.4).all()  # rho_hat clamped to [1e-6, 1 - 1e-6]


def test_kl_sparsity_penalty_averages_over_samples_and_sums_over_units():
    code = codes()
    rho_hat = code.mean(dim=0)
    expected = sum(0.1 * math.log(0.1 / r) + 0.9 * math.log(0.9 / (1 - r)) for r in rho_hat.tolist())
    assert float(kl_sparsity_penalty(code, 0.1)) == pytest.approx(expected, rel=1e-12)


def test_kl_object_applies_beta():
    code = codes()
    assert float(KLSparsity(0.1, 3.0)(None, None, code)) == pytest.approx(3 * float(kl_sparsity_penalty(code, 0.1)))


def test_kl_gradient_closed_form_matches_autograd():
    q = (0.01 + 0.98 * torch.rand(200, dtype=torch.float64)).requires_grad_(True)
    (2.5 * kl_divergence(0.05, q).sum()).backward()
    assert torch.allclose(kl_sparsity_gradient(q.detach(), 0.05, 2.5), q.grad, atol=1e-10, rtol=0)


def test_kl_penalty_gradient_wrt_codes():
    code = codes().requires_grad_(True)
    (3.0 * kl_sparsity_penalty(code, 0.05)).backward()
    expected = kl_sparsity_gradient(code.detach().mean(0), 0.05, 3.0) / len(code)
    assert torch.allclose(code.grad, expected.expand_as(code), atol=1e-12)


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.1, 1.5, float("nan"), "0.1"])
def test_rho_outside_open_interval_is_rejected(rho):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        KLSparsity(rho, 1.0)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        kl_sparsity_penalty(codes(), rho)


def test_kl_bad_beta():
    with pytest.raises(ValueError, match="beta"):
        KLSparsity(0.1, -1.0)


# ----------------------------------------------------------------------------- contractive
def test_contractive_closed_form_matches_jacobian():
    torch.manual_seed(0)
    layer = nn.Linear(6, 4).double()
    x = torch.rand(3, 6, dtype=torch.float64)
    h = torch.sigmoid(layer(x))
    expected = torch.stack([torch.autograd.functional.jacobian(lambda v: torch.sigmoid(layer(v)), xi).pow(2).sum()
                            for xi in x]).mean()
    assert float(contractive_penalty(h, layer.weight).detach()) == pytest.approx(float(expected), rel=1e-10)


def test_contractive_weight_shape_checked():
    with pytest.raises(ValueError, match=r"\(H, D\)"):
        contractive_penalty(torch.rand(3, 4), torch.rand(5, 6))


def test_contractive_object_on_a_model_and_rejects_deep_encoders():
    model = aelab.mlp_autoencoder(8, 4, penalties=[Contractive(0.1)])
    x = torch.rand(5, 8)
    total, terms = model.loss(x)
    assert "contractive" in terms and torch.isfinite(total)
    deep = aelab.mlp_autoencoder(8, 4, hidden=(6,), penalties=[Contractive(0.1)])
    with pytest.raises(ValueError, match="one-layer sigmoid encoder"):
        deep.loss(x)


def test_kl_in_training_pulls_mean_activation_down():
    torch.manual_seed(0)
    x = torch.rand(256, 16)
    model = aelab.mlp_autoencoder(16, 32, penalties=[KLSparsity(0.05, 3.0)])
    aelab.fit(model, x, epochs=30, lr=1e-2, batch_size=64, progress=False)
    assert float(aelab.predict(model.encode, x).mean()) < 0.15
