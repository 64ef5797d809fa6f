# crmsim in a container: docker build -t crmsim . && docker run -p 8080:8080 crmsim
# Keep state across restarts: docker run -p 8080:8080 -v crmsim:/data crmsim --data /data/crmsim.json
# The control plane (/__sim) needs a token: choose it with -e CRMSIM_CONTROL_TOKEN=..., or the
# container makes one up and prints it (docker logs). -e CRMSIM_OPEN_CONTROL_PLANE=1 opens it
# to anyone who reaches the port, on purpose. /__sim/health stays open (HEALTHCHECK).
# The install steps are tested without Docker in tests/test_docker.py (a fresh venv).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY simulator ./simulator
# The wheel carries the schemas inside the package (simulator/_schemas -> ../schemas).
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 crmsim \
    && mkdir /data \
    && chown crmsim /data
USER 10001
WORKDIR /home/crmsim
VOLUME ["/data"]
EXPOSE 8080
# Over HTTPS when CRMSIM_CERTFILE names a certificate (docs/serving.md, "HTTPS"); on loopback
# the health check need not verify it (the CA is not in the image).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, ssl, sys, urllib.request; tls = bool(os.environ.get('CRMSIM_CERTFILE', '').strip()); sys.exit(urllib.request.urlopen(('https' if tls else 'http') + '://127.0.0.1:8080/__sim/health', timeout=2, context=ssl._create_unverified_context() if tls else None).status != 200)"]
# The HTTP server is granian (no slow or idle client can stall the others); `--server gunicorn`
# selects gunicorn (docs/serving.md, "Choosing the HTTP server").
# Arguments of `docker run IMAGE ...` are added to `crmsim serve`, e.g. --data /data/crmsim.json
ENTRYPOINT ["crmsim", "serve", "--host", "0.0.0.0", "--port", "8080", "--generate-control-token"]
