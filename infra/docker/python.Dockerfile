# One image for every Python service; each compose service chooses its command.
# Dependencies come from the same requirements.lock as the local stack.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN pip install "uv==0.13.9"
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN uv venv /opt/venv --python /usr/local/bin/python3.11 \
 && uv pip sync --python /opt/venv/bin/python requirements.lock
COPY common ./common
COPY schemas ./schemas
COPY command_api ./command_api
COPY query_api ./query_api
COPY solver_worker ./solver_worker
COPY projector ./projector
COPY infra/__init__.py infra/topics.py infra/make_cert.py ./infra/
COPY alembic.ini ./
RUN uv pip install --python /opt/venv/bin/python --no-deps .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 ENVIRONMENT=production
RUN groupadd --system app && useradd --system --gid app --home /app app \
 && mkdir -p /data/blobs /data/tls && chown -R app:app /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER app
EXPOSE 8000
# Each service in docker-compose.yml sets its own command, e.g. `python -m command_api`.
CMD ["python", "-m", "command_api"]
