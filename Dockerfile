# One image for every process of the system; docker-compose.yml and deploy/k8s pick the command:
#   python -m tools.setup | tools.migrate | services.<name> | services.notify.sms_adapter | gateway
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Chinese fonts and the libraries WeasyPrint renders PDFs with; poppler-utils for pdftotext.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in a layer of their own that a code change does not rebuild.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY shared ./shared
COPY services ./services
COPY gateway ./gateway
COPY tools ./tools
# The processes run from /app (python -m puts it first on sys.path), where the SQL migrations,
# templates and static files sit beside the code.
RUN pip install --no-deps .

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin zhicheng \
    && mkdir -p /app/var \
    && chown zhicheng:zhicheng /app/var
USER zhicheng

ENV ZC_VAR_DIR=/app/var \
    ZC_GATEWAY_HOST=0.0.0.0
EXPOSE 8080
