"""The registry's VGG19 weight entries: verified by md5 where only an md5 is published, and optional (found by
name, not listed with the files the course needs up front)."""

import hashlib

import pytest

from tfcore.datasets import REGISTRY, DataFileCorruptError, Registry
from tfcore.datasets import registry as registry_module


def test_weight_entries():
    keras = REGISTRY.get("vgg19/keras-notop")
    assert keras.filename == "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert keras.url == ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                         "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
    assert keras.content_hash == ("md5", "253f8cb515780f3b799900260a226db6")
    assert keras.download_hash == "md5:253f8cb515780f3b799900260a226db6" and keras.sha256 is None
    mat = REGISTRY.get("imagenet-vgg-verydeep-19.mat")
    assert mat.content_hash == ("md5", "106118b7cf60435e6d8e04f6a6dc3657") and mat.subdir == "vgg19"
    for entry in (keras, mat):
        assert entry.optional and entry.name in REGISTRY
        assert entry not in REGISTRY.entries() and entry.name not in REGISTRY.names()
        assert entry in REGISTRY.entries(optional=True) and entry.name in REGISTRY.names(optional=True)
        assert entry not in list(REGISTRY)


def test_md5_entries_are_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("TFCORE_CACHE", str(tmp_path / "cache"))
    reg = Registry()
    good = tmp_path / "w.bin"
    good.write_bytes(b"weights" * 1000)
    md5 = hashlib.md5(good.read_bytes()).hexdigest()
    reg.register("x/w", "w.bin", "https://example.invalid/w.bin", "x", None, md5=md5)
    assert reg.verify(good, "x/w") == good
    assert registry_module.content_hash(good, "md5") == md5
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"weights" * 999)
    with pytest.raises(DataFileCorruptError, match=f"the md5 of its content should be {md5}") as info:
        reg.verify(bad, "x/w")
    assert info.value.expected == md5 and info.value.actual == hashlib.md5(bad.read_bytes()).hexdigest()
    # the verification cache keeps md5 and sha256 digests apart
    assert registry_module._actual_hash(good, "sha256") == hashlib.sha256(good.read_bytes()).hexdigest()
    assert registry_module._actual_hash(good, "md5") == md5


def test_an_entry_needs_a_content_hash():
    reg = Registry()
    with pytest.raises(ValueError, match="sha256 must be 64 hex digits, got None"):
        reg.register("x/a", "a.bin", "https://example.invalid/a.bin", "x", None)
    with pytest.raises(ValueError, match="md5 must be 32 hex digits"):
        reg.register("x/a", "a.bin", "https://example.invalid/a.bin", "x", None, md5="abc")
