import hashlib

import numpy as np
import pytest
import torch

import aelab
from aelab import data as data_module
from conftest import make_idx_folder, write_idx


def test_loads_torchvision_layout_from_data_dir(tmp_path):
    make_idx_folder(tmp_path / "data" / "MNIST" / "raw", n_train=60, n_test=20)
    d = aelab.load("mnist", n_val=10)
    assert d.x_train.shape == (50, 1, 28, 28) and d.x_val.shape == (10, 1, 28, 28) and d.x_test.shape == (20, 1, 28, 28)
    assert d.x_train.dtype == torch.float32 and 0 <= d.x_train.min() and d.x_train.max() <= 1
    assert d.y_train.dtype == torch.int64 and d.image_shape == (1, 28, 28) and d.n_features == 784
    assert "MNIST/raw" in d.source


def test_values_are_scaled_pixels(tmp_path):
    folder = make_idx_folder(tmp_path / "data" / "MNIST" / "raw", n_train=5, n_test=5)
    write_idx(folder / "t10k-images-idx3-ubyte", np.full((5, 28, 28), 255))
    d = aelab.load("mnist", n_val=1)
    assert torch.all(d.x_test == 1.0)


def test_system_copy_with_gzipped_files(tmp_path, monkeypatch):
    system = make_idx_folder(tmp_path / "system", n_train=40, n_test=10, compress=True)
    monkeypatch.setitem(data_module.SYSTEM_DIRS, "fashion-mnist", (system,))
    d = aelab.load("fashion-mnist", n_val=4)
    assert len(d.x_train) == 36 and d.classes[0] == "T-shirt/top"
    assert "system copy" in d.source


def test_subsets_are_seeded_and_disjoint(tmp_path):
    make_idx_folder(tmp_path / "data" / "MNIST" / "raw", n_train=100, n_test=30)
    a = aelab.load("mnist", n_train=20, n_val=10, n_test=5, seed=1, verbose=False)
    b = aelab.load("mnist", n_train=20, n_val=10, n_test=5, seed=1, verbose=False)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.x_test, b.x_test)
    rows = {tuple(r.flatten().tolist()) for r in a.x_train} & {tuple(r.flatten().tolist()) for r in a.x_val}
    assert not rows


def test_sizes_beyond_the_split_are_an_error_unless_allowed(tmp_path, capsys):
    make_idx_folder(tmp_path / "data" / "MNIST" / "raw", n_train=50, n_test=12)
    with pytest.raises(ValueError, match="n_test=20 but only 12 images.*allow_fewer"):
        aelab.load("mnist", n_test=20, verbose=False)
    data = aelab.load("mnist", n_train=1000, n_val=10, n_test=20, allow_fewer=True, verbose=False)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (40, 10, 12)
    assert "n_train=1000 asked for, 40 available" in capsys.readouterr().out


def test_missing_dataset_names_the_remedies(monkeypatch):
    monkeypatch.setitem(data_module.SYSTEM_DIRS, "fashion-mnist", ())
    with pytest.raises(aelab.DatasetNotFoundError) as info:
        aelab.load("fashion-mnist")
    message = str(info.value)
    assert "AELAB_DATA_DIR" in message and "apt-get install dataset-fashion-mnist" in message and "digits" in message


def test_offline_check_is_fast_and_skipped(monkeypatch):
    calls = []
    monkeypatch.setattr(data_module.socket, "create_connection", lambda *a, **k: calls.append(a))
    assert data_module.network_available("example.invalid") is False
    assert calls == []  # AELAB_OFFLINE=1: no connection attempted at all


def test_truncated_and_corrupt_files_get_clear_errors(tmp_path):
    folder = make_idx_folder(tmp_path / "data" / "MNIST" / "raw", n_train=10, n_test=10)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(aelab.DatasetNotFoundError, match="truncated"):
        aelab.load("mnist")
    path.write_bytes(b"garbage!" * 10)
    with pytest.raises(aelab.DatasetNotFoundError, match="magic"):
        aelab.load("mnist")


