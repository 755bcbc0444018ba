#!/usr/bin/env python
"""Run Locker's benchmarks and write their results into docs/benchmarks.md.

Each ``bench/bench_*.py`` module has ``run() -> str`` returning a Markdown
section. Results are figures measured on the machine that ran ``make bench``;
compare ratios within one run (shared machines are noisy).

Usage: ``make bench`` or ``.venv/bin/python bench/run.py [name ...]``.
"""

import importlib
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:{name}:begin -->", "<!-- bench:{name}:end -->"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


def setup_django(data_dir: str) -> None:
    """Production settings (real Argon2 costs) on a throwaway SQLite file."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "locker.settings"
    os.environ["LOCKER_DATA_DIR"] = data_dir
    os.environ.setdefault("LOCKER_HTTPS", "0")
    os.environ["RATELIMIT_ENABLE"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def update_doc(name: str, section: str) -> None:
    begin, end = BEGIN.format(name=name), END.format(name=name)
    text = OUT.read_text() if OUT.exists() else "# Benchmarks\n"
    block = f"{begin}\n{section.strip()}\n{end}"
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    OUT.write_text(text)


def main(names: list[str]) -> None:
    modules = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    selected = [m for m in modules if not names or m.removeprefix("bench_") in names or m in names]
    with tempfile.TemporaryDirectory(prefix="locker-bench-") as data_dir:
        setup_django(data_dir)
        for module_name in selected:
            module = importlib.import_module(f"bench.{module_name}")
            print(f"== {module_name}", flush=True)
            body = module.run()
            stamp = f"_Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}._"
            section = f"{body.strip()}\n\n{stamp}"
            print(section, flush=True)
            update_doc(module_name.removeprefix("bench_"), section)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
