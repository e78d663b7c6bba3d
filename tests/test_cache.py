import pytest
import torch

import aelab
from aelab import cache


def test_save_is_atomic_and_loads_with_matching_key():
    cache.save("entry", {"key": "abc", "config": "{}", "complete": True, "state_dict": {"w": torch.ones(2)},
                         "history": {}})
    assert not list(cache.cache_dir().glob("*.tmp"))
    payload = cache.load("entry", "abc", {})
    assert torch.equal(payload["state_dict"]["w"], torch.ones(2))


def test_a_failed_write_keeps_the_old_entry(monkeypatch):
    cache.save("entry", {"key": "old", "config": "{}", "state_dict": {}, "history": {}})

    def broken_save(obj, handle):
        handle.write(b"partial")
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(torch, "save", broken_save)
        with pytest.raises(OSError):
            cache.save("entry", {"key": "new", "config": "{}", "state_dict": {}, "history": {}})
    assert cache.load("entry", "old", {}) is not None
    assert not list(cache.cache_dir().glob("*.tmp"))


def test_checkpoints_are_loaded_with_weights_only(monkeypatch):
    seen = {}
    original = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    cache.save("entry", {"key": "k", "config": "{}", "state_dict": {}, "history": {}})
    monkeypatch.setattr(torch, "load", spy)
    cache.load("entry", "k", {})
    assert seen["weights_only"] is True


def test_a_pickled_object_is_refused_not_executed(capsys):
    class Evil:
        def __reduce__(self):
            return (print, ("code ran",))

    path = cache.entry_path("evil")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": cache.FORMAT, "key": "k", "state_dict": {}, "obj": Evil()}, path)
    assert cache.load("evil", "k", {}) is None
    out = capsys.readouterr()
    assert "code ran" not in out.out and "unreadable" in out.err


@pytest.mark.parametrize("name", ["", "../escape", "a/b", "with space", None])
def test_bad_names(name):
    with pytest.raises(ValueError, match="cache name"):
        cache.entry_path(name)


def test_list_and_clear_from_the_command_line(capsys, tiny_images):
    aelab.fit(aelab.mlp_autoencoder((1, 8, 8), code=3), tiny_images, epochs=1, cache="one", progress=False)
    assert cache.main(["list"]) == 0
    assert "one" in capsys.readouterr().out
    assert cache.main(["clear", "one"]) == 0
    assert cache.entries() == []
    assert cache.main(["bogus"]) == 2
