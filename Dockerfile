# Image for web, worker and beat (docker-compose.yml). Python 3.11, pinned dependencies.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SETTINGS_MODULE=saas_platform.settings.production DJANGO_SECRET_KEY=build-only \
    DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput
RUN useradd --system --uid 10001 creneau && chown -R creneau /app
USER creneau
EXPOSE 8000
CMD ["gunicorn", "saas_platform.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
