"""environment.yml (conda) and pyproject.toml (pip) must describe the same environment."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PIP = {"pytorch": "torch"}  # conda-forge names that differ from PyPI's
CONDA_ONLY = {"python", "pip"}


def split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pip_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(split(r) for r in reqs)


def conda_requirements() -> dict[str, str]:
    deps, in_deps = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        item = re.match(r"^  - ([^\s#]+)\s*$", line)
        if in_deps and item and item.group(1) != "pip:":
            name, spec = split(item.group(1).replace("=", "==", 1) if re.match(r"^[\w.-]+=[^=]", item.group(1))
                               else item.group(1))
            if name not in CONDA_ONLY:
                deps[CONDA_TO_PIP.get(name, name)] = spec
    return deps


def test_same_packages_and_versions():
    pip, conda = pip_requirements(), conda_requirements()
    assert set(pip) == set(conda), (f"only in pyproject: {set(pip) - set(conda)}; "
                                    f"only in environment.yml: {set(conda) - set(pip)}")
    assert {k: pip[k] for k in pip} == {k: conda[k] for k in pip}


def test_environment_installs_aelab_itself():
    assert '-e ".[dev]"' in (ROOT / "environment.yml").read_text()
