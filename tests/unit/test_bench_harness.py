"""The benchmarks' caches are made by the code they are used with (bench/harness.py)."""

from bench import harness


def _code(root, text):
    (root / "intranet").mkdir(exist_ok=True)
    (root / "intranet" / "db.py").write_text(text)
    (root / "intranet" / "__pycache__").mkdir(exist_ok=True)


def test_the_hash_follows_the_code_and_nothing_compiled(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "ROOT", tmp_path)
    _code(tmp_path, "A = 1\n")
    first = harness.code_hash("intranet")
    (tmp_path / "intranet" / "__pycache__" / "db.cpython-311.pyc").write_bytes(b"\0")
    assert harness.code_hash("intranet") == first
    _code(tmp_path, "A = 2\n")
    assert harness.code_hash("intranet") != first
    (tmp_path / "intranet" / "db.py").rename(tmp_path / "intranet" / "engine.py")
    assert len({first, harness.code_hash("intranet")}) == 2


def test_a_cache_made_by_other_code_is_removed_not_reused(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setattr(harness, "ROOT", tmp_path)
    monkeypatch.setenv("SHINSEI_BENCH_CACHE", str(cache))
    _code(tmp_path, "A = 1\n")
    old = harness.cache_dir("city", "pg15-10", ("intranet",))
    (old / "data").mkdir(parents=True)
    other_size = harness.cache_dir("city", "pg15-99", ("intranet",))
    other_size.mkdir()
    assert harness.cache_dir("city", "pg15-10", ("intranet",)) == old and old.exists()
    _code(tmp_path, "A = 2\n")
    new = harness.cache_dir("city", "pg15-10", ("intranet",))
    assert new != old and not old.exists() and not new.exists()
    assert other_size.exists()     # another size's cache is its own business


def test_an_unknown_scale_is_refused_by_name(monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("BENCH_SCALE", "tiny")
    monkeypatch.delitem(sys.modules, "bench.harness")
    try:
        importlib.import_module("bench.harness")
    except SystemExit as refused:
        assert "BENCH_SCALE='tiny'" in str(refused) and "full, small" in str(refused)
    else:
        raise AssertionError("BENCH_SCALE=tiny was accepted")
