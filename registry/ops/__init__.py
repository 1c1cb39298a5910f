"""What operators watch: Prometheus metrics and gunicorn hooks, JSON logs with a request id,
optional error tracking (Sentry), and readiness checks of every shared part."""
