# newsmon worker image: the package, its flows, and a Prefect process worker.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    NEWSMON_DB=/data/newsmon.duckdb
WORKDIR /opt/newsmon

COPY pyproject.toml README.md ./
COPY newsmon ./newsmon
COPY flows ./flows
COPY extract ./extract
COPY ingest ./ingest
COPY storage ./storage
COPY stories ./stories
COPY alerts ./alerts
COPY deploy ./deploy
RUN pip install . && useradd --create-home --uid 10001 newsmon && mkdir -p /data && chown newsmon /data

USER newsmon
VOLUME ["/data"]
# The deployments' entrypoints (flows/*.py) resolve from this directory.
CMD ["prefect", "worker", "start", "--pool", "newsmon", "--type", "process"]
