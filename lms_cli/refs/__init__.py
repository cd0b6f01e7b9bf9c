"""The jobs built on the services: checking references (``verify``) and writing entries (``entries``)."""
