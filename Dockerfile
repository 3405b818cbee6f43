# newsbot, CPU only: the ONNX model is exported at build time, so the image starts and
# answers offline. The steps are plain scripts (deploy/build.sh, deploy/start.sh) that CI
# also runs in a fresh venv. Build and run: see "Container" in README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/newsbot/src
COPY pyproject.toml README.md LICENSE ./
COPY bot bot
COPY retrieval retrieval
COPY seeds seeds
COPY deploy deploy
# Root owns the program and the exported model; the bot only writes its data volume.
RUN deploy/build.sh /opt/newsbot/venv /opt/newsbot/models \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin newsbot \
    && mkdir /data && chown newsbot:newsbot /data

ENV PATH=/opt/newsbot/venv/bin:$PATH \
    NEWSBOT_DATA_DIR=/data \
    NEWSBOT_MODEL_CACHE_DIR=/opt/newsbot/models \
    HF_HUB_OFFLINE=1 \
    NEWSBOT_TELEGRAM_WEBHOOK_LISTEN=0.0.0.0
USER newsbot
VOLUME ["/data"]
# Webhook mode listens here (NEWSBOT_TELEGRAM_WEBHOOK_PORT); long polling needs no port.
EXPOSE 8443
# Exit 0 while the index loads and can answer (generation, articles, newest article's age).
HEALTHCHECK --interval=60s --timeout=30s --start-period=5m --retries=3 \
    CMD ["newsbot", "health"]
ENTRYPOINT ["/opt/newsbot/src/deploy/start.sh"]
CMD ["telegram"]
