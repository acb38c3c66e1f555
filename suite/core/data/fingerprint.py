"""Which data a trial trained and tested on: a fingerprint of the dataset's files (or tensors).

A dataset whose loader reads known files (the MNIST family, CIFAR) is fingerprinted from those
files: the md5 of each (the checksum torchvision and dataset READMEs publish), and the fingerprint
is the first 16 hex digits of the sha256 of the sorted lines "relative/path md5". So the
fingerprint of data that is gone can still be computed from its published checksums (the archived
Fashion-MNIST rebuild, labelled by `experiments/label_archive.py` of commit 24c569f). A dataset
without such files (the synthetic test set, Tiny ImageNet's 110k images) is fingerprinted from its
loaded tensors instead.

A trial's config pins the fingerprint (`data_fingerprint`, part of its hash), so a stored trial
counts as done only for the data it was trained on, and `run_trial` refuses other data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

# md5 of a file, by (path, size, mtime): a process fingerprints each file once.
_MD5: dict[tuple[str, int, int], str] = {}
_CHUNK = 1 << 22


@dataclass(frozen=True)
class DataIdentity:
    """The fingerprint of a dataset and what it was computed from ({relative path: md5}, or
    {"tensors": sha256} where no files are known)."""

    fingerprint: str
    sources: dict[str, str]

    def sources_json(self) -> str:
        return json.dumps(self.sources, sort_keys=True)


def file_md5(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _MD5:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        _MD5[key] = digest.hexdigest()
    return _MD5[key]


def fingerprint_of_checksums(checksums: dict[str, str]) -> str:
    """The fingerprint of files known by {relative path: md5}: also of files no longer on disk."""
    text = "".join(f"{name} {checksums[name]}\n" for name in sorted(checksums))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def identity_of_files(root: Path, relpaths: list[str]) -> DataIdentity:
    checksums = {rel: file_md5(root / rel) for rel in relpaths}
    return DataIdentity(fingerprint_of_checksums(checksums), checksums)


def identity_of_tensors(*tensors: torch.Tensor) -> DataIdentity:
    """For data without known files: the sha256 of the tensors' bytes, shapes and types, in order."""
    digest = hashlib.sha256()
    for tensor in tensors:
        flat = tensor.detach().cpu().contiguous()
        digest.update(f"{tuple(flat.shape)}:{flat.dtype};".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    full = digest.hexdigest()
    return DataIdentity(full[:16], {"tensors": full})


__all__ = ["DataIdentity", "file_md5", "fingerprint_of_checksums", "identity_of_files", "identity_of_tensors"]
