"""``Client``: PubMed, Crossref and the PMC ID converter behind the one HTTP policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from lms_cli.model import Reference
from lms_cli.services import crossref, idconv, pubmed
from lms_cli.services.http import IDCONV, PUBMED, Config, Failure, Http
from lms_cli.services.records import IdKind, Lookup, LookupState, Progress

__all__ = ["Client", "Config", "Failure"]


class Client(Http):
    """PubMed, Crossref and the PMC ID converter, as the ``refs`` commands ask them."""

    def esummary(
        self, pmids: Iterable[str], progress: Progress | None = None, weights: Mapping[str, int] | None = None
    ) -> dict[str, Lookup]:
        """PubMed records by PMID (see ``pubmed.esummary``)."""
        return pubmed.esummary(self, pmids, progress, weights)

    def crossref(self, doi: str) -> Lookup:
        """One work from Crossref (see ``crossref.work``)."""
        return crossref.work(self, doi)

    def crossref_works(
        self, dois: Iterable[str], progress: Progress | None = None, weights: Mapping[str, int] | None = None
    ) -> dict[str, Lookup]:
        """Works from Crossref, many DOIs per request (see ``crossref.works``)."""
        return crossref.works(self, dois, progress, weights)

    def idconv(self, ids: Sequence[str]) -> dict[str, dict[str, str] | None]:
        """PMID/PMCID/DOI of each id that PMC knows (see ``idconv.convert``)."""
        return idconv.convert(self, ids)

    def lookup_references(self, refs: Sequence[Reference], progress: Progress | None = None) -> dict[str, Lookup]:
        """An answer for each reference id: PMIDs through ESummary, DOI-only ones through Crossref."""
        with_pmid = [r for r in refs if r.pmid]
        by_pmid = self.esummary([r.pmid for r in with_pmid if r.pmid], progress)
        out = {r.id: by_pmid[r.pmid] for r in with_pmid if r.pmid}
        for r in refs:
            if r.pmid:
                continue
            if r.doi:
                out[r.id] = self.crossref(r.doi)
            else:  # the loader requires one of them; kept for references built by hand
                out[r.id] = Lookup(LookupState.NOT_CACHED, PUBMED, detail="no PMID or DOI")
            if progress:
                progress(1)
        return {r.id: out[r.id] for r in refs}

    def works(self, identifiers: Sequence[tuple[IdKind, str]]) -> list[Lookup]:
        """An answer for each PMID, DOI or PMCID, PubMed first (complete authors, NLM abbreviation)."""
        pmcids = [v for k, v in identifiers if k is IdKind.PMCID]
        dois = [v for k, v in identifiers if k is IdKind.DOI]
        conv = self.idconv(pmcids) if pmcids else {}
        # A DOI of a PMC article has a PMID: ask PubMed for the better record.
        doi_conv = self.idconv(dois) if dois else {}
        route: list[tuple[str, str] | Lookup] = []
        for kind, value in identifiers:
            if kind is IdKind.PMID:
                route.append(("pmid", value))
            elif kind is IdKind.PMCID:
                rec = conv.get(value)
                if rec and rec.get("pmid"):
                    route.append(("pmid", rec["pmid"]))
                elif rec and rec.get("doi"):
                    route.append(("doi", rec["doi"]))
                elif IDCONV in self.down:
                    route.append(Lookup(LookupState.FAILED, IDCONV, detail=self.down[IDCONV]))
                elif self.config.offline and rec is None and value not in conv:
                    route.append(Lookup(LookupState.NOT_CACHED, IDCONV))
                else:
                    route.append(Lookup(LookupState.NOT_FOUND, IDCONV))
            else:
                rec = doi_conv.get(value)
                route.append(("pmid", rec["pmid"]) if rec and rec.get("pmid") else ("doi", value))
        pubmed = self.esummary([r[1] for r in route if isinstance(r, tuple) and r[0] == "pmid"])
        out = []
        for r in route:
            if isinstance(r, Lookup):
                out.append(r)
            elif r[0] == "pmid":
                out.append(pubmed[r[1]])
            else:
                out.append(self.crossref(r[1]))
        return out
