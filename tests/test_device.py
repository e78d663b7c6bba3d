import pytest
import torch

from aelab import device as device_module
from aelab.device import describe_device, pick_device


def fake(monkeypatch, cuda=False, mps=False):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(device_module, "_mps_available", lambda: mps)


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    fake(monkeypatch, cuda=True, mps=True)
    assert pick_device() == torch.device("cuda")
    fake(monkeypatch, cuda=False, mps=True)
    assert pick_device("auto") == torch.device("mps")
    fake(monkeypatch)
    assert pick_device(None) == torch.device("cpu")


def test_environment_variable_overrides_auto_not_an_explicit_argument(monkeypatch):
    fake(monkeypatch, cuda=True)
    monkeypatch.setenv("AELAB_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    assert pick_device("cuda:1") == torch.device("cuda:1")


def test_unavailable_or_unknown_device_is_a_clear_error(monkeypatch):
    fake(monkeypatch)
    with pytest.raises(RuntimeError, match="CUDA is not available.*available: cpu"):
        pick_device("cuda")
    with pytest.raises(RuntimeError, match="MPS is not available"):
        pick_device("mps")
    monkeypatch.setenv("AELAB_DEVICE", "tpu")
    with pytest.raises(ValueError, match="Unknown device 'tpu'"):
        pick_device()


def test_describe_device_cpu(monkeypatch):
    fake(monkeypatch)
    assert describe_device().startswith("cpu (")


def test_describe_device_cuda(monkeypatch):
    fake(monkeypatch, cuda=True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake GPU")
    assert describe_device("cuda") == "cuda:0 (Fake GPU)"
