"""Serving files: nginx templates and the container's entry point (``python -m deploy.serve``)."""
