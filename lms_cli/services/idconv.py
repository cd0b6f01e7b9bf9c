"""The PMC ID converter: PMID, PMCID and DOI of articles in PMC."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lms_cli.services.http import IDCONV, Failure, shown

if TYPE_CHECKING:
    from lms_cli.services.http import Http


def convert(http: Http, ids: Sequence[str]) -> dict[str, dict[str, str] | None]:
    """PMID/PMCID/DOI of each id (all of one type) that PMC knows; None when it does not.

    Ids with no answer (offline and not cached, or the call failed: see ``failures``)
    are left out.
    """
    out: dict[str, dict[str, str] | None] = {}
    todo = []
    for i in dict.fromkeys(ids):
        hit = http.cached("idconv", i)
        if hit is not None:
            out[i] = hit[1]
        elif not http.config.offline:
            todo.append(i)
    for start in range(0, len(todo), 200):
        batch = todo[start : start + 200]
        params = {"ids": ",".join(batch), "format": "json", **http.ncbi_params()}
        try:
            resp = http.request(IDCONV, "GET", http.config.idconv_url, params=params)
            if resp.status_code != 200:
                raise Failure(f"{IDCONV} failed at {shown(http.config.idconv_url)}: HTTP {resp.status_code}")
            body = http.json(IDCONV, resp)
        except Failure as exc:
            http.down.setdefault(IDCONV, exc.detail)
            continue
        records = body.get("records") if isinstance(body, dict) else None
        by_id = {}
        for rec in records if isinstance(records, list) else ():
            if isinstance(rec, dict) and isinstance(rec.get("requested-id"), str):
                by_id[rec["requested-id"].casefold()] = rec
        for i in batch:
            rec = by_id.get(i.casefold())
            ids_found = {k: str(rec[k]) for k in ("pmid", "pmcid", "doi") if rec and rec.get(k)} if rec else {}
            value = ids_found if ids_found and not (rec and rec.get("status") == "error") else None
            http.cache.put("idconv", i, value)
            out[i] = value
    return out
