"""Stage 4, candidates: a MinHash LSH index over full-text and lead signatures.

Each article is indexed twice: its whole text and its lead (first words). An excerpt that keeps only
the opening paragraphs of a long article has a low Jaccard similarity with the whole, but a high one
with its lead, so querying both finds excerpts and trimmed reprints without a containment index that
would have to be rebuilt whenever an article arrives.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from datasketch import MinHashLSH

from dedupe.signature import Signature, SignatureParams, check_compatible


class CandidateIndex:
    """LSH over (article, part) keys; ``part`` is 'full' or 'lead'.

    Example:
        >>> index = CandidateIndex(params, threshold=0.3)
        >>> index.add("http://a.example/x", full_sig, lead_sig)
        >>> index.candidates("http://b.example/y", other_full, other_lead)
    """

    def __init__(self, params: SignatureParams, threshold: float, storage_config: dict | None = None):
        self.params = params
        self.lsh = MinHashLSH(threshold=threshold, num_perm=params.num_perm, storage_config=storage_config)
        self._keys: set[str] = set()

    def __contains__(self, url: str) -> bool:
        return url in self._keys

    def add_many(self, entries: Iterable[tuple[str, Signature, Signature | None]]) -> None:
        with self.lsh.insertion_session() as session:
            for url, full, lead in entries:
                if url in self._keys:
                    continue
                check_compatible(self.params, full.params)
                session.insert((url, "full"), full.minhash(), check_duplication=False)
                if lead is not None:
                    session.insert((url, "lead"), lead.minhash(), check_duplication=False)
                self._keys.add(url)

    def add(self, url: str, full: Signature, lead: Signature | None) -> None:
        self.add_many([(url, full, lead)])

    def remove(self, url: str) -> None:
        if url in self._keys:
            for part in ("full", "lead"):
                if (url, part) in self.lsh:
                    self.lsh.remove((url, part))
            self._keys.discard(url)

    def candidates(self, url: str, full: Signature, lead: Signature | None) -> set[str]:
        """Indexed articles whose full text or lead collides with this article's full text or lead."""
        check_compatible(self.params, full.params)
        found: set[str] = set()
        for sig in (full, lead):
            if sig is None:
                continue
            for other, _part in self.lsh.query(sig.minhash()):
                if other != url:
                    found.add(other)
        return found


def candidate_pairs(index: CandidateIndex, entries: Iterable[tuple[str, Signature, Signature | None]]) -> Iterator[tuple[str, str]]:
    """Each unordered candidate pair once, as (smaller URL, larger URL)."""
    seen: set[tuple[str, str]] = set()
    for url, full, lead in entries:
        for other in index.candidates(url, full, lead):
            pair = (url, other) if url < other else (other, url)
            if pair not in seen:
                seen.add(pair)
                yield pair
