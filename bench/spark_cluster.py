"""A Spark standalone cluster on 127.0.0.1: one master and N workers, each a JVM of its own, started with
Spark's own launcher (``bin/spark-class`` of the pyspark package), as on real machines.

    with StandaloneCluster(workers=2) as cluster:
        ...  # syndtrace rebuild --engine spark --master cluster.master_url

Used by the engine test and the benchmarks; every process it starts is stopped on exit, by its own id.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import pyspark


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_home() -> str:
    return str(Path(pyspark.__file__).parent)


class StandaloneCluster:
    """Master and workers bound to the loopback address only; ``master_url`` is what a driver connects to."""

    def __init__(self, workers: int = 2, cores: int = 1, memory: str = "2g", startup_timeout: float = 90.0):
        self.workers, self.cores, self.memory, self.timeout = workers, cores, memory, startup_timeout
        self.processes: list[subprocess.Popen] = []
        self.folder = tempfile.TemporaryDirectory(prefix="syndtrace-spark-")
        self.master_url = ""

    def _start(self, name: str, *args: str) -> Path:
        log = Path(self.folder.name) / f"{name}.log"
        home = spark_home()
        env = {**os.environ, "SPARK_HOME": home, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOCAL_HOSTNAME": "127.0.0.1",
               "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
               "SPARK_LOG_DIR": self.folder.name, "SPARK_WORKER_DIR": self.folder.name}
        with open(log, "wb") as fh:
            self.processes.append(subprocess.Popen([os.path.join(home, "bin", "spark-class"), *args], env=env,
                                                   stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        return log

    def _wait_for(self, log: Path, text: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if text in log.read_text(errors="replace"):
                return
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Spark did not start ({text!r} not in {log.name}):\n{log.read_text(errors='replace')[-3000:]}")

    def __enter__(self) -> Self:
        port = free_port()
        self.master_url = f"spark://127.0.0.1:{port}"
        log = self._start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                          "--port", str(port), "--webui-port", str(free_port()))
        self._wait_for(log, "I have been elected leader")
        for i in range(self.workers):
            log = self._start(f"worker-{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                              "--cores", str(self.cores), "--memory", self.memory, "--webui-port", str(free_port()),
                              "--work-dir", os.path.join(self.folder.name, f"work-{i}"), self.master_url)
            self._wait_for(log, "Successfully registered with master")
        return self

    def stop(self) -> None:
        for p in reversed(self.processes):
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.processes.clear()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.folder.cleanup()
