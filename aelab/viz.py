"""The course's figures. Every function draws on a given (or new) matplotlib Axes, labels it, and
returns the Axes or Figure, so notebooks can compose them."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid


def _as_images(x: torch.Tensor, image_shape=None) -> torch.Tensor:
    x = x.detach().to("cpu", torch.float32)
    if x.ndim == 2:
        if image_shape is None:
            raise ValueError("flat inputs (N, D) need image_shape=(C, H, W) or (H, W).")
        x = x.reshape(len(x), *((1, *image_shape) if len(image_shape) == 2 else image_shape))
    elif x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), (N, H, W) or (N, D), got {tuple(x.shape)}.")
    return x


def show_images(x: torch.Tensor, nrow: int = 8, title: str | None = None, ax=None, image_shape=None,
                vmin: float = 0.0, vmax: float = 1.0, cmap: str = "gray", padding: int = 1,
                pad_color="white"):
    """A grid of images (values shown on [vmin, vmax]). Returns the Axes.

    The frame between images is drawn in ``pad_color``, outside the colour map, so it never
    reads as a pixel value.
    """
    x = _as_images(x, image_shape)
    grid = make_grid(x, nrow=nrow, padding=padding, pad_value=float("nan"))[0].numpy()
    ax = ax or plt.subplots(figsize=(min(12, 1.1 * nrow), 1.1 * np.ceil(len(x) / nrow) + 0.4))[1]
    colours = plt.get_cmap(cmap).with_extremes(bad=pad_color)
    ax.imshow(np.ma.masked_invalid(grid), cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def show_filters(weights: torch.Tensor, image_shape=None, n: int = 64, nrow: int = 8,
                 title: str | None = None, ax=None):
    """First-layer filters (H, D) or (H, C, h, w), each scaled to its own max |w|.

    Drawn on a diverging map (white = 0, red positive, blue negative) so the sign of a weight
    is visible: a grey map would hide whether a stroke detector is excitatory or inhibitory.
    The frame is dark grey, a colour the map never uses.
    """
    w = _as_images(weights[:n], image_shape)
    scale = w.flatten(1).abs().amax(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
    ax = show_images(w / scale, nrow=nrow, ax=ax, vmin=-1, vmax=1, cmap="RdBu_r", padding=1, pad_color="0.3")
    ax.set_title(title or f"{len(w)} filters (each scaled to its max |w|; red +, blue -)")
    return ax


def compare_reconstructions(x: torch.Tensor, x_hat: torch.Tensor, n: int = 8, title: str | None = None,
                            row_labels: Sequence[str] = ("original", "reconstruction", "|error|")):
    """Rows of originals, reconstructions and absolute errors for the first ``n`` images."""
    x, x_hat = _as_images(x[:n]), _as_images(x_hat[:n], x.shape[1:])
    rows = [x, x_hat, (x - x_hat).abs()]
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.1 * n, 1.25 * len(rows) + 0.3))
    for ax, images, label in zip(axes, rows, row_labels):
        show_images(images, nrow=n, ax=ax)
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_rows(rows: Sequence[torch.Tensor], labels: Sequence[str], title: str | None = None,
               vmin: float = 0.0, vmax: float = 1.0):
    """Several rows of images with a label to the left of each row."""
    n = len(rows[0])
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.1 * n, 1.25 * len(rows) + 0.3), squeeze=False)
    for ax, images, label in zip(axes[:, 0], rows, labels):
        show_images(images, nrow=n, ax=ax, vmin=vmin, vmax=vmax)
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def latent_scatter(z: torch.Tensor, labels: torch.Tensor, classes: Sequence[str] | None = None,
                   ax=None, title: str = "Latent space", xlabel: str = "z1", ylabel: str = "z2", s: float = 4):
    """2-D points coloured by class, with a legend naming the classes."""
    z = np.asarray(z.detach().cpu() if isinstance(z, torch.Tensor) else z)
    labels = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"latent_scatter needs points of shape (N, 2), got {z.shape}.")
    ax = ax or plt.subplots(figsize=(5.5, 5))[1]
    # One scatter in a shuffled order: drawn class by class, the last classes would cover the first.
    order = np.random.default_rng(0).permutation(len(z))
    colours = plt.cm.tab10(labels.astype(int) % 10)
    ax.scatter(z[order, 0], z[order, 1], s=s, alpha=0.7, c=colours[order], linewidths=0)
    for c in np.unique(labels):
        name = classes[int(c)] if classes is not None else str(c)
        ax.scatter([], [], s=s, color=plt.cm.tab10(int(c) % 10), label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(markerscale=3, fontsize="small", loc="best", framealpha=0.8)
    return ax


def explore(draw, **controls):
    """A figure with sliders: ``draw(**values)`` returns a matplotlib Figure, redrawn when a slider moves.

    Each keyword names an argument of ``draw`` and how its slider moves:

    - a list of values: a slider over those values, starting at the first;
    - a tuple ``(min, max, step, start)``: a slider over floats.

    Returns the widget to display (the last line of a cell shows it). The figure is rendered to a
    PNG shown in an ``ipywidgets.Image``, not captured by an ``Output`` widget: executing a notebook
    headless (nbconvert, nbval, papermill) can deadlock when a figure is sent into an Output widget
    (jupyter/nbclient#312), and a PNG also keeps the saved notebook's picture. Without ipywidgets
    the figure is drawn once at the starting values and None is returned.
    """
    import io

    starts = {}
    for name, spec in controls.items():
        if isinstance(spec, list) and spec:
            starts[name] = spec[0]
        elif isinstance(spec, tuple) and len(spec) == 4 and spec[0] <= spec[3] <= spec[1] and spec[2] > 0:
            starts[name] = spec[3]
        else:
            raise ValueError(f"explore: control {name}={spec!r} must be a non-empty list of values or a tuple "
                             "(min, max, step, start) with min <= start <= max and step > 0.")

    def render(values):
        fig = draw(**values)
        if not isinstance(fig, plt.Figure):
            raise TypeError(f"explore: draw must return a matplotlib Figure, got {type(fig).__name__}.")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
        plt.close(fig)   # the PNG is the picture; the inline backend must not show the figure again
        return buffer.getvalue()

    try:
        import ipywidgets as widgets
    except ImportError:
        print("ipywidgets is not installed: the figure at the starting values (pip install ipywidgets for sliders).")
        from IPython.display import Image, display
        display(Image(render(starts)))
        return None

    sliders = {}
    for name, spec in controls.items():
        if isinstance(spec, list):
            sliders[name] = widgets.SelectionSlider(options=spec, value=spec[0], description=name,
                                                    continuous_update=False)
        else:
            low, high, step, start = (float(v) for v in spec)
            sliders[name] = widgets.FloatSlider(value=start, min=low, max=high, step=step, description=name,
                                                continuous_update=False)
    image = widgets.Image(value=render(starts), format="png")

    def update(_change=None):
        image.value = render({name: slider.value for name, slider in sliders.items()})

    for slider in sliders.values():
        slider.observe(update, names="value")
    return widgets.VBox([widgets.HBox(list(sliders.values())), image])
