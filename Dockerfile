# syntax=docker/dockerfile:1
# posture in a container: `docker build -t posture . && docker run --rm posture --help`.
# Two stages: the build stage installs posture and its runtime extras into a virtualenv; the runtime
# stage copies only that virtualenv onto the same slim base (no compiler, no pip cache, no tests, no
# moto/dev tools) and runs as an unprivileged user. Pin the base by digest in production
# (`--build-arg PYTHON_IMAGE=python:3.12.8-slim-bookworm@sha256:...`).
ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# Runtime extras only: cloud SDKs and the PostgreSQL history driver; `demo` (moto) and `dev` stay out.
ARG EXTRAS=aws,azure,gcp,postgres
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/posture
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY posture ./posture
COPY plugins ./plugins
COPY tiers ./tiers
RUN /opt/posture/bin/pip install --no-compile ".[${EXTRAS}]" \
 && /opt/posture/bin/pip uninstall -y pip setuptools wheel >/dev/null 2>&1 || true

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="posture" \
      org.opencontainers.image.description="Tiered cloud-security posture scanner (distribution tiered-posture)" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 posture \
 && useradd --system --uid 10001 --gid posture --home-dir /home/posture --create-home --shell /usr/sbin/nologin posture
COPY --from=build /opt/posture /opt/posture
ENV PATH=/opt/posture/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /home/posture
# Reports go to ./posture-out unless --output-dir says otherwise: mount a volume there.
ENTRYPOINT ["posture"]
CMD ["--help"]
