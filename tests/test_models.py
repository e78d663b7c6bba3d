import pytest
import torch
from torch import nn

import aelab
from aelab.models import TiedLinear


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 8, 8), (1, 13, 9)])
def test_conv_autoencoder_round_trips_shape(shape):
    model = aelab.Autoencoder(aelab.conv_encoder(shape, 10), aelab.conv_decoder(shape, 10))
    x = torch.rand(3, *shape)
    assert model(x).shape == x.shape and model.encode(x).shape == (3, 10)


def test_mlp_autoencoder_shapes_and_hidden_layers():
    model = aelab.mlp_autoencoder((1, 8, 8), code=5, hidden=(32, 16))
    linears = [m.out_features for m in model.modules() if isinstance(m, nn.Linear)]
    assert linears == [32, 16, 5, 16, 32, 64]
    x = torch.rand(4, 1, 8, 8)
    out = model(x)
    assert out.shape == x.shape and out.min() > 0 and out.max() < 1


def test_linear_autoencoder_has_no_nonlinearity():
    model = aelab.linear_autoencoder(10, code=3)
    assert not [m for m in model.modules() if isinstance(m, (nn.Sigmoid, nn.ReLU, nn.Tanh))]
    x1, x2 = torch.randn(5, 10), torch.randn(5, 10)
    b = model(torch.zeros(1, 10))
    torch.testing.assert_close(model(x1 + x2) - b, (model(x1) - b) + (model(x2) - b))
    assert model.loss_name == "mse"


def test_linear_autoencoder_balanced_start():
    model = aelab.linear_autoencoder(10, code=3)
    assert torch.equal(model.decoder[0].weight, model.encoder[1].weight.T)
    assert model.decoder[0].weight.data_ptr() != model.encoder[1].weight.data_ptr()   # trained untied
    default = aelab.linear_autoencoder(10, code=3, init="pytorch")
    assert not torch.allclose(default.decoder[0].weight, default.encoder[1].weight.T)
    with pytest.raises(ValueError, match="init"):
        aelab.linear_autoencoder(10, code=3, init="xavier")


def test_balanced_start_lets_sgd_reach_pca():
    """Why the balanced start is the default: plain SGD from PyTorch's unbalanced start is still far
    from PCA's error after 30 epochs; from the balanced start it is within 10 %."""
    g = torch.Generator().manual_seed(0)
    basis = torch.linalg.qr(torch.randn(64, 64, generator=g))[0]
    scales = torch.tensor([3.0, 2.5, 2.0, 1.5] + [0.1] * 60)
    x = (torch.randn(512, 64, generator=g) * scales) @ basis.T
    pca_error = float((scales[4:] ** 2).sum())          # sum of the discarded variances (population)
    ratios = {}
    for init in ("balanced", "pytorch"):
        torch.manual_seed(0)
        model = aelab.linear_autoencoder(64, 4, init=init)
        aelab.fit(model, x, epochs=30, batch_size=64, optimizer="sgd", lr=1e-3, progress=False, device="cpu")
        ratios[init] = aelab.evaluate(model, x)["reconstruction"] / pca_error
    assert ratios["balanced"] < 1.1 and ratios["pytorch"] > 2, ratios


def test_tied_decoder_shares_the_weight():
    model = aelab.mlp_autoencoder(6, code=3, tied=True)
    tied = [m for m in model.decoder.modules() if isinstance(m, TiedLinear)][0]
    assert tied.encoder_layer[0] is model.encoder[1]
    assert sum(p.numel() for p in model.parameters()) == 6 * 3 + 3 + 6
    with pytest.raises(ValueError, match="one-layer"):
        aelab.mlp_autoencoder(6, code=3, hidden=(4,), tied=True)


def test_bce_loss_equals_manual_sum_over_pixels():
    model = aelab.mlp_autoencoder(4, code=2)
    x = torch.rand(3, 4)
    total, terms = model.loss(x)
    out = model(x)
    manual = -(x * out.log() + (1 - x) * (1 - out).log()).sum(1).mean()
    torch.testing.assert_close(total, manual, rtol=1e-5, atol=1e-5)


def test_penalty_terms_are_added_and_named():
    model = aelab.mlp_autoencoder(4, code=3, penalties=[aelab.L1Code(0.5), aelab.KLSparsity(0.1, 2.0)])
    total, terms = model.loss(torch.rand(5, 4))
    assert list(terms) == ["reconstruction", "l1_code", "kl_sparsity"]
    torch.testing.assert_close(total, sum(terms.values()))


def test_corruption_only_in_training_mode():
    seen = []

    def spy(x):
        seen.append(x)
        return torch.zeros_like(x)

    model = aelab.mlp_autoencoder(4, code=2, corruption=spy)
    x = torch.rand(2, 4)
    model.train()
    model.loss(x)
    model.eval()
    model.loss(x)
    assert len(seen) == 1


def test_masking_noise_zeroes_and_l1_penalty_grows_with_codes():
    """The two first composable pieces: masking noise and the L1 code penalty."""
    torch.manual_seed(0)
    x = torch.rand(1000, 50) + 0.1
    noisy = aelab.masking_noise(x, 0.3)
    zeroed = (noisy == 0).float().mean().item()
    assert abs(zeroed - 0.3) < 0.01 and torch.equal(noisy[noisy != 0], x[noisy != 0])
    assert aelab.l1_code_penalty(torch.ones(2, 3)) == 3.0


@pytest.mark.parametrize("kwargs, match", [
    ({"output": "tanh"}, "output"),
    ({"loss": "hinge"}, "loss"),
    ({"output": "linear", "loss": "bce"}, "Binary cross-entropy"),
    ({"corruption": 3}, "callable"),
    ({"penalties": [aelab.L1Code(1.0), aelab.L1Code(2.0)]}, "distinct"),
])
def test_bad_model_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        aelab.Autoencoder(nn.Linear(2, 2), nn.Linear(2, 2), **kwargs)


@pytest.mark.parametrize("call, match", [
    (lambda: aelab.mlp_encoder((1, 8, 8), code=0), "positive"),
    (lambda: aelab.mlp_encoder((1, -8, 8), code=3), "positive"),
    (lambda: aelab.mlp_encoder(4, code=3, activation="swish"), "Unknown activation"),
])
def test_bad_builder_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
