"""lms: summarise published evidence on leiomyosarcoma from a curated YAML base."""

__version__ = "0.1.0"
