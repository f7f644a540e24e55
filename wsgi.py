"""WSGI entry point: `gunicorn wsgi:app`."""

from casework import create_app, settle

app = create_app()
settle()
