"""The demo shop's container image, built here from what is installed: no registry, no download.

``gameday demo up --docker`` runs the shop's services (standard library only, Python 3.9+) in
containers. No registry is reachable on many machines, and ``debootstrap`` downloads, so the
image is a root file system assembled from this machine's own files and ``docker import``-ed:

* a CPython interpreter (default ``/usr/bin/python3``, Debian's ``python3-minimal``; any other
  with ``--python`` or ``$GAMEDAY_DEMO_PYTHON``) and its standard library, less the parts no
  service uses (tests, tkinter, idlelib, ensurepip, the static library);
* the shared libraries the interpreter and its extension modules load (their ``ldd`` closure),
  with the symbolic links that lead to them (``/lib -> usr/lib`` on merged-``/usr`` systems);
* the ``gameday`` modules the services import (:data:`SERVICE_FILES`) and the one pure-Python
  library they use (:data:`LIBRARIES`: ``prometheus_client``, copied from gameday's own
  environment), under ``/opt/gameday``.

The tag is ``gameday-demo:<python version>-<digest>``; the digest covers every file's path and
content and mode, so an image already built is reused and a changed file builds a new one; older
images stay until ``gameday demo image --prune``. Needs only the Docker SDK (the ``docker`` extra)
and ``ldd``.

A team with a registry uses its own image instead: any image with ``python3`` (3.9+) on its
``PATH`` and gameday's service modules under ``/opt/gameday`` (``gameday demo image --context DIR``
writes them), passed as ``gameday demo up --docker --image NAME``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gameday.errors import ConfigError, InfrastructureError

REPOSITORY = "gameday-demo"
PYTHON_ENV = "GAMEDAY_DEMO_PYTHON"
DEFAULT_PYTHON = "/usr/bin/python3"
#: Where the service modules live in the image (its ``PYTHONPATH``).
CODE_DIR = "/opt/gameday"
#: The gameday files the services need, relative to the package's parent folder: the services import only
#: the standard library, :mod:`gameday.demo`'s own modules, :mod:`gameday.fsutil` and what that imports.
SERVICE_FILES = ("gameday/__init__.py", "gameday/version.py", "gameday/errors.py", "gameday/fsutil.py",
                 "gameday/demo/__init__.py", "gameday/demo/httpkit.py", "gameday/demo/db.py", "gameday/demo/checkout.py",
                 "gameday/demo/alerting.py", "gameday/demo/monitor.py", "gameday/demo/traffic.py",
                 "gameday/demo/catalog.json")
#: Pure-Python packages the services import, copied from the environment gameday runs in.
LIBRARIES = ("prometheus_client",)
#: Top-level parts of the standard library no service imports (they are most of its size).
SKIPPED = {"test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data", "__pycache__",
           "site-packages", "dist-packages", "unittest", "distutils", "venv"}
_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


@dataclass(frozen=True)
class Interpreter:
    """A CPython interpreter on this machine: its binary, version and standard library folder."""

    executable: Path
    version: str
    stdlib: Path
    cache_tag: str | None = None

    @classmethod
    def probe(cls, python: str | None = None) -> Interpreter:
        """The interpreter ``python`` (default ``$GAMEDAY_DEMO_PYTHON``, else ``/usr/bin/python3``); ConfigError
        if it is missing, is not CPython 3.9+, or its standard library cannot be found."""
        python = python or os.environ.get(PYTHON_ENV) or DEFAULT_PYTHON
        code = ("import json, os, sys, sysconfig; print(json.dumps({'exe': os.path.realpath(sys.executable), "
                "'version': '%d.%d' % sys.version_info[:2], 'impl': sys.implementation.name, "
                "'cache_tag': sys.implementation.cache_tag, "
                "'ok': sys.version_info >= (3, 9), 'stdlib': sysconfig.get_paths()['stdlib']}))")
        try:
            done = subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"demo image: cannot run {python!r} ({exc}); set {PYTHON_ENV} to a CPython 3.9+") from None
        try:
            found: dict[str, Any] = json.loads(done.stdout)
        except ValueError:
            raise ConfigError(f"demo image: {python!r} did not describe itself (exit {done.returncode}): "
                              f"{done.stderr.strip()[-200:]!r}") from None
        if found.get("impl") != "cpython" or not found.get("ok"):
            raise ConfigError(f"demo image: {python!r} is {found.get('impl')} {found.get('version')}: the services need "
                              "CPython 3.9 or later")
        stdlib = Path(str(found["stdlib"]))
        if not (stdlib / "os.py").is_file():
            raise ConfigError(f"demo image: the standard library of {python!r} is not at {stdlib}")
        return cls(Path(str(found["exe"])), str(found["version"]), stdlib, str(found.get("cache_tag") or "") or None)


def package_parent() -> Path:
    """The folder holding the ``gameday`` package."""
    return Path(__file__).resolve().parents[2]


def code_files(code_parent: Path | None = None) -> Iterator[tuple[str, Path]]:
    """The services' code: ``(path under /opt/gameday, file here)`` for :data:`SERVICE_FILES` and :data:`LIBRARIES`."""
    import importlib.util

    root = code_parent or package_parent()
    for rel in SERVICE_FILES:
        yield rel, root / rel
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(f"demo image: the services need the package {name!r}, which is not installed here")
        top = Path(next(iter(spec.submodule_search_locations)))
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for fname in sorted(files):
                if not fname.endswith(".pyc"):
                    path = Path(folder) / fname
                    yield f"{name}/{path.relative_to(top)}", path


