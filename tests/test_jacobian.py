import pytest
import torch

import aelab
from aelab import jacobian


@pytest.fixture
def sigmoid_ae():
    torch.manual_seed(0)
    return aelab.mlp_autoencoder((1, 4, 5), code=6, tied=True).double()


def test_jacobian_shape_and_closed_form(sigmoid_ae):
    x = torch.rand(7, 1, 4, 5, dtype=torch.float64)
    jac = jacobian.encoder_jacobian(sigmoid_ae.encoder, x, batch_size=3)
    assert jac.shape == (7, 6, 20)
    h = sigmoid_ae.encode(x)
    w = sigmoid_ae.encoder[1].weight
    expected = (h * (1 - h)).unsqueeze(2) * w.unsqueeze(0)  # diag(h(1-h)) W
    torch.testing.assert_close(jac, expected)
    torch.testing.assert_close(jacobian.jacobian_frobenius_sq(sigmoid_ae.encoder, x).mean(),
                               aelab.contractive_penalty(h, w))


def test_singular_values_and_tangents(sigmoid_ae):
    x = torch.rand(4, 1, 4, 5, dtype=torch.float64)
    s = jacobian.jacobian_singular_values(sigmoid_ae.encoder, x)
    assert s.shape == (4, 6)
    assert torch.all(s[:, :-1] >= s[:, 1:])
    torch.testing.assert_close(s.pow(2).sum(1), jacobian.jacobian_frobenius_sq(sigmoid_ae.encoder, x))
    s2, v = jacobian.jacobian_tangents(sigmoid_ae.encoder, x, k=2)
    assert s2.shape == (4, 2) and v.shape == (4, 2, 1, 4, 5)
    torch.testing.assert_close(v.flatten(2).norm(dim=2), torch.ones(4, 2, dtype=torch.float64))
    jac = jacobian.encoder_jacobian(sigmoid_ae.encoder, x)
    torch.testing.assert_close((jac @ v.flatten(2).transpose(1, 2)).norm(dim=1), s2)  # ||J v_k|| = s_k


def test_directional_derivative_is_the_jacobian_times_the_direction(sigmoid_ae):
    x = torch.rand(7, 1, 4, 5, dtype=torch.float64)
    u = torch.randn(7, 1, 4, 5, dtype=torch.float64)
    ju = jacobian.directional_derivative(sigmoid_ae.encode, x, u, batch_size=3)
    assert ju.shape == (7, 6)
    jac = jacobian.encoder_jacobian(sigmoid_ae.encode, x)
    torch.testing.assert_close(ju, (jac @ u.flatten(1).unsqueeze(2)).squeeze(2))
    # and the finite difference tends to it, with an error of order r
    errors = [((sigmoid_ae.encode(x + r * u) - sigmoid_ae.encode(x)) / r - ju).abs().max().item() for r in (1e-2, 1e-3)]
    assert errors[1] < errors[0] / 5
    with pytest.raises(ValueError, match="directions"):
        jacobian.directional_derivative(sigmoid_ae.encode, x, u[:3])


def test_stochastic_contraction_small_sigma(sigmoid_ae):
    x = torch.rand(5, 1, 4, 5, dtype=torch.float64)
    noise = torch.randn(4000, 5, 1, 4, 5, dtype=torch.float64)
    mc = jacobian.stochastic_contraction(sigmoid_ae.encoder, x, 1e-3, noise)
    exact = 1e-6 * jacobian.jacobian_frobenius_sq(sigmoid_ae.encoder, x)
    assert mc.shape == (5,)
    assert torch.allclose(mc, exact, rtol=0.15)


def test_penalty_is_differentiable(sigmoid_ae):
    x = torch.rand(3, 1, 4, 5, dtype=torch.float64)
    jacobian.jacobian_frobenius_sq(sigmoid_ae.encoder, x).mean().backward()
    assert sigmoid_ae.encoder[1].weight.grad.abs().sum() > 0


def test_bad_inputs(sigmoid_ae):
    with pytest.raises(TypeError):
        jacobian.encoder_jacobian(sigmoid_ae.encoder, [1, 2])
    with pytest.raises(ValueError):
        jacobian.encoder_jacobian(sigmoid_ae.encoder, torch.rand(5, dtype=torch.float64))
    with pytest.raises(ValueError):
        jacobian.encoder_jacobian(sigmoid_ae.encoder, torch.rand(2, 1, 4, 5, dtype=torch.float64), batch_size=0)
    with pytest.raises(ValueError):
        jacobian.jacobian_tangents(sigmoid_ae.encoder, torch.rand(2, 1, 4, 5, dtype=torch.float64), k=7)
    with pytest.raises(ValueError, match="sigma"):
        jacobian.stochastic_contraction(sigmoid_ae.encoder, torch.rand(2, 1, 4, 5), 0.0, torch.randn(3, 2, 1, 4, 5))
    with pytest.raises(ValueError, match="noise"):
        jacobian.stochastic_contraction(sigmoid_ae.encoder, torch.rand(2, 1, 4, 5), 0.1, torch.randn(3, 2, 20))
