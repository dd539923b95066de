"""newsmon: news monitoring with Prefect and DuckDB."""

__version__ = "0.1.0"
