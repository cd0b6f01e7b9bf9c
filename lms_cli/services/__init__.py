"""The services lms talks to, behind one HTTP policy (``http``), one module per service.

``client.Client`` is what the commands use: PubMed (``pubmed``), Crossref (``crossref``) and the
PMC ID converter (``idconv``), each client beside its parser, sharing pacing, retries,
timeouts and the record cache (``cache``). Answers are ``records.Lookup`` values, never
exceptions, so one failing service does not hide what the others said.
"""
