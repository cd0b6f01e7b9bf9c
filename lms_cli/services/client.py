"""``Client``: PubMed, Crossref and the PMC ID converter behind the one HTTP policy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from lms_cli.load.fields import PMID_RE
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
        """An answer for each reference id, in three rounds of batched requests (none when all is cached).

        1. The PMC ID converter: which DOIs of the DOI-only references have a PMID.
        2. One ESummary batch for the references' PMIDs and those PMIDs: PubMed's record is
           taken for a DOI-only reference when it carries that DOI, or no DOI at all.
        3. Crossref, many DOIs per request, for the DOIs still without a PubMed record
           (PubMed or the converter down, offline and not cached, unknown to PMC).

        ``progress`` advances once per reference, when its answer is final.
        """
        own = Counter(r.pmid for r in refs if r.pmid)
        doi_only = [r for r in refs if not r.pmid and r.doi]
        # The converter takes a comma-separated list: a DOI holding a comma goes to Crossref.
        askable = list(dict.fromkeys(r.doi for r in doi_only if r.doi and "," not in r.doi))
        conv = self.idconv(askable) if askable else {}
        via: dict[str, str] = {}  # reference id -> the PMID that PMC gives for its DOI
        for r in doi_only:
            rec = conv.get(r.doi or "")
            if rec and PMID_RE.match(rec.get("pmid", "")):
                via[r.id] = rec["pmid"]
        # A PMID asked for a DOI weighs nothing here: that reference's answer may still be Crossref's.
        weights = {**dict.fromkeys(via.values(), 0), **own}
        by_pmid = self.esummary([*own, *via.values()], progress, weights)
        out = {r.id: by_pmid[r.pmid] for r in refs if r.pmid}
        for r in doi_only:
            lookup = by_pmid.get(via.get(r.id, ""))
            if lookup is not None and r.doi and _describes(lookup, r.doi):
                out[r.id] = lookup
        if progress and (n := sum(1 for r in doi_only if r.id in out)):
            progress(n)
        rest = Counter(r.doi for r in doi_only if r.id not in out and r.doi)
        by_doi = self.crossref_works(rest, progress, rest)
        for r in refs:
            if r.id in out:
                continue
            if r.doi:
                out[r.id] = by_doi[r.doi]
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


def _describes(lookup: Lookup, doi: str) -> bool:
    """True when a PubMed record found through the converter may stand for the paper with ``doi``.

    A record naming another DOI is another paper: the reference is checked against Crossref.
    """
    work = lookup.work
    if lookup.state is not LookupState.FOUND or work is None:
        return False
    return work.doi is None or work.doi.strip().casefold() == doi.strip().casefold()
