"""The wheel and the sdist as users get them, and the lockfile against pyproject.toml.

The distributions are built in-process with hatchling's PEP 517 hooks, from the working tree into
``tmp_path``: no network, no build isolation, about a second. hatchling comes from the lockfile
(``requirements-dev.txt``), which pins the build backend beside the dev tools.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import re
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

import chalk_client

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
NAME = "chalk_client"  # the distribution name as file names spell it
VERSION = chalk_client.__version__
LOCKFILE = ROOT / "requirements-dev.txt"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel and the sdist, built once for the module."""
    try:
        from hatchling import build as backend
    except ImportError:  # pragma: no cover - only in a venv not made by scripts/_bootstrap.sh
        pytest.fail("hatchling is not installed: scripts/test installs it from requirements-dev.txt")
    out = tmp_path_factory.mktemp("dist")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)  # PEP 517 hooks run in the project's root
        wheel = out / backend.build_wheel(str(out))
        sdist = out / backend.build_sdist(str(out))
    return wheel, sdist


@pytest.fixture(scope="module")
def wheel_files(dists: tuple[Path, Path]) -> dict[str, bytes]:
    with zipfile.ZipFile(dists[0]) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def sdist_files(dists: tuple[Path, Path]) -> dict[str, bytes]:
    prefix = f"{NAME}-{VERSION}/"
    files: dict[str, bytes] = {}
    with tarfile.open(dists[1]) as archive:
        for member in archive.getmembers():
            assert member.name.startswith(prefix), member.name
            if member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                files[member.name.removeprefix(prefix)] = extracted.read()
    return files


@pytest.fixture(scope="module")
def metadata(wheel_files: dict[str, bytes]) -> email.message.Message:
    return _parse_metadata(wheel_files[f"{NAME}-{VERSION}.dist-info/METADATA"])


def _parse_metadata(raw: bytes) -> email.message.Message:
    """Core metadata, read as importlib.metadata reads it (UTF-8 text in email headers form)."""
    return email.parser.Parser(policy=email.policy.compat32).parsestr(raw.decode("utf-8"))


def test_the_distributions_are_named_for_the_version(dists: tuple[Path, Path]) -> None:
    wheel, sdist = dists
    assert wheel.name == f"{NAME}-{VERSION}-py3-none-any.whl"
    assert sdist.name == f"{NAME}-{VERSION}.tar.gz"


def test_wheel_holds_both_packages_with_py_typed_and_nothing_else(wheel_files: dict[str, bytes]) -> None:
    assert (ROOT / "chalk_client" / "py.typed").is_file()
    assert (ROOT / "generated" / "chalk_openapi" / "py.typed").is_file()
    assert "chalk_client/py.typed" in wheel_files
    assert "chalk_openapi/py.typed" in wheel_files
    assert "chalk_client/testing/__init__.py" in wheel_files
    tops = {name.split("/", 1)[0] for name in wheel_files}
    assert tops == {"chalk_client", "chalk_openapi", f"{NAME}-{VERSION}.dist-info"}
    assert not [name for name in wheel_files if "__pycache__" in name or name.endswith(".pyc")]


def test_wheel_carries_the_license(wheel_files: dict[str, bytes], metadata: email.message.Message) -> None:
    license_text = (ROOT / "LICENSE").read_bytes()
    assert b"Apache License" in license_text
    assert b"Version 2.0, January 2004" in license_text
    assert wheel_files[f"{NAME}-{VERSION}.dist-info/licenses/LICENSE"] == license_text
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_license_metadata_follows_pep_639(metadata: email.message.Message) -> None:
    assert PROJECT["license"] == "Apache-2.0"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert Version(metadata["Metadata-Version"]) >= Version("2.4")
    # With a license expression, PEP 639 forbids License classifiers (hatchling does not check).
    assert not [c for c in metadata.get_all("Classifier", []) if c.startswith("License ::")]
    assert metadata["License"] is None


def test_readme_is_the_long_description(metadata: email.message.Message) -> None:
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload() == (ROOT / "README.md").read_text(encoding="utf-8")


