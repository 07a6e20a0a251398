"""banshi's entry point: ``python app.py …`` is the ``banshi`` command (see cli.py); the web app is web.server."""

from cli import main

if __name__ == "__main__":
    raise SystemExit(main())
