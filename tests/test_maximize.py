import pytest
import torch
from torch import nn

from aelab.maximize import first_layer_optimum, maximize_activation, mean_pairwise_cosine, project_to_sphere


def _layer(seed=0, d=12, h=5):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(d, h)).double()


def test_first_layer_matches_closed_form():
    layer = _layer()
    result = maximize_activation(layer, 3, (12,), norm=2.0, steps=300, lr=1.0, n_starts=4, seed=1)
    expected = first_layer_optimum(layer[1].weight.detach(), 2.0)[3]
    cos = torch.nn.functional.cosine_similarity(result.images, expected.expand_as(result.images), dim=1)
    assert cos.min() > 1 - 1e-9
    best = layer(expected[None])[0, 3]
    assert torch.allclose(result.activations, best.expand(4), atol=1e-8)


def test_sigmoid_unit_has_same_argmax_and_image_shapes_work():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3), nn.Sigmoid()).double()
    result = maximize_activation(model, 1, (1, 4, 4), norm=1.0, steps=500, lr=5.0, n_starts=3)
    assert result.images.shape == (3, 1, 4, 4) and result.trace.shape == (501, 3)
    expected = first_layer_optimum(model[1].weight.detach(), 1.0)[1].view(1, 4, 4)
    assert torch.allclose(result.images, expected.expand_as(result.images), atol=1e-6)


def test_norm_constraint_holds_and_trace_rises():
    torch.manual_seed(0)
    deep = nn.Sequential(nn.Linear(10, 8), nn.Sigmoid(), nn.Linear(8, 4))
    result = maximize_activation(deep, 2, (10,), norm=3.0, steps=50, lr=0.5, n_starts=5)
    assert torch.allclose(result.images.norm(dim=1), torch.full((5,), 3.0), atol=1e-5)
    assert (result.trace[-1] >= result.trace[0] - 1e-6).all()
    assert result.best.shape == (10,)


def test_deterministic_with_seed_and_seed_matters():
    deep = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    a = maximize_activation(deep, 0, (6,), norm=1.0, steps=5, seed=4)
    b = maximize_activation(deep, 0, (6,), norm=1.0, steps=5, seed=4)
    c = maximize_activation(deep, 0, (6,), norm=1.0, steps=5, seed=5)
    assert torch.equal(a.images, b.images) and torch.equal(a.trace, b.trace)
    assert not torch.equal(a.images, c.images)


def test_plain_function_and_init_and_mode_restored():
    w = torch.tensor([3.0, 4.0])
    result = maximize_activation(lambda x: (x @ w)[:, None], 0, (2,), norm=5.0, steps=20,
                                 init=torch.tensor([[1.0, 0.0], [0.0, 1.0]]), n_starts=2)
    assert torch.allclose(result.images, torch.tensor([[3.0, 4.0], [3.0, 4.0]]), atol=1e-4)
    model = _layer().train()
    maximize_activation(model, 0, (12,), norm=1.0, steps=2)
    assert model.training and all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("unit", [5, 99, -1])
def test_bad_unit_index(unit):
    with pytest.raises(IndexError, match="has 5 units"):
        maximize_activation(_layer(), unit, (12,), norm=1.0, steps=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"norm": 0.0}, "norm"), ({"norm": float("nan")}, "norm"), ({"norm": 1.0, "steps": 0}, "steps"),
    ({"norm": 1.0, "lr": -1}, "lr"), ({"norm": 1.0, "n_starts": 1.5}, "n_starts"),
    ({"norm": 1.0, "init": torch.zeros(8, 12)}, "all-zero"), ({"norm": 1.0, "init": torch.ones(2, 12)}, "shape"),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        maximize_activation(_layer(), 0, (12,), **kwargs)


def test_bad_unit_type_and_shape_and_fn():
    with pytest.raises(TypeError, match="unit"):
        maximize_activation(_layer(), 1.0, (12,), norm=1.0)
    with pytest.raises(ValueError, match="input_shape"):
        maximize_activation(_layer(), 0, (0, 12), norm=1.0)
    with pytest.raises(TypeError, match="fn"):
        maximize_activation("model", 0, (12,), norm=1.0)
    with pytest.raises(ValueError, match="shape \\(N, H\\)"):
        maximize_activation(lambda x: x.sum(), 0, (12,), norm=1.0)


def test_mean_pairwise_cosine():
    x = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert mean_pairwise_cosine(x) == pytest.approx(1 / 3)
    assert mean_pairwise_cosine(torch.stack([x[0], -x[0]])) == pytest.approx(-1)
    with pytest.raises(ValueError, match="n >= 2"):
        mean_pairwise_cosine(x[:1])
    with pytest.raises(ValueError, match="all zeros"):
        mean_pairwise_cosine(torch.zeros(2, 3))


def test_first_layer_optimum_and_projection():
    w = torch.tensor([[3.0, 4.0], [0.0, 2.0]])
    assert torch.allclose(first_layer_optimum(w, 10.0), torch.tensor([[6.0, 8.0], [0.0, 10.0]]))
    with pytest.raises(ValueError, match="all-zero"):
        first_layer_optimum(torch.zeros(2, 2), 1.0)
    with pytest.raises(ValueError, match="shape \\(H, D\\)"):
        first_layer_optimum(torch.ones(3), 1.0)
    p = project_to_sphere(torch.randn(4, 1, 3, 3), 2.0)
    assert torch.allclose(p.flatten(1).norm(dim=1), torch.full((4,), 2.0))


def test_auto_step_reaches_the_optimum_where_a_fixed_step_crawls():
    """A deep unit with small gradients: eps = 1 barely moves the starts in 50 steps; lr='auto'
    scales the step to the sphere and gets every start to the same optimum."""
    torch.manual_seed(0)
    deep = nn.Sequential(nn.Linear(20, 8), nn.Sigmoid(), nn.Linear(8, 1)).double()
    with torch.no_grad():
        deep[2].weight.mul_(1e-3)                       # gradients of order 1e-4
    fixed = maximize_activation(deep, 0, (20,), norm=2.0, steps=50, lr=1.0, n_starts=4, seed=0)
    auto = maximize_activation(deep, 0, (20,), norm=2.0, steps=50, lr="auto", n_starts=4, seed=0)
    assert isinstance(auto.lr, float) and auto.lr > 1000
    assert fixed.agreement() < 0.5 < 0.999 < auto.agreement()
    assert (auto.activations >= fixed.activations.max() - 1e-12).all()
    with pytest.raises(ValueError, match="'auto'"):
        maximize_activation(deep, 0, (20,), norm=2.0, lr="fast")
