# Locker: slim Python, non-root, data in a volume, gunicorn with threads.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LOCKER_DATA_DIR=/app/var \
    LOCKER_BEHIND_PROXY=1 \
    WEB_BIND=0.0.0.0:8000

WORKDIR /app
# A fixed numeric id: Kubernetes' runAsNonRoot can check it, and compose's secret files are made readable to it.
RUN groupadd --system --gid 10001 locker \
    && useradd --system --uid 10001 --gid locker --home-dir /app --shell /usr/sbin/nologin locker

# Text recognition of images and scanned PDFs (docs/vault.md): Debian's Tesseract with English; add a language
# with its tesseract-ocr-<code> package. The versions are the base image's Debian release's (a rebuild takes its
# security updates), hence no pins.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays root's: the server (uid 10001) reads it and writes only to its volumes.
COPY . .
RUN DJANGO_SETTINGS_MODULE=locker.settings SECRET_KEY=collectstatic-only JWT_SIGNING_KEY=collectstatic-only \
        LOCKER_DATA_DIR=/tmp/build python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build && mkdir -p /app/var /app/shared && chown locker:locker /app/var /app/shared

USER 10001:10001
VOLUME ["/app/var"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'X-Forwarded-Proto': 'https'}), timeout=4).status == 200 else 1)"]

# A single container migrates at start, so a new volume is ready. Several replicas must not (two migrations
# at once): compose.yaml runs them once in its migrate service and starts the replicas with gunicorn alone.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py locker_status && exec gunicorn -c locker/gunicorn.conf.py"]
