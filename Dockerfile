# syntax=docker/dockerfile:1
# One EstateOps image for every process; docker-compose.yml picks the command
# (estateops migrate | gateway | serve | simulate). Dependencies come from uv.lock only.
FROM python:3.11-slim

ARG UV_VERSION=0.13.9
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/estateops \
    PATH=/opt/estateops/bin:$PATH \
    ESTATEOPS_DATA_DIR=/var/lib/estateops

RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
    && groupadd --system estateops \
    && useradd --system --gid estateops --home-dir /var/lib/estateops --create-home \
       --shell /usr/sbin/nologin estateops

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when the lock changes.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

USER estateops
EXPOSE 8000
CMD ["estateops", "serve"]
