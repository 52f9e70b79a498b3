"""How assessment is reached: the HTTP API and dashboard (``http/``, ``app.py``), the worker's periodic
revision (``worker.py``) and the operator's command line (``cli.py``)."""
