"""The demo image's root file system (gameday/demo/image.py) and the demo target of containers.

No Docker engine here: what goes into the image is checked on its own (links kept as links, the
digest follows the content, the services import with nothing but the files copied), and the
scenario model's ``target: {demo: docker}`` rules. The engine side is tests/integration/test_docker_demo.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from gameday.demo.image import CODE_DIR, LIBRARIES, SERVICE_FILES, Interpreter, RootFS, code_files, stdlib_files, write_context
from gameday.errors import ConfigError
from gameday.model.scenario import Scenario, Target

DEBIAN_PYTHON = "/usr/bin/python3"


def tar_of(fs: RootFS) -> dict[str, tarfile.TarInfo]:
    buf = io.BytesIO()
    fs.write(buf)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_links_on_the_way_to_a_file_become_links_and_the_file_is_copied_once(tmp_path):
    real = tmp_path / "usr" / "lib"
    real.mkdir(parents=True)
    (real / "libz.so.1.2").write_bytes(b"\x7fELF")
    (real / "libz.so.1").symlink_to("libz.so.1.2")
    (tmp_path / "lib").symlink_to("usr/lib")
    fs = RootFS()
    fs.add_host_path(tmp_path / "lib" / "libz.so.1")
    fs.add_host_path(real / "libz.so.1")  # the same file by another way: nothing twice
    base = str(tmp_path).lstrip("/")
    assert fs.entries[f"{base}/lib"] == ("link", "usr/lib")
    assert fs.entries[f"{base}/usr/lib/libz.so.1"] == ("link", "libz.so.1.2")
    assert fs.entries[f"{base}/usr/lib/libz.so.1.2"] == ("file", real / "libz.so.1.2")
    assert len(fs.entries) == 3
    members = tar_of(fs)
    assert members[f"{base}/lib"].issym() and members[f"{base}/usr/lib/libz.so.1.2"].isfile()
    assert members["tmp"].isdir() and members["tmp"].mode == 0o1777
    assert f"{base}/lib" not in {n for n, m in members.items() if m.isdir()}  # a link is never also a folder


def test_a_link_that_leads_out_of_the_allowed_trees_or_in_a_loop_is_left_out(tmp_path):
    lib, etc = tmp_path / "usr" / "lib", tmp_path / "etc"
    lib.mkdir(parents=True)
    etc.mkdir()
    (etc / "sitecustomize.py").write_text("secret = 1\n")
    (lib / "sitecustomize.py").symlink_to(etc / "sitecustomize.py")
    (lib / "loop-a").symlink_to("loop-b")
    (lib / "loop-b").symlink_to("loop-a")
    (lib / "os.py").write_text("")
    fs = RootFS((tmp_path / "usr",))
    assert not fs.add_host_path(lib / "sitecustomize.py")
    assert not fs.add_host_path(lib / "loop-a")
    assert fs.add_host_path(lib / "os.py")
    assert list(fs.entries) == [f"{str(lib).lstrip('/')}/os.py"]


def test_the_digest_follows_the_content(tmp_path):
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    fs = RootFS()
    fs.add_file("opt/a.py", f)
    fs.add_bytes("etc/passwd", b"root:x:0:0::/:/x\n")
    first = fs.digest()
    assert first == fs.digest()
    os.utime(f, (1, 1))  # the same bytes, copied elsewhere or touched: the same image
    assert fs.digest() == first
    f.write_text("x = 22\n")
    assert fs.digest() != first
    fs2 = RootFS()
    fs2.add_file("opt/a.py", f)
    fs2.add_bytes("etc/passwd", b"root:x:0:0::/:/y\n")
    assert fs2.digest() != fs.digest()


def test_the_standard_library_keeps_only_its_own_compiled_modules_when_asked(tmp_path):
    (tmp_path / "os.py").write_text("")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    for name in ("os.cpython-311.pyc", "os.cpython-311.opt-1.pyc", "os.cpython-312.pyc"):
        (cache / name).write_bytes(b"")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in stdlib_files(tmp_path, "cpython-311")) == [
        "__pycache__/os.cpython-311.pyc", "os.py"]


def test_the_standard_library_leaves_out_what_no_service_imports(tmp_path):
    (tmp_path / "os.py").write_text("")
    for skipped in ("test", "tkinter", "__pycache__", "config-3.11-x86_64-linux-gnu", "site-packages"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "big.py").write_text("")
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "__init__.py").write_text("")
    (tmp_path / "json" / "cached.pyc").write_bytes(b"")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in stdlib_files(tmp_path)) == ["json/__init__.py", "os.py"]


def test_the_code_is_the_service_files_and_the_libraries():
    found = dict(code_files())
    assert set(SERVICE_FILES) <= set(found)
    for lib in LIBRARIES:
        assert f"{lib}/__init__.py" in found
    assert not any("__pycache__" in rel or rel.endswith(".pyc") for rel in found)


@pytest.mark.skipif(not Path(DEBIAN_PYTHON).exists(), reason="no /usr/bin/python3 here (.ci/run installs python3)")
def test_the_services_import_with_the_copied_files_alone_under_the_image_python(tmp_path):
    """The file list is complete: Debian's interpreter, isolated from every site folder, imports each service
    from a folder holding only what the image gets under /opt/gameday."""
    for rel, path in code_files():
        dest = tmp_path / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import gameday.demo.db, gameday.demo.checkout, "
            "gameday.demo.monitor, gameday.demo.traffic, prometheus_client; print('ok')")
    done = subprocess.run([DEBIAN_PYTHON, "-I", "-S", "-c", code, str(tmp_path)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_interpreter_is_probed_and_a_missing_one_is_a_clear_error(tmp_path):
    here = Interpreter.probe(sys.executable)
    assert here.version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (here.stdlib / "os.py").is_file() and os.access(here.executable, os.X_OK)
    with pytest.raises(ConfigError, match=r"^demo image: cannot run '/nonexistent/python3'"):
        Interpreter.probe("/nonexistent/python3")
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho not python\n")
    fake.chmod(0o755)
    with pytest.raises(ConfigError, match="did not describe itself"):
        Interpreter.probe(str(fake))


def test_a_build_context_for_a_registry_holds_a_dockerfile_and_the_code(tmp_path):
    written = write_context(tmp_path / "ctx")
    dockerfile = (tmp_path / "ctx" / "Dockerfile").read_text()
    assert "COPY opt/gameday /opt/gameday" in dockerfile and "PYTHONPATH=/opt/gameday" in dockerfile
    assert (tmp_path / "ctx" / CODE_DIR.lstrip("/") / "gameday" / "demo" / "db.py").is_file()
    assert len(written) == len(dict(code_files())) + 1


def test_a_demo_target_of_containers_takes_its_url_from_the_demo():
    t = Target.model_validate({"demo": "docker", "containers": {"db": {"labels": {"gameday.demo.service": "db-a"},
                                                                       "count": 1}}})
    assert t.demo == "docker"
    with pytest.raises(ValueError, match="takes its URL from the demo"):
        Target.model_validate({"demo": "docker", "url": "http://127.0.0.1:1"})
    with pytest.raises(ValueError, match="no 'processes' or 'kubernetes' of its own"):
        Target.model_validate({"demo": "docker", "processes": {"p": {"pid_file": "x.pid"}}})
    with pytest.raises(ValueError, match="'networks' go with 'demo: netns'"):
        Target.model_validate({"demo": "docker", "networks": {"n": {"netns": "db-a"}}})
    with pytest.raises(ValueError, match="'containers' and 'docker_host' go with 'demo: docker'"):
        Target.model_validate({"demo": "netns", "containers": {"c": {"name": "x", "count": 1}}})
    with pytest.raises(ValueError, match="the demo's namespaces are db-a and db-b, not 'db-c'"):
        Target.model_validate({"demo": "netns", "networks": {"n": {"netns": "db-c"}}})
    with pytest.raises(ValueError, match="only interface is eth0"):
        Target.model_validate({"demo": "netns", "networks": {"n": {"netns": "db-a", "interfaces": ["lo"]}}})
    assert Target.model_validate({"demo": "netns", "networks": {"n": {"netns": "db-b", "interfaces": ["eth0"]}}})
    with pytest.raises(ValueError):
        Target.model_validate({"demo": "processes"})


def test_the_shipped_docker_twin_is_a_drill_of_the_demo(tmp_path):
    from gameday.loader import load_scenario

    root = Path(__file__).resolve().parents[2]
    twin = load_scenario(root / "scenarios" / "checkout-db-primary-failure-docker.yaml").scenario
    plain = load_scenario(root / "scenarios" / "checkout-db-primary-failure.yaml").scenario
    assert twin.on_demo() and plain.on_demo()
    assert isinstance(twin.target, Target) and twin.target.demo == "docker"
    assert [f.docker.action for f in twin.faults if f.docker] == ["kill"]
    # the twin expects what the original expects: the same detection, response and recovery
    assert twin.detection == plain.detection and twin.response == plain.response and twin.recovery == plain.recovery
    external = Scenario.model_validate({**twin.model_dump(mode="json", by_alias=True, exclude_defaults=True),
                                        "target": {"url": "http://127.0.0.1:1", "containers": {
                                            "primary-db": {"name": "db", "count": 1},
                                            "checkout": {"name": "co", "count": 1}}}})
    assert not external.on_demo()
    netns = load_scenario(root / "scenarios" / "checkout-db-partition-netns.yaml").scenario
    assert netns.on_demo() and isinstance(netns.target, Target) and netns.target.demo == "netns"
    assert [f.network.target for f in netns.faults if f.network] == ["primary-db"]
    assert netns.target.networks["primary-db"].netns == "db-a"


def test_a_file_in_the_image_is_readable_by_the_containers_user_and_executable_where_it_was(tmp_path):
    from gameday.demo.image import _mode

    assert (_mode(0o600), _mode(0o700), _mode(0o644), _mode(0o4755)) == (0o644, 0o755, 0o644, 0o755)
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    f.chmod(0o600)
    fs = RootFS()
    fs.add_file("opt/a.py", f)
    before = fs.digest()
    assert tar_of(fs)["opt/a.py"].mode == 0o644
    f.chmod(0o700)  # the mode is part of what the image is: another mode, another image
    assert fs.digest() != before


def test_a_build_context_goes_into_an_existing_empty_folder_which_stays_the_same_folder(tmp_path):
    folder = tmp_path / "ctx"
    folder.mkdir(mode=0o755)
    inode = folder.stat().st_ino
    written = write_context(folder)
    assert folder.stat().st_ino == inode and (folder.stat().st_mode & 0o777) == 0o755
    assert all(p.is_file() for p in written) and not [p for p in folder.iterdir() if p.name.startswith(".")]
    assert write_context(tmp_path / "new" / "ctx")  # a new folder: the umask's mode, not a staging folder's 0700
    assert ((tmp_path / "new" / "ctx").stat().st_mode & 0o077) != 0
    with pytest.raises(ValueError, match="not empty"):
        write_context(folder)


def test_a_leftovers_record_that_is_not_ours_is_dropped_without_a_traceback(tmp_path):
    from gameday.demo.leftovers import RUNTIME_FILE, clean_leftovers

    demo = tmp_path / "demo"
    demo.mkdir()
    for text in ('{"kind": "processes", "netns": {"db-a": "x"}}', '{"kind": "processes", "netns": {"db-a": "x"}, '
                 '"instance": "../../etc"}', "[1, 2]", "not json"):
        (demo / RUNTIME_FILE).write_text(text)
        assert clean_leftovers(demo) == []
