import numpy as np
import pytest
import torch

import aelab
from aelab.activations import TopK, anneal_k, top_k


def test_top_k_keeps_the_k_largest_values_of_each_row():
    z = torch.tensor([[0.5, -3.0, 2.0, 1.0, -0.1],
                      [4.0, 3.0, -5.0, 0.2, 0.3]])
    out = top_k(z, 2)
    assert torch.equal(out, torch.tensor([[0.0, 0.0, 2.0, 1.0, 0.0],
                                          [4.0, 3.0, 0.0, 0.0, 0.0]]))


def test_top_k_uses_values_not_magnitudes():
    z = torch.tensor([[-10.0, 1.0, 2.0, -0.5]])
    assert torch.equal(top_k(z, 1), torch.tensor([[0.0, 0.0, 2.0, 0.0]]))
    # with fewer positive entries than k, negative values are kept (linear pre-activations)
    assert torch.equal(top_k(z, 3), torch.tensor([[0.0, 1.0, 2.0, -0.5]]))


def test_top_k_exactly_k_nonzeros_per_row_and_kept_values_unchanged():
    z = torch.randn(64, 100, generator=torch.Generator().manual_seed(1))
    for k in (1, 7, 50, 100):
        out = top_k(z, k)
        assert out.shape == z.shape
        assert torch.all((out != 0).sum(dim=1) == k)
        kept = out != 0
        assert torch.equal(out[kept], z[kept])
        # every kept value is >= every dropped value of its row
        smallest_kept = torch.where(kept, z, torch.full_like(z, np.inf)).amin(dim=1)
        largest_dropped = torch.where(kept, torch.full_like(z, -np.inf), z).amax(dim=1)
        assert torch.all(smallest_kept >= largest_dropped)


def test_top_k_is_per_row_not_over_the_batch():
    z = torch.tensor([[10.0, 9.0, 8.0], [1.0, 2.0, 3.0]])
    out = top_k(z, 1)
    assert torch.equal(out, torch.tensor([[10.0, 0.0, 0.0], [0.0, 0.0, 3.0]]))


def test_top_k_k_equal_to_code_size_is_identity():
    z = torch.randn(5, 6)
    assert torch.equal(top_k(z, 6), z)


def test_top_k_gradient_flows_only_through_kept_units():
    z = torch.tensor([[0.3, -1.0, 2.0, 0.7]], requires_grad=True)
    weights = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    (top_k(z, 2) * weights).sum().backward()
    assert torch.equal(z.grad, torch.tensor([[0.0, 0.0, 3.0, 4.0]]))


def test_top_k_gradient_matches_finite_differences_float64():
    z = torch.randn(3, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: top_k(t, 3), (z,))


def test_top_k_accepts_numpy_integers_and_keeps_dtype():
    z = torch.randn(4, 10, dtype=torch.float64)
    out = top_k(z, np.int64(3))
    assert out.dtype == torch.float64 and torch.all((out != 0).sum(1) == 3)


@pytest.mark.parametrize("k", [0, -1, 11, 2.5, True, "3", None])
def test_top_k_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k must be an integer between 1 and the code size 10"):
        top_k(torch.randn(4, 10), k)


@pytest.mark.parametrize("shape", [(10,), (2, 3, 4)])
def test_top_k_rejects_codes_that_are_not_2d(shape):
    with pytest.raises(ValueError, match=r"shape \(N, H\)"):
        top_k(torch.randn(*shape), 1)


def test_topk_layer_matches_function_and_k_can_change():
    z = torch.randn(8, 20)
    layer = TopK(5)
    assert torch.equal(layer(z), top_k(z, 5))
    layer.k = 2
    assert torch.all((layer(z) != 0).sum(1) == 2)
    assert "k=2" in repr(layer)


@pytest.mark.parametrize("k", [0, -3, 1.5, True, "5"])
def test_topk_layer_rejects_bad_k(k):
    with pytest.raises(ValueError, match="positive integer"):
        TopK(k)


def test_topk_layer_with_k_above_code_size_fails_clearly_at_forward():
    with pytest.raises(ValueError, match="code size 4"):
        TopK(5)(torch.randn(2, 4))


def test_anneal_k_linear_schedule_then_constant():
    layer = TopK(10)
    hook = anneal_k(layer, start=100, end=10, epochs=5)
    ks = []
    for epoch in range(8):
        hook(epoch, None, None)
        ks.append(layer.k)
    assert ks == [100, 82, 64, 46, 28, 10, 10, 10]


def test_anneal_k_start_equal_end_is_constant():
    layer = TopK(7)
    hook = anneal_k(layer, 7, 7, 3)
    for epoch in range(4):
        hook(epoch, None, None)
        assert layer.k == 7


def test_anneal_k_name_describes_the_schedule():
    hook = anneal_k(TopK(3), 30, 3, 4)
    assert hook.describe() == "anneal_k(start=30, end=3, epochs=4)" == repr(hook)


@pytest.mark.parametrize("start, end, epochs", [(5, 10, 3), (10, 0, 3), (10.0, 5, 3), (10, 5, 0), (10, 5, 2.0)])
def test_anneal_k_rejects_bad_settings(start, end, epochs):
    with pytest.raises(ValueError, match="anneal_k"):
        anneal_k(TopK(5), start, end, epochs)


def _ksparse_model(k=3):
    torch.manual_seed(0)
    layer = TopK(k)
    model = aelab.mlp_autoencoder((1, 8, 8), code=16, tied=True, code_activation=layer, output="linear", loss="mse")
    return model, layer


class Record:
    """A hook that records layer.k; it computes nothing, so it describes itself by its name."""

    def __init__(self, layer, seen):
        self.layer, self.seen = layer, seen

    def __call__(self, epoch, model, optimizer):
        self.seen.append(self.layer.k)

    def describe(self):
        return "record k"


def test_anneal_k_drives_fit_and_a_cached_model_gets_the_final_k(tiny_images):
    model, layer = _ksparse_model()
    seen = []
    hooks = [anneal_k(layer, 12, 3, 2), Record(layer, seen)]
    aelab.fit(model, tiny_images, epochs=4, hooks=hooks, cache="ks_anneal", progress=False)
    assert seen == [12, 8, 3, 3]
    assert torch.all((aelab.predict(model.encode, tiny_images) != 0).sum(1) == 3)

    model2, layer2 = _ksparse_model()
    seen.clear()
    hooks = [anneal_k(layer2, 12, 3, 2), Record(layer2, seen)]
    history = aelab.fit(model2, tiny_images, epochs=4, hooks=hooks, cache="ks_anneal", progress=False)
    assert history.from_cache and seen == [3] and layer2.k == 3
    assert torch.equal(model2.encoder[1].weight, model.encoder[1].weight)
