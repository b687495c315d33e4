"""Stage 4, candidates: a MinHash LSH index over full-text and lead signatures.

Each article is indexed with its whole text and its leads (first 50 and 150 words by default). An
excerpt that keeps only the opening paragraphs of a long article has a low Jaccard similarity with the
whole, but a high one with the lead of about its own length, so querying all of them finds excerpts and
trimmed reprints without a containment index that would have to be rebuilt whenever an article arrives.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from datasketch import MinHashLSH

from dedupe.signature import Signature, SignatureParams, check_compatible


class CandidateIndex:
    """LSH over (article, part) keys; ``part`` is 'full' or 'lead0', 'lead1'… (shortest lead first).

    Example:
        >>> index = CandidateIndex(params, threshold=0.3)
        >>> index.add("http://a.example/x", full_sig, [lead_sig])
        >>> index.candidates("http://b.example/y", other_full, other_leads)
    """

    def __init__(self, params: SignatureParams, threshold: float, storage_config: dict | None = None):
        self.params = params
        self.lsh = MinHashLSH(threshold=threshold, num_perm=params.num_perm, storage_config=storage_config)
        self._parts: dict[str, list[str]] = {}

    def __contains__(self, url: str) -> bool:
        return url in self._parts

    def add_many(self, entries: Iterable[tuple[str, Signature, list[Signature]]]) -> None:
        with self.lsh.insertion_session() as session:
            for url, full, leads in entries:
                if url in self._parts:
                    continue
                check_compatible(self.params, full.params)
                parts = {"full": full, **{f"lead{i}": lead for i, lead in enumerate(leads)}}
                for part, sig in parts.items():
                    session.insert((url, part), sig.minhash(), check_duplication=False)
                self._parts[url] = list(parts)

    def add(self, url: str, full: Signature, leads: list[Signature]) -> None:
        self.add_many([(url, full, leads)])

    def remove(self, url: str) -> None:
        for part in self._parts.pop(url, []):
            self.lsh.remove((url, part))

    def candidates(self, url: str, full: Signature, leads: list[Signature]) -> set[str]:
        """Indexed articles whose full text or a lead collides with this article's full text or a lead."""
        check_compatible(self.params, full.params)
        found: set[str] = set()
        for sig in (full, *leads):
            for other, _part in self.lsh.query(sig.minhash()):
                if other != url:
                    found.add(other)
        return found


def candidate_pairs(index: CandidateIndex, entries: Iterable[tuple[str, Signature, list[Signature]]]) -> Iterator[tuple[str, str]]:
    """Each unordered candidate pair once, as (smaller URL, larger URL)."""
    seen: set[tuple[str, str]] = set()
    for url, full, leads in entries:
        for other in index.candidates(url, full, leads):
            pair = (url, other) if url < other else (other, url)
            if pair not in seen:
                seen.add(pair)
                yield pair
