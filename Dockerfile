# The tatulasu image: API, worker and beat are the same image with another command
# (docker-compose.yml). Installs exactly what uv.lock holds, runs as a non-root user,
# keeps its data (the embedded SQLite file) in /var/lib/tatulasu.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
# Dependencies first: a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-install-project --no-editable --extra graphviz --extra flower
COPY states ./states
COPY workflow ./workflow
COPY tasks ./tasks
COPY tatulasu ./tatulasu
RUN uv sync --locked --no-editable --extra graphviz --extra flower

FROM ${PYTHON_IMAGE}
# Graphviz's `dot` draws the lifecycle as SVG (the Python `graphviz` package only calls it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/tatulasu \
        --create-home tatulasu
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TATULASU_DATABASE_URL=sqlite:////var/lib/tatulasu/tatulasu.db
WORKDIR /var/lib/tatulasu
VOLUME ["/var/lib/tatulasu"]
USER tatulasu
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=10s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=5)"]
# The embedded default: one SQLite file, the clock in-process. docker-compose.yml runs
# the scale-out (PostgreSQL, Redis, workers, one beat) from the same image.
CMD ["sh", "-c", "tatulasu init && exec tatulasu serve --host 0.0.0.0 --port 8000"]
