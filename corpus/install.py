"""How this copy of rustdoc-corpus was installed, and the command that adds an extra to it.

A git checkout installed with ``pip install -e`` must add extras the same way, with the
checkout's ``constraints.txt`` (it pins torch: without it pip pulls the newest torch and its
CUDA wheels); a wheel install adds them by name. On a machine without an NVIDIA GPU, torch comes
from PyTorch's CPU index (the default index serves the multi-GB CUDA build). No heavy imports.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

DIST = "rustdoc-corpus"
CONSTRAINTS = "constraints.txt"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class Install:
    """``kind`` is ``checkout`` (editable, from ``root``) or ``wheel``."""

    kind: str
    root: Path | None = None


def detect_install(package_dir: Path | None = None) -> Install:
    """Where the ``corpus`` package is imported from: inside a source tree (a ``pyproject.toml``
    one level up: an editable install or a checkout on the path) it is a checkout; anywhere
    else (site-packages) it came from a wheel."""
    if package_dir is None:
        import corpus

        package_dir = Path(corpus.__file__).resolve().parent
    root = Path(package_dir).parent
    if (root / "pyproject.toml").is_file():
        return Install("checkout", root)
    return Install("wheel")


def has_nvidia_gpu() -> bool:
    """An NVIDIA driver is loaded (or its tool is installed): torch's default wheels fit."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


#: Extras that bring torch (installed first, from the right index).
TORCH_EXTRAS = frozenset({"train"})


def extra_install_command(
    extra: str, install: Install, *, gpu: bool, python: str = sys.executable
) -> str:
    """The shell command that installs ``extra`` (``train``, ``train,serve``, ``eval``, ...)
    into this environment, torch first when an extra needs it."""
    pip = f"{shlex.quote(python)} -m pip install"
    index = "" if gpu else f" --index-url {TORCH_CPU_INDEX}"
    torch = bool(TORCH_EXTRAS & set(extra.split(",")))
    if install.kind == "checkout" and install.root is not None:
        root = install.root
        constraints = root / CONSTRAINTS
        pin = f" -c {shlex.quote(str(constraints))}" if constraints.is_file() else ""
        target = shlex.quote(f"{root}[{extra}]")
        first = f"{pip}{pin}{index} torch && " if torch else ""
        return f"{first}{pip}{pin} -e {target}"
    first = f"{pip}{index} torch && " if torch else ""
    return f"{first}{pip} {shlex.quote(f'{DIST}[{extra}]')}"


def install_hint(extra: str) -> str:
    """The install line for ``extra``, right for this install and this machine."""
    install = detect_install()
    gpu = has_nvidia_gpu()
    where = "this git checkout" if install.kind == "checkout" else "this install"
    command = extra_install_command(extra, install, gpu=gpu)
    if not TORCH_EXTRAS & set(extra.split(",")):
        return f"for {where}: {command}"
    build = "the CUDA build of torch" if gpu else "torch's CPU build (no NVIDIA GPU here)"
    return f"for {where}, with {build}: {command}"


def train_install_hint() -> str:
    """The install line for the ``train`` extra, right for this install and this machine."""
    return install_hint("train")
