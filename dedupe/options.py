"""Settings as data: one options object per concern, each field with a default and help text.

The CLI builds its ``--help`` from these help strings, so a setting is defined in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.options import setting


@dataclass(frozen=True)
class GroupingOptions:
    """How article texts become signatures, candidates and stories."""

    num_perm: int = setting(128, "MinHash permutations per signature.")
    seed: int = setting(1, "MinHash permutation seed.")
    scheme: str = setting("affine32", "datasketch MinHash permutation scheme.")
    shingle_size: int = setting(5, "Words per shingle.")
    lsh_threshold: float = setting(0.3, "Jaccard threshold of the candidate LSH (low, so excerpts are found).")
    lead_words: tuple[int, ...] = setting((50, 150), "Lengths (words) of an article's leads, each indexed separately "
                                          "so that short and long excerpts of long articles are both found.")
    min_containment: float = setting(0.5, "Share of the smaller text's shingles found in the larger one for a verified copy.")
    furniture_min_pages: int = setting(3, "A paragraph seen on this many pages of one site is site furniture.")
    min_linkage: float = setting(0.5, "Share of cross pairs that must be verified copies for two clusters to merge.")
    lineage_batch: int = setting(5000, "Articles the lineage stage reads from the database at once.")

    def signature_params(self) -> dict:
        """The parameters stored next to every signature; mixing them is refused."""
        return {"num_perm": self.num_perm, "seed": self.seed, "scheme": self.scheme, "shingle_size": self.shingle_size}
