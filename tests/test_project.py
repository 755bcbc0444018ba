"""Project-wide guarantees: deploy checks, migrations, OpenAPI schema, headers, offline assets, lint."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PY = sys.executable


def base_env() -> dict:
    """This process's environment without test-only switches (the browser tests allow async-unsafe ORM calls)."""
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def manage(*args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env={**base_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def production_env(tmp_path) -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "locker.settings",
        "DEBUG": "0",
        "LOCKER_HTTPS": "1",
        "ALLOWED_HOSTS": "locker.example.org",
        "LOCKER_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "x7" + "Qz9-vT3kLw_8pRm2Ys5Nc4Hb6Jd1Gf0" * 2,
        "JWT_SIGNING_KEY": "another-long-random-value-for-jwt-signing-000000000000",
        "DATABASE_URL": "",
    }


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


S3_ENV = {
    "LOCKER_BLOB_STORAGE": "s3",
    "LOCKER_S3_BUCKET": "locker",
    "LOCKER_S3_ENDPOINT_URL": "https://s3.example.org",
    "LOCKER_S3_ACCESS_KEY_ID": "key",
    "LOCKER_S3_SECRET_ACCESS_KEY": "secret",
}


@pytest.mark.parametrize(
    "configuration",
    [
        {"LOCKER_BLOB_STORAGE": "local"},  # one server: SQLite, the cache and rate limits in its memory
        {"REDIS_URL": "redis://127.0.0.1:6379/15", "LOCKER_BLOB_STORAGE": "local"},  # a shared blob directory
        {"REDIS_URL": "redis://127.0.0.1:6379/15", **S3_ENV},  # blobs in an object store
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/locker",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            **S3_ENV,
        },
    ],
    ids=["single", "redis-shared-dir", "redis-s3", "postgres-redis-s3"],
)
def test_checks_pass_in_every_supported_configuration(tmp_path, configuration):
    """``check --deploy`` (django-ratelimit's checks among them: a shared cache, or one process's) is clean for every
    way Locker runs; the settings only read these (no server is contacted by a check)."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**production_env(tmp_path), **configuration})
    assert result.returncode == 0, result.stdout + result.stderr
    code = (
        "import django; django.setup(); from django.core.files.storage import storages; "
        "print(type(storages['vault']).__name__)"
    )
    env = {**base_env(), **production_env(tmp_path), **configuration}
    kind = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert kind.strip() == ("S3Storage" if configuration.get("LOCKER_BLOB_STORAGE") == "s3" else "FileSystemStorage")


def test_an_unknown_blob_storage_is_refused_at_start(tmp_path):
    result = manage("check", env={**production_env(tmp_path), "LOCKER_BLOB_STORAGE": "ftp"})
    assert result.returncode != 0 and "LOCKER_BLOB_STORAGE must be 'local' or 's3'" in result.stderr


def test_production_crypto_parameters(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "k = s.LOCKER_KDF_PARAMS; print(k['memory_cost'], k['time_cost'], k['parallelism']); "
        "print(s.PASSWORD_HASHERS[0]); print(s.SIMPLE_JWT['SIGNING_KEY'] != s.SECRET_KEY); "
        "print(s.SIMPLE_JWT['ROTATE_REFRESH_TOKENS'], s.SIMPLE_JWT['BLACKLIST_AFTER_ROTATION'], "
        "int(s.SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'].total_seconds()))"
    )
    env = {**base_env(), **production_env(tmp_path)}
    env.pop("JWT_SIGNING_KEY")  # generated into the data dir, apart from SECRET_KEY
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split(
        "\n"
    )
    memory, time_cost, lanes = map(int, out[0].split())
    assert memory >= 64 * 1024 and time_cost >= 3 and lanes >= 4  # SECURITY.md property 1
    assert out[1].endswith("Argon2PasswordHasher")
    assert out[2] == "True"
    rotate, blacklist, access_seconds = out[3].split()
    assert rotate == blacklist == "True" and int(access_seconds) <= 15 * 60
    assert (tmp_path / "jwt_signing_key").stat().st_mode & 0o077 == 0  # generated secrets are private


def test_secrets_are_generated_once_into_the_data_dir(tmp_path):
    env = {**base_env(), **production_env(tmp_path)}
    env.pop("SECRET_KEY")
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY)"
    first = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    second = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert first == second and len(first.strip()) >= 50
    assert (tmp_path / "secret_key").read_text().strip() == first.strip()


def test_migrations_are_committed_and_linear():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    for app in ("accounts", "activity", "vault"):
        names = sorted(p.name for p in (ROOT / app / "migrations").glob("0*.py"))
        numbers = [int(n[:4]) for n in names]
        assert numbers == list(range(1, len(numbers) + 1)), names


def test_openapi_schema_validates_without_warnings(tmp_path):
    result = manage("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    schema = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/auth/app-passwords/", "/api/v1/activity/"):
        assert f"{path}:" in schema


def test_openapi_schema_says_what_the_api_answers(client):
    """Mismatches schemathesis found between the schema and real answers (``--checks all``)."""
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]

    def response(path, method, status):
        return paths[path][method]["responses"][status]["content"]

    # lists that are not paginated answer {"results": [...]}
    for path in ("/api/v1/files/{id}/versions/", "/api/v1/notes/{id}/versions/", "/api/v1/trash/"):
        ref = response(path, "get", "200")["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert schema["components"]["schemas"][ref]["properties"]["results"]["type"] == "array", path
    # an upload answers a plain array of outcomes (its view pages only what GET lists)
    for path in ("/api/v1/files/", "/api/upload/files"):
        assert response(path, "post", "201")["application/json"]["schema"]["type"] == "array", path
    # content comes in the type sniffed at upload, whole or in part
    for path in ("/api/v1/files/{id}/content", "/api/v1/files/{id}/versions/{number}/content"):
        assert set(response(path, "get", "200")) == set(response(path, "get", "206")) == {"*/*"}, path
    assert "412" in paths["/api/v1/notes/{id}/"]["patch"]["responses"]
    for path in ("/api/messages", "/api/upload/audio"):
        assert {"201", "400", "404", "413"} <= set(paths[path]["post"]["responses"]), path
    # every paged list documents 404 (a page that does not exist), every operation with input 400
    for path, operations in paths.items():
        for method, operation in operations.items():
            query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            if query & {"page", "cursor"}:
                assert "404" in operation["responses"], (method, path)
            if query or "requestBody" in operation:
                assert "400" in operation["responses"], (method, path)


def test_ruff_is_clean():
    result = subprocess.run([str(Path(PY).parent / "ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_layer_contract_holds():
    """Apps import only the layers below them (pyproject.toml, docs/architecture.md); the crypto layer is pure."""
    result = subprocess.run(
        [str(Path(PY).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_third_party_links_or_inline_script_in_our_templates_and_static():
    """No CDN: every asset is served by us. No inline <script> (CSP)."""
    for path in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.*")]:
        text = path.read_text(errors="ignore")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path
        if path.suffix == ".html":
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline script in {path}"
            assert not re.search(r"\son[a-z]+=", text), f"inline event handler in {path}"


@pytest.mark.django_db
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login", "/register", "/api/v1/me", "/healthz", "/api/docs/", "/api/redoc/"])
def test_security_headers(client, url):
    response = client.get(url)
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_api_docs_are_served_offline(client):
    for url in ("/api/docs/", "/api/redoc/"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "//cdn" not in html and "https://" not in html.replace("https://github.com", "")
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset
    schema = client.get("/api/schema/")
    assert schema.status_code == 200


@pytest.mark.django_db
def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_locker_status_prints_admin_hint(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("locker_status", stdout=out)
    assert "createsuperuser" in out.getvalue()


def test_the_api_root_links_every_collection(client):
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    links = response.json()
    assert {"folders", "files", "notes", "chats", "search", "activity", "me"} <= set(links)
    assert links["files"] == "http://testserver/api/v1/files/"
    browsable = client.get("/api/v1/", HTTP_ACCEPT="text/html")
    assert browsable.status_code == 200 and b"/api/v1/folders/" in browsable.content


def test_the_api_reference_is_generated_from_the_schema():
    """docs/api.md is what `python -m locker.apidoc` prints: regenerate it after changing an endpoint."""
    from locker import apidoc

    assert (ROOT / "docs" / "api.md").read_text() == apidoc.generate()
