"""A real `ember server` process on loopback for the Python suites (pytest and PySpark's
documentation examples): started in a scratch working directory, its log kept for failure
messages."""

import os
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EMBER = Path(os.environ.get("EMBER_BIN", REPO / "target" / "debug" / "ember"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An `ember server` process; its log is kept for failure messages."""

    def __init__(self, master, *extra):
        self.port = free_port()
        self.log = []
        # Its own working directory: saved tables go to ./spark-warehouse, as in Spark.
        self.workdir = tempfile.TemporaryDirectory(prefix="ember-server-")
        self.process = subprocess.Popen(
            [str(EMBER), "server", "--master", master, "--port", str(self.port), *extra],
            cwd=self.workdir.name,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = threading.Event()

        def read():
            for line in self.process.stderr:
                self.log.append(line)
                if "serving Spark Connect" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120):
            self.stop()
            raise RuntimeError("ember server did not start:\n" + "".join(self.log))

    def url(self, token=None):
        if token:
            # PySpark sends a token in the clear only to `localhost`; elsewhere it needs TLS.
            return f"sc://localhost:{self.port}/;token={token}"
        return f"sc://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.workdir.cleanup()
