"""CITATION.cff is valid CFF 1.2.0 (its required keys, read with yaml) and agrees with pyproject.toml and LICENSE.

The keys checked are those the CFF 1.2.0 schema requires: cff-version, message, title and
authors at the top, and authors, title and type for each reference.
"""

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def citation() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def assert_authors(authors) -> None:
    assert isinstance(authors, list) and authors
    for author in authors:
        # A person has family-names, an entity a name (CFF 1.2.0).
        assert author.get("family-names") or author.get("name"), author


def test_citation_has_the_keys_cff_1_2_0_requires():
    cff = citation()
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title"):
        assert isinstance(cff[key], str) and cff[key].strip(), key
    assert_authors(cff["authors"])
    assert cff["type"] in ("software", "dataset")


def test_citation_agrees_with_the_package_and_the_license():
    cff, meta = citation(), project()
    assert cff["version"] == meta["version"]
    assert cff["license"] == meta["license"] == "MIT"
    assert (REPO / "LICENSE").read_text().startswith("MIT License\n\nCopyright (c) ")
    assert "the bench developers" in (REPO / "LICENSE").read_text()


def test_citation_references_the_dwf_paper():
    references = citation()["references"]
    for reference in references:
        assert {"authors", "title", "type"} <= reference.keys(), reference
        assert_authors(reference["authors"])
    dwf = [r for r in references if r["title"].startswith("Deep Weight Factorization")]
    assert len(dwf) == 1
    assert dwf[0]["title"] == "Deep Weight Factorization: Sparse Learning Through the Lens of Artificial Symmetries"
    assert [a["family-names"] for a in dwf[0]["authors"]] == ["Kolb", "Weber", "Bischl", "Rügamer"]
    assert dwf[0]["year"] == 2025 and "ICLR 2025" in dwf[0]["conference"]["name"]
