import numpy as np
import pytest
import torch

import aelab
from aelab import validation


@pytest.mark.parametrize("value", [1, 7, np.int64(3)])
def test_positive_int_accepts_python_and_numpy_integers(value):
    assert validation.positive_int("n", value) == int(value) and type(validation.positive_int("n", value)) is int


@pytest.mark.parametrize("value", [0, -2, 1.0, True, np.bool_(True), "3", None])
def test_positive_int_refuses_with_the_name_and_the_value(value):
    with pytest.raises(ValueError, match=r"^n must be a positive integer, got "):
        validation.positive_int("n", value)


@pytest.mark.parametrize("check, good, bad", [
    (validation.positive, [1e-3, 2, np.float32(0.5)], [0, -1.0, float("inf"), float("nan"), True, "1"]),
    (validation.non_negative, [0, 0.0, 3.5, np.float64(1)], [-1e-9, float("inf"), float("nan"), False]),
    (validation.fraction, [0, 0.5, np.float32(0.25)], [1, 1.0, -0.1, float("nan"), True]),
    (validation.probability, [0.05, np.float32(0.5)], [0, 1, 1.5, float("nan"), True]),
])
def test_one_rule_per_kind_of_number(check, good, bad):
    for value in good:
        assert isinstance(check("x", value), float)
    for value in bad:
        with pytest.raises(ValueError, match=r"^x "):
            check("x", value)


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (np.bool_(True), True), (1, True),
                                             (0, False), ("yes", True), ("false", False), ("0", False)])
def test_flag_follows_the_one_yes_no_rule(value, expected):
    assert validation.flag("amp", value) is expected


@pytest.mark.parametrize("value", [2, "ture", "maybe", None])
def test_flag_refuses_what_is_neither(value):
    with pytest.raises(ValueError, match="amp"):
        validation.flag("amp", value)


def test_every_entry_point_uses_the_same_rules():
    """numpy scalars are numbers everywhere (they were refused by some entry points and accepted by
    others); bools are numbers nowhere; the string "false" is never a truthy amp."""
    x = torch.rand(16, 1, 4, 4)
    model = aelab.mlp_autoencoder((1, 4, 4), 3, seed=0)
    history = aelab.fit(model, x, epochs=np.int64(1), lr=np.float32(1e-3), batch_size=np.int64(8),
                        weight_decay=np.float64(0), amp="false", progress=False)
    assert history.complete
    assert aelab.KLSparsity(np.float32(0.05), np.float32(3.0)) and aelab.MaskingNoise(np.float64(0.5))
    assert aelab.TopK(np.int64(4)).k == 4
    for bad in (dict(epochs=True), dict(lr=True), dict(weight_decay=True), dict(amp=2)):
        with pytest.raises(ValueError):
            aelab.fit(model, x, **{"epochs": 1, **bad}, progress=False)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        aelab.KLSparsity(True, 3.0)
