# The application image: the app (gateway, channels, dashboard) and the action server.
FROM python:3.10-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv
# Only the production lock (every package pinned with its hashes; `make lock`): test tools
# (requirements/dev.lock) never enter the image.
COPY requirements/app.lock requirements/app.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/app.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY content ./content
COPY locales ./locales
COPY nlu ./nlu
RUN pip install --no-cache-dir --no-deps -e . && python -m bot.i18n compile
RUN useradd --system --uid 1000 assistant && mkdir -p /data/media /srv/var \
    && chown -R assistant /data /srv/var
USER assistant
EXPOSE 8000
CMD ["python", "-m", "bot.app"]
