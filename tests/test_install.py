"""The install: pyproject.toml's ranges admit every version of requirements-lock.txt, and CI installs with the lock.

pyproject.toml says what the project supports (ranges), the lock one tested point
in them; a range bumped past the lock, or a dependency added without locking it,
fails here rather than as a CI install that resolves to something untested.
"""

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements-lock.txt"


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"not a name==version pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def test_every_dependency_range_admits_its_locked_version():
    pins = locked()
    meta = project()
    requirements = [Requirement(r) for r in meta["dependencies"] + meta["optional-dependencies"]["test"]]
    for req in requirements:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency but not in {LOCK.name}"
        assert req.specifier.contains(pins[name], prereleases=True), f"{req} does not admit the locked {pins[name]}"
        # Ranges, not pins: an exact pin belongs in the lock only.
        assert not any(spec.operator in ("==", "===") for spec in req.specifier), f"{req} is a pin"


def test_the_lock_is_for_a_supported_python_and_leaves_the_project_out():
    pins = locked()
    assert canonicalize_name(project()["name"]) not in pins
    made_with = re.search(r"Python (\d+\.\d+)", LOCK.read_text()).group(1)
    supported = SpecifierSet(project()["requires-python"])
    assert supported.contains(made_with) and supported.contains(".".join(map(str, sys.version_info[:3])))


def test_ci_installs_with_the_lock_as_a_constraint():
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"pip install .*-c requirements-lock\.txt -e '\.\[test,tracking\]'", ci), ci
