# syntax=docker/dockerfile:1
# Build stage: resolve and install dependencies into a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN /venv/bin/pip install .

# Runtime stage: the virtualenv, the source it runs from, and an unprivileged user.
FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONPATH=/srv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XINYI_ENV=production
RUN groupadd --system --gid 10001 xinyi \
    && useradd --system --uid 10001 --gid xinyi --home-dir /srv --shell /usr/sbin/nologin xinyi
COPY --from=build /venv /venv
WORKDIR /srv
COPY --chown=xinyi:xinyi alembic.ini ./
COPY --chown=xinyi:xinyi migrations ./migrations
COPY --chown=xinyi:xinyi app ./app
COPY --chown=xinyi:xinyi scenarios ./scenarios
USER xinyi
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Migrations first (Alembic is safe to run on every start), then uvicorn's process manager.
# Production needs XINYI_SECRET_KEY, XINYI_ID_ENCRYPTION_KEYS, XINYI_ID_ENCRYPTION_ACTIVE_KID,
# XINYI_ID_HASH_KEY, XINYI_AUDIT_HMAC_KEYS (+ _ACTIVE_KID), XINYI_DATABASE_URL and XINYI_REDIS_URL
# (maxmemory-policy noeviction); it refuses to start on the defaults. Behind a load balancer, set
# XINYI_TRUSTED_PROXIES to its addresses (CIDRs).
CMD ["sh", "-c", "xinyi migrate && exec xinyi serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