def test_auto_prefers_mnist_then_fashion_then_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(data_module.SYSTEM_DIRS, "fashion-mnist", ())
    d = aelab.load("auto")
    assert d.name == "digits" and "mnist is not in" in capsys.readouterr().out
    system = make_idx_folder(tmp_path / "system", n_train=20, n_test=5, compress=True)
    monkeypatch.setitem(data_module.SYSTEM_DIRS, "fashion-mnist", (system,))
    assert aelab.load("auto", n_val=2).name == "fashion-mnist"
    make_idx_folder(tmp_path / "data" / "MNIST" / "raw", n_train=20, n_test=5)
    assert aelab.load("auto", n_val=2).name == "mnist"


def test_digits_are_8x8_in_unit_range():
    d = aelab.load("digits")
    assert d.image_shape == (1, 8, 8) and d.x_train.max() <= 1 and len(d.x_test) == 297


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "cifar"}, "Unknown dataset"),
    ({"name": "digits", "n_train": 0}, "positive integer"),
    ({"name": "digits", "n_train": 10**6}, "only"),
    ({"name": "digits", "n_test": 2.5}, "positive integer"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        aelab.load(**kwargs)


def test_torchvision_download_path_with_local_mirror(tmp_path, monkeypatch):
    """The real download code (torchvision's, checksums verified) against a mirror on loopback."""
    import functools
    import http.server
    import threading

    import torchvision.datasets as tvd

    mirror = make_idx_folder(tmp_path / "mirror", n_train=30, n_test=10, compress=True)
    resources = [(p.name, hashlib.md5(p.read_bytes()).hexdigest()) for p in sorted(mirror.iterdir())]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(tvd.MNIST, "mirrors", [f"http://127.0.0.1:{server.server_port}/"])
        monkeypatch.setattr(tvd.MNIST, "resources", resources)
        monkeypatch.setattr(data_module, "network_available", lambda host, timeout=3.0: True)
        d = aelab.load("mnist", n_val=5)
    finally:
        server.shutdown()
        server.server_close()
    assert d.x_train.shape == (25, 1, 28, 28) and "downloaded" in d.source


def test_failed_download_checksum_is_reported(tmp_path, monkeypatch, capsys):
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens on port 9
    monkeypatch.setattr(data_module, "network_available", lambda host, timeout=3.0: True)
    with pytest.raises(aelab.DatasetNotFoundError):
        aelab.load("mnist")
    assert "Download of mnist failed" in capsys.readouterr().err


def test_dataset_to_moves_every_tensor():
    d = aelab.load("digits", n_train=20, n_val=5, n_test=5, verbose=False).to("cpu")
    assert d.x_val.device.type == "cpu" and "digits" in repr(d)


@pytest.mark.parametrize("damage, match", [
    ("cut_header", "header is cut short"),
    ("odd_length", "truncated"),
    ("wrong_size", "27x27, MNIST's are 28x28"),
    ("labels_out_of_range", "not the classes 0-9"),
    ("images_as_labels", "images in place of labels"),
])
def test_a_damaged_idx_file_gets_the_dataset_error_with_its_remedy(tmp_path, damage, match):
    folder = make_idx_folder(tmp_path / "data" / "MNIST" / "raw", n_train=10, n_test=5)
    images, labels = folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte"
    if damage == "cut_header":
        images.write_bytes(images.read_bytes()[:9])
    elif damage == "odd_length":
        write_idx(labels, np.zeros(10))
        raw = bytearray(labels.read_bytes())
        raw[2] = 0x0B  # 2-byte values over an odd number of bytes
        labels.write_bytes(bytes(raw) + b"\x00")
    elif damage == "wrong_size":
        write_idx(images, np.zeros((10, 27, 27)))
    elif damage == "labels_out_of_range":
        write_idx(labels, np.full(10, 12))
    else:
        write_idx(labels, np.zeros((10, 28, 28)))
    with pytest.raises(aelab.DatasetNotFoundError, match=match) as error:
        aelab.load("mnist", n_val=1)
    assert "Delete" in str(error.value)
