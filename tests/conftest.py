import os

import pytest

os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "atlas_crawl.settings")

REALDATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "realdata")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden/*/expected/ from what the crawls store now")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture
def scrapyd(tmp_path):
    """A real scrapyd configured from deploy/scrapyd.conf (max_proc 1, the project's runner) on a
    free port of 127.0.0.1, its eggs, logs (`tmp_path / "logs"`) and queue in `tmp_path`;
    yields its URL and is stopped at the end. Every wait is bounded."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from atlas_crawl import PROJECT_DIR

    requests = pytest.importorskip("requests")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = (PROJECT_DIR / "deploy" / "scrapyd.conf").read_text()
    for key, value in {"http_port": port, "eggs_dir": tmp_path / "eggs",
                       "logs_dir": tmp_path / "logs", "dbs_dir": tmp_path / "dbs",
                       "poll_interval": 0.5}.items():
        conf = "\n".join(f"{key} = {value}" if line.split("=")[0].strip() == key else line
                         for line in conf.splitlines())
    (tmp_path / "scrapyd.conf").write_text(conf)
    log = open(tmp_path / "scrapyd.out", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([str(Path(sys.executable).parent / "scrapyd")], cwd=tmp_path,
                               stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/daemonstatus.json", timeout=2).json()["status"] == "ok":
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, (tmp_path / "scrapyd.out").read_text()
            assert time.monotonic() < deadline, "scrapyd did not start in 30 s"
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()
