# scorpio-sim in a container: the same gunicorn config as `make run`,
# listening on all interfaces.  Build: docker build -t scorpio-sim .
# Run:   docker run -p 8080:8080 scorpio-sim
# Keep the state across restarts (saved on `docker stop`, loaded at start):
#        docker run -p 8080:8080 -v scorpio-state:/data -e SCORPIO_SIM_STATE_FILE=/data/state.json scorpio-sim
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SCORPIO_SIM_BIND=0.0.0.0:8080

WORKDIR /app
COPY pyproject.toml README.md gunicorn.conf.py ./
COPY simulator ./simulator
COPY fixtures ./fixtures
RUN pip install ".[gevent,redis]" \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin sim \
    && mkdir /data && chown sim /data

USER sim
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/control/health', timeout=2)" || exit 1

CMD ["gunicorn", "--config", "gunicorn.conf.py"]
