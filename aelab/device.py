"""Choosing the device a model trains on (CUDA, then Apple MPS, then the CPU), and naming the processor."""

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


def cpu_model() -> str:
    """The processor, as precisely as the system says: vendor, family, model and name on Linux.

    The kernel set (``torch.backends.cpu.get_cpu_capability()``) is not enough to identify a machine's
    floating-point results: an AMD EPYC and an Intel Xeon both report AVX512, and their MKL paths give
    training runs that differ in the last digits from the first steps on.
    """
    try:
        with open("/proc/cpuinfo") as info:
            first = info.read().split("\n\n", 1)[0]
        fields = dict(line.split(":", 1) for line in first.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        if "vendor_id" in fields:
            return (f"{fields['vendor_id']} family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"
                    f" ({fields.get('model name', '?')})")
    except OSError:
        pass
    return platform.processor() or platform.machine()
