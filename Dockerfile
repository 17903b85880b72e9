# The API (and the sync worker) image: locked dependencies, no dev tools, non-root.
# The developer stack (`devstack/`, `beatstream stack`) is a dev-group workspace member:
# neither copied nor installed here, so `import beatstream.stack` fails in the image.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir "uv>=0.5"
WORKDIR /app
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY platform ./platform
COPY pipelines ./pipelines
COPY seed ./seed
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN useradd --system --uid 10001 beatstream
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 API_HOST=0.0.0.0
USER beatstream
WORKDIR /app
EXPOSE 8000
CMD ["beatstream", "serve", "--host", "0.0.0.0"]
