# Descent Lab: the Streamlit app in one container.
# Build: docker build -t descent-lab .    Run: docker run --rm -p 8501:8501 descent-lab
# Hugging Face Spaces (Docker SDK) builds this same file; its README sets app_port: 8501.
# One Streamlit process per usable core behind nginx on port 8501 (deploy/serve.py);
# -e DESCENT_LAB_REPLICAS=1 runs Streamlit alone on 8501, -e DESCENT_LAB_STICKY=cookie
# keeps browsers on their replica by a cookie instead of by address (docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user with uid 1000 (the uid Spaces runs containers as).
RUN useradd --create-home --uid 1000 app

WORKDIR /app

# Debian's nginx, in front of the Streamlit processes (the package's own service is not used:
# the entry point runs it as the app user with a configuration of its own).
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The app, .streamlit/config.toml included; owned by root, so the app cannot change itself.
COPY . .

USER app

EXPOSE 8501

# python:3.11-slim has no curl: ask Python for the health endpoint ("ok"), through nginx
# (or from Streamlit itself with one replica).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read() != b'ok')"]

# Passes SIGTERM on to every process it started, and exits when any of them dies.
CMD ["python", "-m", "deploy.serve", "--port", "8501", "--address", "0.0.0.0"]
