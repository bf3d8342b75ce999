# AdWatch's own image, for docker-compose's crawler service (and any other `adwatch` command):
# the pinned dependencies and Debian's chromium, as `make bootstrap` sets up a machine.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.lock
COPY adwatch adwatch
COPY crawler crawler
COPY enrich enrich
COPY dashboards dashboards
COPY demo demo
COPY scrapy.cfg README.md ./
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps -e . \
    && useradd --create-home --uid 10001 adwatch && mkdir -p /data && chown adwatch /data
USER adwatch
ENV ADWATCH_CACHE_DIR=/data
ENTRYPOINT ["adwatch"]
