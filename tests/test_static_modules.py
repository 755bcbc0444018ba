"""The browser code is ES modules with no build step: what the pages load, how the modules import each
other, and that both ways of serving them (whitenoise from the finders, and ``collectstatic`` into a
STATIC_ROOT as ``make run`` does) give every module with a JavaScript type and every relative import a file.
"""

import re
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR)
JS = ROOT / "static" / "js"
MAX_LINES = 500

IMPORT = re.compile(r"""^import\s+(?:\{([^}]*)\}|\*\s+as\s+\w+)\s+from\s+"([^"]+)";$""", re.M)
EXPORT = re.compile(r"^export\s+(?:async\s+)?(?:function|const|let|class)\s+([\w$]+)", re.M)
EXPORT_DESTRUCTURED = re.compile(r"^export\s+const\s+\{([^}]*)\}", re.M)
SCRIPT = re.compile(r"<script\b([^>]*)>")


def modules(base: Path = JS) -> list[Path]:
    return sorted(base.rglob("*.js"))


def exported_names(path: Path) -> set[str]:
    text = path.read_text()
    names = set(EXPORT.findall(text))
    for group in EXPORT_DESTRUCTURED.findall(text):
        names |= {part.split(":")[-1].strip() for part in group.split(",") if part.strip()}
    return names


def import_problems(base: Path) -> list[str]:
    """Every import of every module under ``base``: relative, to a file that exists, of names it exports."""
    problems = []
    for path in modules(base):
        for names, source in IMPORT.findall(path.read_text()):
            target = (path.parent / source).resolve()
            where = f"{path.relative_to(base)}: {source}"
            if not source.startswith(("./", "../")) or not source.endswith(".js"):
                problems.append(f"{where} is not a relative .js path (no build step, no CDN)")
            elif not target.is_file() or base.resolve() not in target.parents:
                problems.append(f"{where} is not a module under {base}")
            else:
                wanted = {n.split(" as ")[0].strip() for n in names.split(",") if n.strip()}
                missing = wanted - exported_names(target)
                if missing:
                    problems.append(f"{where} does not export {sorted(missing)}")
    return problems


def test_pages_load_their_scripts_as_modules_from_static_js():
    loaded = []
    for template in (ROOT / "templates").rglob("*.html"):
        if "drf_spectacular" in template.parts:
            continue  # the API docs' own bundles
        for attributes in SCRIPT.findall(template.read_text()):
            assert 'type="module"' in attributes, f"{template}: {attributes}"
            src = re.search(r"""\{% static 'js/([\w.-]+\.js)' %\}""", attributes)
            assert src, f"{template}: {attributes}"
            loaded.append(src.group(1))
            assert (JS / src.group(1)).is_file(), src.group(1)
    entries = {"page.js", "search.js", "files.js", "trash.js", "search-page.js", "notes.js", "note.js", "chat.js"}
    assert entries | {"live.js", "notifications.js", "activity.js"} <= set(loaded)


def test_module_imports_resolve_and_modules_stay_small():
    assert not import_problems(JS)
    for path in modules():
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_LINES, f"{path.relative_to(JS)} has {lines} lines"
        assert "window.Locker" not in path.read_text(), path  # shared helpers are imported, not globals


@pytest.mark.django_db
def test_whitenoise_serves_every_module_as_javascript(client):
    for path in modules():
        response = client.get(f"/static/js/{path.relative_to(JS).as_posix()}")
        assert response.status_code == 200, path
        assert response["Content-Type"].split(";")[0] in {"text/javascript", "application/javascript"}, path
        assert response["X-Content-Type-Options"] == "nosniff"  # so the type must be right for a module to run


def test_collectstatic_copies_the_module_tree_with_working_relative_imports(settings, tmp_path):
    """GIVEN StaticFilesStorage (not the manifest one, which would rename files under their imports)
    WHEN collectstatic runs into an empty STATIC_ROOT, as ``make run`` does,
    THEN every module is there, byte for byte, every relative import finds its file, and whitenoise
    serves the collected files as JavaScript."""
    from whitenoise import WhiteNoise

    assert settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    collected = tmp_path / "js"
    assert [p.relative_to(collected) for p in modules(collected)] == [p.relative_to(JS) for p in modules()]
    for path in modules():
        assert (collected / path.relative_to(JS)).read_bytes() == path.read_bytes()
    assert not import_problems(collected)

    app = WhiteNoise(lambda environ, start_response: [], root=str(tmp_path), prefix="static/")
    for path in modules(collected):
        status, headers = served(app, f"/static/js/{path.relative_to(collected).as_posix()}")
        assert status.startswith("200"), path
        assert headers["Content-Type"].split(";")[0] == "text/javascript", path


def served(app, path: str) -> tuple[str, dict]:
    """The status line and headers a WSGI app answers to GET ``path``."""
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    body = app(environ, start_response)
    if hasattr(body, "close"):
        body.close()
    return answer["status"], answer["headers"]
