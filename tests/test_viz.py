import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from aelab import viz  # noqa: E402


def test_show_images_grid_and_title():
    ax = viz.show_images(torch.rand(10, 1, 8, 8), nrow=5, title="digits")
    assert ax.get_title() == "digits" and ax.images[0].get_array().shape == (2 * 9 + 1, 5 * 9 + 1)


def test_show_filters_uses_a_diverging_map_and_scales_each_filter():
    w = torch.randn(6, 64) * torch.arange(1, 7).view(6, 1)
    ax = viz.show_filters(w, image_shape=(8, 8), nrow=3)
    image = ax.images[0]
    assert image.get_cmap().name.startswith("RdBu_r") and image.get_clim() == (-1, 1) and "filters" in ax.get_title()


def test_filter_frame_is_not_a_weight_colour():
    """The padding between filters is masked and drawn in grey, not as +1 (dark red) or 0 (white)."""
    ax = viz.show_filters(torch.randn(4, 64), image_shape=(8, 8), nrow=2)
    image = ax.images[0]
    grid = image.get_array()
    assert grid.mask[0].all() and grid.mask[:, 0].all() and not grid.mask[1:9, 1:9].any()
    assert tuple(image.get_cmap().get_bad()[:3]) == pytest.approx((0.3, 0.3, 0.3))


def test_compare_reconstructions_has_labelled_rows():
    fig = viz.compare_reconstructions(torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8), n=4)
    assert [ax.get_ylabel() for ax in fig.axes] == ["original", "reconstruction", "|error|"]


def test_latent_scatter_labels_and_legend():
    ax = viz.latent_scatter(torch.randn(30, 2), torch.arange(30) % 3, classes=["a", "b", "c"])
    assert ax.get_xlabel() == "z1" and [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.latent_scatter(torch.randn(5, 3), torch.zeros(5))


def test_flat_images_need_a_shape():
    with pytest.raises(ValueError, match="image_shape"):
        viz.show_images(torch.rand(3, 64))


def _line_figure(scale=1.0, colour="red"):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, scale], color=colour)
    ax.set_title(f"scale {scale}")
    return fig


def test_explore_renders_the_start_and_redraws_when_a_slider_moves():
    calls = []

    def draw(scale, colour):
        calls.append((scale, colour))
        return _line_figure(scale, colour)

    box = viz.explore(draw, scale=(0.0, 2.0, 0.5, 1.0), colour=["red", "blue"])
    sliders, image = box.children
    scale_slider, colour_slider = sliders.children
    assert calls == [(1.0, "red")] and image.value[:8] == b"\x89PNG\r\n\x1a\n"
    first = image.value
    colour_slider.value = "blue"
    assert calls[-1] == (1.0, "blue") and image.value != first
    scale_slider.value = 2.0
    assert calls[-1] == (2.0, "blue")


def test_explore_closes_its_figures():
    import matplotlib.pyplot as plt

    plt.close("all")
    box = viz.explore(lambda k: _line_figure(k), k=[1, 2, 3])
    box.children[0].children[0].value = 3
    assert plt.get_fignums() == []


@pytest.mark.parametrize("spec", [[], (0.0, 1.0, 0.1), (0.0, 1.0, 0.1, 2.0), (0.0, 1.0, 0.0, 0.5), 3])
def test_explore_rejects_a_bad_control(spec):
    with pytest.raises(ValueError, match="non-empty list of values or a tuple"):
        viz.explore(_line_figure, scale=spec)


def test_explore_needs_draw_to_return_a_figure():
    with pytest.raises(TypeError, match="must return a matplotlib Figure"):
        viz.explore(lambda k: None, k=[1])


def test_explore_without_ipywidgets_shows_the_start(monkeypatch, capsys):
    import sys

    shown = []
    monkeypatch.setitem(sys.modules, "ipywidgets", None)   # import ipywidgets now raises ImportError
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    assert viz.explore(_line_figure, scale=[0.5, 1.0]) is None
    assert len(shown) == 1 and "ipywidgets is not installed" in capsys.readouterr().out


def test_latent_scatter_draws_the_classes_interleaved_so_no_class_covers_another():
    labels = torch.arange(300) // 100                      # three classes, given in blocks
    ax = viz.latent_scatter(torch.randn(300, 2), labels, classes=["a", "b", "c"])
    colours = ax.collections[0].get_facecolors()[:, :3]     # the points, in drawing order
    last_hundred = {tuple(c.round(3)) for c in colours[-100:]}
    assert len(ax.collections[0].get_offsets()) == 300 and len(last_hundred) == 3
