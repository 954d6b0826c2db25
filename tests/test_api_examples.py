"""Every function of the notebook API (docs/api.md) has a runnable example that passes.

Each example runs as a doctest in a temporary working directory, must take a few seconds at
most, and must not leave files in the repository.
"""

from __future__ import annotations

import doctest
import importlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: (module, qualified name) of the public notebook API.
PUBLIC_API = (
    ("geo.boundaries", "read_boundaries"),
    ("geo.assign", "assign_points"),
    ("geo.assign", "assign_frame"),
    ("geo.store.open", "open_store"),
    ("geo.store.base", "CaseStore.read_cases"),
    ("analytics.indicators", "kpis"),
    ("analytics.ranking", "rank_areas"),
    ("analytics.hotspots.density", "DensityHotspots"),
    ("analytics.hotspots.gistar", "GiStarHotspots"),
    ("analytics.hotspots.emerging", "EmergingHotspots"),
    ("analytics.duplicates", "find_duplicates"),
    ("analytics.maps.areas", "choropleth"),
    ("analytics.maps.hotspot_layers", "hotspots"),
    ("analytics.maps.points", "heatmap"),
    ("analytics.maps.points", "cases"),
    ("analytics.maps.coords", "latlon"),
)
#: Generous bound for one example on a loaded 2-core machine ("a few seconds" when idle).
MAX_SECONDS = 30.0


def _resolve(module_name: str, qualname: str) -> object:
    obj: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.fixture
def in_tmp_dir(tmp_path: Path) -> Iterator[Path]:
    before = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def _repo_files() -> set[str]:
    return {
        str(p.relative_to(REPO))
        for p in REPO.iterdir()
        if p.name not in {".pytest_cache", ".mypy_cache", ".ruff_cache"}
    }


@pytest.mark.parametrize(("module_name", "qualname"), PUBLIC_API)
def test_public_api_example_runs(module_name: str, qualname: str, in_tmp_dir: Path) -> None:
    module = importlib.import_module(module_name)
    obj = _resolve(module_name, qualname)
    doc = getattr(obj, "__doc__", None) or ""
    assert "Examples\n" in doc, f"{module_name}.{qualname} has no Examples section"
    finder = doctest.DocTestFinder(recurse=False)
    tests = finder.find(obj, f"{module_name}.{qualname}", module=module, globs=vars(module))
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    before = _repo_files()
    start = time.perf_counter()
    for test in tests:
        runner.run(test)
    elapsed = time.perf_counter() - start
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
    assert elapsed < MAX_SECONDS, f"example took {elapsed:.1f} s"
    assert _repo_files() == before, "the example wrote into the repository"
    assert list(in_tmp_dir.iterdir()) == [], "the example wrote into the working directory"


def test_the_api_document_lists_every_public_function() -> None:
    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    for _, qualname in PUBLIC_API:
        assert qualname.split(".")[-1] in text, qualname
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/api.md" in readme
