"""The suite's one version: what every contract it publishes (OpenAPI, AsyncAPI, build info) says it is.

Taken from the installed packages' metadata, so a release changes it in one place (the packages'
``pyproject.toml``, which move together) and no document can say another number.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def suite_version() -> str:
    try:
        return version("guidance-shared")
    except PackageNotFoundError:  # run from a source tree without installing: the contracts still render
        return "0.0.0"
