# Descent Lab: the Streamlit app in one container.
# Build: docker build -t descent-lab .    Run: docker run --rm -p 8501:8501 descent-lab
# Hugging Face Spaces (Docker SDK) builds this same file; its README sets app_port: 8501.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user with uid 1000 (the uid Spaces runs containers as).
RUN useradd --create-home --uid 1000 app

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The app, .streamlit/config.toml included; owned by root, so the app cannot change itself.
COPY . .

USER app

EXPOSE 8501

# python:3.11-slim has no curl: ask Python for the health endpoint ("ok").
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read() != b'ok')"]

CMD ["streamlit", "run", "app.py", "--server.port", "8501", "--server.address", "0.0.0.0"]
