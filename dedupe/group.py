"""Stages 5 and 6, verify and group.

Verify: a candidate pair is a copy when enough of the smaller text's shingles are found in the larger
one (containment), computed exactly on the shingle sets, not estimated.

Group: clusters are built from verified edges, strongest first, with a linkage rule: two clusters of
more than one article merge only when a real share of their cross pairs are verified copies. One
borderline pair (two stories quoting the same press release) therefore cannot chain two stories.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Edge:
    """A verified copy relation between two articles."""

    a: str
    b: str
    containment: float  # share of the smaller shingle set found in the larger
    jaccard: float


def verify(a: str, b: str, sa: np.ndarray, sb: np.ndarray, min_containment: float) -> Edge | None:
    """Exact containment and Jaccard of two sorted unique shingle-hash arrays; an Edge if it is a copy."""
    if len(sa) == 0 or len(sb) == 0:
        return None
    inter = len(np.intersect1d(sa, sb, assume_unique=True))
    containment = inter / min(len(sa), len(sb))
    if containment < min_containment:
        return None
    jaccard = inter / (len(sa) + len(sb) - inter)
    a, b = (a, b) if a < b else (b, a)
    return Edge(a, b, round(containment, 4), round(jaccard, 4))


class UnionFind:
    """Disjoint sets with path halving and union by size."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}

    def add(self, x: str) -> None:
        if x not in self.parent:
            self.parent[x] = x
            self.size[x] = 1

    def find(self, x: str) -> str:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: str, b: str) -> str:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if (self.size[ra], rb) < (self.size[rb], ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return ra


def connected_components(nodes: list[str], edges: list[Edge]) -> list[list[str]]:
    """Connected components of the verified-edge graph (each sorted; components sorted by first URL)."""
    uf = UnionFind()
    for n in nodes:
        uf.add(n)
    for e in edges:
        uf.add(e.a)
        uf.add(e.b)
        uf.union(e.a, e.b)
    comps: dict[str, list[str]] = defaultdict(list)
    for n in uf.parent:
        comps[uf.find(n)].append(n)
    return sorted((sorted(c) for c in comps.values()), key=lambda c: c[0])


def cluster(nodes: list[str], edges: list[Edge], min_linkage: float = 0.5) -> list[list[str]]:
    """Stories from verified edges, strongest first, merging clusters only with enough cross links.

    The result depends only on the set of nodes and edges, never on the order they arrived in.
    """
    uf = UnionFind()
    members: dict[str, list[str]] = {}
    for n in sorted(set(nodes) | {e.a for e in edges} | {e.b for e in edges}):
        uf.add(n)
        members[n] = [n]
    adj: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        adj[e.a].add(e.b)
        adj[e.b].add(e.a)
    for e in sorted(edges, key=lambda e: (-e.containment, -e.jaccard, e.a, e.b)):
        ra, rb = uf.find(e.a), uf.find(e.b)
        if ra == rb:
            continue
        ma, mb = members[ra], members[rb]
        if len(ma) > 1 and len(mb) > 1:
            small, large = (ma, mb) if len(ma) <= len(mb) else (mb, ma)
            large_set = set(large)
            links = sum(len(adj[x] & large_set) for x in small)
            if links < min_linkage * len(ma) * len(mb):
                continue
        elif len(ma) + len(mb) > 2:
            single, group = (ma[0], mb) if len(ma) == 1 else (mb[0], ma)
            if len(adj[single] & set(group)) < min_linkage * len(group):
                continue
        root = uf.union(ra, rb)
        other = rb if root == ra else ra
        members[root] = ma + mb
        del members[other]
    return sorted((sorted(m) for m in members.values()), key=lambda c: c[0])