def test_classifiers_and_keywords(metadata: email.message.Message) -> None:
    classifiers = metadata.get_all("Classifier", [])
    for wanted in (
        "Operating System :: OS Independent",
        "Intended Audience :: Developers",
        "Typing :: Typed",
    ):
        assert wanted in classifiers
    versions = [
        c.rsplit(" :: ", 1)[1]
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert "3.11" in versions
    requires_python = SpecifierSet(metadata["Requires-Python"])
    assert all(Version(v) in requires_python for v in versions), (versions, requires_python)
    assert "chalk" in metadata["Keywords"].split(",")
    assert metadata["Version"] == VERSION


def test_sdist_holds_license_readme_and_sources(sdist_files: dict[str, bytes]) -> None:
    for name in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml"):
        assert sdist_files[name] == (ROOT / name).read_bytes(), name
    assert "chalk_client/py.typed" in sdist_files
    assert "generated/chalk_openapi/py.typed" in sdist_files
    assert "openapi/chalk.yaml" in sdist_files
    pkg_info = _parse_metadata(sdist_files["PKG-INFO"])
    assert pkg_info.get_payload() == (ROOT / "README.md").read_text(encoding="utf-8")
    assert pkg_info["License-Expression"] == "Apache-2.0"


def test_a_wheel_built_from_the_sdist_matches(
    dists: tuple[Path, Path], wheel_files: dict[str, bytes], tmp_path: Path
) -> None:
    """The sdist is complete: what it builds is the wheel built from the repository."""
    from hatchling import build as backend

    with tarfile.open(dists[1]) as archive:
        archive.extractall(tmp_path, filter="data")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path / f"{NAME}-{VERSION}")
        rebuilt = out / backend.build_wheel(str(out))
    with zipfile.ZipFile(rebuilt) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert files == wheel_files


# -- the README as PyPI shows it ------------------------------------------------------------


def test_readme_starts_with_install_and_ends_with_developing() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", readme, flags=re.MULTILINE)
    assert headings[:2] == ["Install", "Quickstart"]
    install = readme.split("## Install", 1)[1].split("## Quickstart", 1)[0]
    assert "pip install chalk-client" in install
    for extra in PROJECT["optional-dependencies"]:
        if extra != "dev":
            assert f"`chalk-client[{extra}]`" in install, extra
    developing = readme.split("## Developing", 1)[1].split("\n## ", 1)[0]
    assert "scripts/demo" in developing
    assert "scripts/test" in developing
    assert headings.index("Developing") > headings.index("Quickstart") + 5


def test_readme_relative_links_name_files_that_ship_in_the_sdist(sdist_files: dict[str, bytes]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = set(re.findall(r"\]\(([^)#:]+)\)", readme))
    assert {"CHANGELOG.md", "CONTRIBUTING.md", "LICENSE"} <= targets
    for target in targets:
        assert sdist_files.get(target) == (ROOT / target).read_bytes(), target


# -- the lockfile ----------------------------------------------------------------------------


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for raw in LOCKFILE.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-"), f"requirements-dev.txt should hold only pins, not {line!r}"
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"not an exact pin in requirements-dev.txt: {line!r}"
        pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def _dev_requirements() -> Iterator[Requirement]:
    """The runtime dependencies, the dev extra with the extras it names, and the build backend."""
    extras = PROJECT["optional-dependencies"]
    seen: set[str] = set()
    pending = ["dev"]
    yield from (Requirement(r) for r in PROJECT["dependencies"])
    yield from (Requirement(r) for r in PYPROJECT["build-system"]["requires"])
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in extras[extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == canonicalize_name(PROJECT["name"]):
                pending.extend(requirement.extras)
            else:
                yield requirement


def test_lockfile_pins_every_dev_requirement_within_its_range() -> None:
    pins = _pins()
    environment = default_environment()
    problems = []
    for requirement in _dev_requirements():
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement} is not pinned")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement} does not admit the pinned {pinned}")
    assert not problems, "regenerate requirements-dev.txt (CONTRIBUTING.md): " + "; ".join(problems)


def test_lockfile_does_not_pin_the_project_itself() -> None:
    assert canonicalize_name(PROJECT["name"]) not in _pins()