def stdlib_files(stdlib: Path, cache_tag: str | None = None) -> Iterator[Path]:
    """The standard library's files, less :data:`SKIPPED` and the static library (``config-*``); with
    ``cache_tag`` (``cpython-311``) its compiled modules too (``__pycache__/*.cpython-311.pyc``, not the
    optimised ones): every service then starts without compiling the library again (they are valid as the
    sources keep their modification times in the image)."""
    skipped = SKIPPED - {"__pycache__"} if cache_tag else SKIPPED
    for folder, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in skipped and not d.startswith("config-"))
        cached = Path(folder).name == "__pycache__"
        for name in sorted(files):
            wanted = name.endswith(f".{cache_tag}.pyc") if cached else not name.endswith((".pyc", ".a"))
            if wanted:
                yield Path(folder) / name


def shared_libraries(binaries: Iterable[Path]) -> set[Path]:
    """The shared libraries ``binaries`` load, as ``ldd`` names them (the dynamic loader included)."""
    found: set[Path] = set()
    try:  # one ldd for them all: it prints each file's libraries under its name
        done = subprocess.run(["ldd", *map(str, binaries)], capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise InfrastructureError("demo image: ldd is not installed (it is part of libc-bin)") from None
    except subprocess.TimeoutExpired:
        raise InfrastructureError("demo image: ldd did not answer within 60 s") from None
    for line in done.stdout.splitlines():
        match = _LDD_LINE.search(line)
        if match:
            found.add(Path(match.group(1)))
    return found


def _mode(host_mode: int) -> int:
    """A file's mode in the image: readable by everyone (the containers run as the invoking user, the entries
    belong to root), executable by all where it was by anyone, writable by no one but root."""
    return 0o755 if host_mode & 0o111 else 0o644


class RootFS:
    """A root file system's entries, as a tar stream: files, folders and symbolic links, each once."""

    def __init__(self, allowed: Iterable[Path] = (Path("/"),)) -> None:
        self.entries: dict[str, tuple[str, Path | str | bytes]] = {}  # path in image -> (kind, source)
        self.allowed = tuple(Path(os.path.realpath(a)) for a in allowed)

    def add_host_path(self, path: Path) -> bool:
        """``path`` as this machine has it: the links on the way (``/lib -> usr/lib``, ``libz.so.1 -> libz.so.1.2``)
        become links in the image, and the file they lead to is copied — only if that file lies under one of
        ``allowed`` (a link leading elsewhere, such as Debian's ``sitecustomize.py -> /etc/python3.11/...``, is
        left out, and so is a loop of links). False if left out."""
        real = Path(os.path.realpath(path))
        if not real.is_file() or not any(real.is_relative_to(a) for a in self.allowed):
            return False
        path = Path(os.path.abspath(path))
        parent = Path("/")
        for part in path.parts[1:-1]:
            here = parent / part
            if here.is_symlink():
                self.entries.setdefault(str(here).lstrip("/"), ("link", os.readlink(here)))
                parent = here.resolve()
            else:
                parent = here
        here = parent / path.name
        if here.is_symlink():
            self.entries.setdefault(str(here).lstrip("/"), ("link", os.readlink(here)))
            return self.add_host_path(here.parent / os.readlink(here))
        self.entries.setdefault(str(here).lstrip("/"), ("file", here))
        return True

    def add_file(self, image_path: str, source: Path) -> None:
        self.entries[image_path.lstrip("/")] = ("file", source)

    def add_bytes(self, image_path: str, data: bytes) -> None:
        self.entries[image_path.lstrip("/")] = ("bytes", data)

    def add_link(self, image_path: str, target: str) -> None:
        self.entries[image_path.lstrip("/")] = ("link", target)

    def digest(self) -> str:
        """What identifies the content: every entry's path, kind, and its bytes' digest (a link: its target), so
        the same files give the same tag wherever they were copied from."""
        h = hashlib.sha256()
        for name in sorted(self.entries):
            kind, source = self.entries[name]
            if isinstance(source, Path):  # a file
                with source.open("rb") as fh:
                    mark = f"{hashlib.file_digest(fh, 'sha256').hexdigest()}:{_mode(source.stat().st_mode):o}"
            elif kind == "bytes":
                mark = hashlib.sha256(source).hexdigest()  # type: ignore[arg-type]
            else:
                mark = str(source)
            h.update(f"{name}\0{kind}\0{mark}\n".encode())
        return h.hexdigest()[:12]

    def write(self, out: io.BufferedIOBase | Any) -> None:
        """The tar stream: parent folders first (0755, ``/tmp`` 1777), then every entry, sorted."""
        folders: set[str] = {"tmp"}
        for name in self.entries:
            parts = PurePosixPath(name).parts[:-1]
            folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        folders -= {n for n, (kind, _) in self.entries.items() if kind == "link"}
        with tarfile.open(fileobj=out, mode="w|") as tar:
            for folder in sorted(folders):
                info = tarfile.TarInfo(folder)
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
                tar.addfile(info)
            for name in sorted(self.entries):
                kind, source = self.entries[name]
                info = tarfile.TarInfo(name)
                if kind == "link":
                    info.type, info.linkname = tarfile.SYMTYPE, str(source)
                    tar.addfile(info)
                elif kind == "bytes":
                    data = bytes(source)  # type: ignore[arg-type]
                    info.size, info.mode = len(data), 0o644
                    tar.addfile(info, io.BytesIO(data))
                else:
                    src = Path(source)  # type: ignore[arg-type]
                    st = src.stat()
                    info.size, info.mode, info.mtime = st.st_size, _mode(st.st_mode), int(st.st_mtime)
                    with src.open("rb") as fh:
                        tar.addfile(info, fh)


def service_rootfs(interpreter: Interpreter, code_parent: Path | None = None) -> RootFS:
    """The demo image's root file system: the interpreter, its library, its shared libraries, the services."""
    # what may be copied: the interpreter's own tree (/usr for Debian's) and the system's libraries, never /etc
    # or a home folder a link in the library might lead to
    fs = RootFS((interpreter.stdlib.parent.parent, interpreter.executable.parent, Path("/usr/lib"), Path("/usr/lib64"),
                 Path("/lib"), Path("/lib64")))
    binaries = [interpreter.executable]
    fs.add_host_path(interpreter.executable)
    for path in stdlib_files(interpreter.stdlib, interpreter.cache_tag):
        fs.add_host_path(path)
        if path.suffix == ".so":
            binaries.append(path)
    for lib in shared_libraries(binaries):  # what ldd resolved is needed, wherever it lives (/nix/store, a Cellar)
        fs.allowed += (Path(os.path.realpath(lib)).parent,)
        fs.add_host_path(lib)
    fs.add_link("usr/local/bin/python3", str(interpreter.executable))
    for rel, path in code_files(code_parent):
        fs.add_file(f"{CODE_DIR}/{rel}", path)
    fs.add_bytes("etc/passwd", b"root:x:0:0:root:/root:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n")
    fs.add_bytes("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return fs


def image_tag(interpreter: Interpreter, fs: RootFS) -> str:
    return f"{REPOSITORY}:py{interpreter.version}-{fs.digest()}"


def ensure_image(api: Any, python: str | None = None, echo: Any = None) -> str:
    """The demo image's tag on the engine behind ``api`` (a ``docker.APIClient``), built and imported first if
    the engine does not have it. InfrastructureError if the engine refuses it."""
    interpreter = Interpreter.probe(python)
    fs = service_rootfs(interpreter)
    tag = image_tag(interpreter, fs)
    from docker.errors import DockerException, ImageNotFound

    try:
        api.inspect_image(tag)
        return tag
    except ImageNotFound:
        pass
    except DockerException as exc:
        raise InfrastructureError(f"demo image: the Docker engine did not answer: {exc}") from None
    if echo is not None:
        echo(f"demo: building the image {tag} from {interpreter.executable} (Python {interpreter.version}) and "
             f"{len(fs.entries)} files of this machine")
    with tempfile.TemporaryFile(prefix="gameday-demo-rootfs-") as tmp:
        fs.write(tmp)
        tmp.seek(0)
        repository, _, version = tag.partition(":")
        try:
            api.import_image_from_data(tmp, repository=repository, tag=version)
            api.inspect_image(tag)
        except DockerException as exc:
            raise InfrastructureError(f"demo image: the Docker engine refused the image {tag}: {exc}") from None
    return tag


def prune_images(api: Any, python: str | None = None) -> tuple[list[str], list[str]]:
    """``gameday demo image --prune``: remove the engine's demo images (``gameday-demo:py*``) but the one this
    machine builds now; ``(removed, kept because a container uses them)``. Never automatic: another demo may be
    about to start on an older one."""
    from docker.errors import APIError, DockerException

    interpreter = Interpreter.probe(python)
    current = image_tag(interpreter, service_rootfs(interpreter))
    try:
        tags = [t for image in api.images(name=REPOSITORY) for t in (image.get("RepoTags") or [])]
    except DockerException as exc:
        raise InfrastructureError(f"demo image: the Docker engine did not answer: {exc}") from None
    removed, kept = [], []
    for old in sorted(tags):
        if old != current and old.startswith(f"{REPOSITORY}:py"):
            try:
                api.remove_image(old)
                removed.append(old)
            except APIError as exc:
                if exc.status_code != 409:  # 409: in use by a container (running or not); anything else is news
                    raise InfrastructureError(f"demo image: the Docker engine did not remove {old}: {exc}") from None
                kept.append(old)
    return removed, kept


def write_context(folder: Path) -> list[Path]:
    """The service modules under ``folder/opt/gameday`` and a Dockerfile that copies them onto a python image:
    what a team with a registry builds its own demo image from. Returns the files written. They are written in a
    staging folder inside ``folder`` (made if need be) and moved up at the end, so a failure leaves no
    half-written file; ValueError if ``folder`` exists and is not an empty folder, OSError if it cannot be written."""
    folder = Path(os.path.abspath(folder))
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError("the folder is not empty")
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".gameday-staging-", dir=folder))
    try:
        names = _write_context(staging)
        for entry in sorted(staging.iterdir()):
            os.replace(entry, folder / entry.name)
        staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return [folder / n.relative_to(staging) for n in names]


def _write_context(folder: Path) -> list[Path]:
    written = []
    for rel, path in code_files():
        dest = folder / "opt" / "gameday" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
        written.append(dest)
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text("# The gameday demo shop's services on any CPython 3.9+ image of your registry.\n"
                          "ARG BASE=python:3.12-slim\nFROM ${BASE}\nCOPY opt/gameday /opt/gameday\n"
                          "ENV PYTHONPATH=/opt/gameday PYTHONUNBUFFERED=1\n")
    written.append(dockerfile)
    return written
