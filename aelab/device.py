"""Choosing the device a model trains on: CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import platform

import torch

from . import config

ENV_VAR = "AELAB_DEVICE"
_KNOWN = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return the device to train on.

    ``device`` may be ``"auto"`` (or None), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a
    ``torch.device``. ``"auto"`` first reads the ``AELAB_DEVICE`` environment variable, then
    picks CUDA if available, then Apple MPS, then the CPU. Asking for a device that is not
    available raises a ``RuntimeError`` that says which ones are.
    """
    if isinstance(device, torch.device):
        requested = str(device)
    else:
        requested = (device or "auto").strip().lower()
    if requested == "auto":
        requested = config.device()
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")

    kind = requested.split(":")[0]
    if kind not in _KNOWN:
        raise ValueError(
            f"Unknown device {requested!r}. Use one of 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' "
            f"(as an argument or in the {ENV_VAR} environment variable)."
        )
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"Device {requested!r} was requested but CUDA is not available here "
            f"(available: {', '.join(available_devices())}). Unset {ENV_VAR} or pass device='auto'."
        )
    if kind == "mps" and not _mps_available():
        raise RuntimeError(
            f"Device 'mps' was requested but Apple MPS is not available here "
            f"(available: {', '.join(available_devices())}). Unset {ENV_VAR} or pass device='auto'."
        )
    return torch.device(requested)


def available_devices() -> list[str]:
    """Names of the device kinds this machine can use."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names.insert(0, "cuda")
    if _mps_available():
        names.insert(0, "mps")
    return names


def describe_device(device: torch.device | str | None = None) -> str:
    """One line for a notebook's setup cell: the device, its name and the thread count."""
    device = pick_device(device if device is not None else "auto")
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if device.type == "mps":
        return f"mps (Apple {platform.machine()})"
    return f"cpu ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})"
