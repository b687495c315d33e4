"""Stage 6, group: stories from the copy relations of ``dedupe.relate``, without chaining through pieces.

Copies of one text chain legitimately (a trimmed copy of a trimmed copy is still the story), so stories
are the connected components of the copy relations, after two kinds of page are kept from joining
what they hold:

  aggregates   a page holding pieces of several other stories, side by side (a listing, a news-in-brief
               compilation, a gallery around another story's caption): it joins at most the one story that
               makes up most of it, and is linked to the others as "contains";
  shared pieces  a text found whole in stories that are otherwise unrelated (a statement printed by each, a
               lead sentence printed as another story's photo caption), and any page that alone links
               two stories: it joins at most the one that holds clearly the most of it.

A relation a page owes only to text its own story carries (``find_borrowed``) is not followed either. A
caption-only capture (``relate.relate_caption``) is held by the page it captures, as the page's own excerpt is.
Quote relations never join; the quoting page contains the quoted one. Every function here is pure: the
result depends only on the nodes and relations given, never on their order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from dedupe.relate import Edge


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


def components(nodes: list[str], pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Connected components (each sorted; components sorted by first node)."""
    uf = UnionFind()
    for n in nodes:
        uf.add(n)
    for a, b in pairs:
        uf.add(a)
        uf.add(b)
        uf.union(a, b)
    comps: dict[str, list[str]] = defaultdict(list)
    for n in uf.parent:
        comps[uf.find(n)].append(n)
    return sorted((sorted(c) for c in comps.values()), key=lambda c: c[0])


@dataclass
class Clustering:
    """Stories, and which page contains a piece of which other page without joining its story."""

    stories: list[list[str]]
    contains: list[tuple[str, str]] = field(default_factory=list)   # (container, contained), sorted


@dataclass
class _Part:
    """Pieces of one page that overlap on it: one passage of the page and the texts found in it."""

    start: int
    end: int
    pieces: list[str]


def pieces_of(node: str, edges: list[Edge], min_cover: float) -> list[tuple[str, Edge]]:
    """The copy relations that show which pieces a page holds: all but those with its own copies (pages that
    are mostly it while it is mostly them), which span all of it."""
    return [(e.other(node), e) for e in edges if min(e.cover_a, e.cover_b) < min_cover]


def parts_of(node: str, pieces: list[tuple[str, Edge]], max_gap: int = 20) -> list[_Part]:
    """The node's pieces grouped by where they lie on it: overlapping passages are one part (a piece whose
    passages lie in several parts is in each). One piece's passages less than ``max_gap`` words apart
    count as one stretch (a teaser line or an advertisement label between two paragraphs of a copy)."""
    placed = []
    for other, e in pieces:
        ranges = sorted(e.ranges(node))
        merged = [list(ranges[0])] if ranges else []
        for start, end in ranges[1:]:
            if start - merged[-1][1] < max_gap:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        placed += [(start, end, other) for start, end in merged]
    parts: list[_Part] = []
    for start, end, other in sorted(placed):
        if parts and start < parts[-1].end:
            parts[-1].end = max(parts[-1].end, end)
            if other not in parts[-1].pieces:
                parts[-1].pieces.append(other)
        else:
            parts.append(_Part(start, end, [other]))
    return parts


def _inside(inner: list[tuple[int, int]], outer: list[tuple[int, int]], slack: int = 4) -> bool:
    """Does every range of ``inner`` lie within some range of ``outer`` (give or take a shingle's overlap)?"""
    return all(any(s - slack <= a and b <= e + slack for s, e in outer) for a, b in inner)


def _share(parts: list[_Part], length: int) -> float:
    return sum(p.end - p.start for p in parts) / max(length, 1)


@dataclass
class _Graph:
    """Copy relations of one component as adjacency, with each text's length in words."""

    adj: dict[str, dict[str, Edge]]
    length: dict[str, int]

    @classmethod
    def of(cls, edges: list[Edge]) -> _Graph:
        adj: dict[str, dict[str, Edge]] = defaultdict(dict)
        length: dict[str, int] = defaultdict(int)
        for e in edges:
            adj[e.a][e.b] = e
            adj[e.b][e.a] = e
            length[e.a] = e.len_a
            length[e.b] = e.len_b
        return cls(adj, length)


# A page may carry pieces of other stories (a caption, a teaser block, a quoted paragraph) of up to a third
# of what it carries of its own story; a compilation's items are of comparable size.
SIDE_PIECE_RATIO = 1 / 3


def copies(node: str, other: str, e: Edge, min_cover: float) -> bool:
    """Is ``node`` a copy of ``other``'s text: does it carry most of it or its opening stretch, is it mostly
    in it, or do both open with what they share? (Not when ``other`` merely holds ``node``'s opening.)"""
    return e.cover(other) >= min_cover or e.opened(other) or e.cover(node) >= min_cover or e.basis == "leads"


def _decide_container(node: str, comp_of: dict[str, str], graph: _Graph, min_cover: float,
                      lead_share: float) -> set[str]:
    """Relations a page with several parts does not join (it contains them): see ``find_aggregates``."""
    near = graph.adj[node]
    own = comp_of[node]
    by_group: dict[str, list[str]] = defaultdict(list)
    for other in near:
        if comp_of[other] != own:
            by_group[comp_of[other]].append(other)
    members: dict[str, set[str]] = defaultdict(set)
    for n, comp in comp_of.items():
        if comp in by_group:
            members[comp].add(n)
    length = graph.length[node]
    share = {c: _share(parts_of(node, [(o, near[o]) for o in linked]), length) for c, linked in by_group.items()}
    held = {o for o, e in near.items() if e.cover(o) >= min_cover or (e.basis == "caption" and e.opened(o))}
    explained = {c for c in by_group if members[c] <= held}
    open_groups = sorted((c for c, linked in by_group.items() if c not in explained
                          and any(copies(node, o, near[o], min_cover) for o in linked)), key=lambda c: (-share[c], c))
    joins = None
    if open_groups and share[open_groups[0]] >= lead_share:
        best = open_groups[0]
        if all(share[c] <= SIDE_PIECE_RATIO * share[best] for c in open_groups[1:]):
            joins = best
    return {o for c, linked in by_group.items() if c not in explained and c != joins for o in linked}


def find_aggregates(nodes: list[str], graph: _Graph, min_cover: float, lead_share: float) -> set[tuple[str, str]]:
    """Copy relations (container, piece) that must not join, because the container holds pieces of several
    stories side by side.

    A page sharing text with different others on two or more separate parts of it is a candidate. Without every
    candidate's relations to its pieces (all but its own copies), its neighbours fall in groups. A group is
    explained when all its texts are mostly in the page (the page's own excerpts: they stay with it);
    otherwise the page may join it only if it is a copy of the group's text (carries most of a text of it
    or a text's opening stretch, or is mostly in one) and that text makes up a real share of the page (``lead_share``, as for a trimmed
    copy). The page joins the largest such group when the others are side pieces of it (a caption, a teaser
    block: at most a third of it); a page holding comparable pieces of several stories side by side (a
    listing, a compilation) joins none of them.
    """
    candidates: dict[str, list[_Part]] = {}
    for n in nodes:
        parts = parts_of(n, pieces_of(n, list(graph.adj[n].values()), min_cover))
        if any(not set(p.pieces) & set(q.pieces) for i, p in enumerate(parts) for q in parts[i + 1:]):
            candidates[n] = parts
    if not candidates:
        return set()
    held = {(n, p) for n, parts in candidates.items() for part in parts for p in part.pieces}
    kept = [(a, b) for a in nodes for b in graph.adj[a] if a < b and (a, b) not in held and (b, a) not in held]
    comp_of = {n: c[0] for c in components(nodes, kept) for n in c}
    return {(n, p) for n in sorted(candidates) for p in _decide_container(n, comp_of, graph, min_cover, lead_share)}


def find_borrowed(nodes: list[str], graph: _Graph, cut: set[tuple[str, str]], min_cover: float,
                  headlines: Callable[[list[str]], dict[str, frozenset[str]]] | None = None,
                  headline_share: float = 0.6) -> set[tuple[str, str]]:
    """Copy relations a page owes to text its own story carries (a caption quoting another story's lead,
    a statement): neither the page nor ``u`` is mostly in the other (they share an opening stretch), and
    another of the page's relations ``w`` holds that same passage of it, holds more of it, and is no copy
    of ``u``. Had the passage made the page a copy of ``u``, it would make ``w`` one too. Unless the two
    pages carry the same headline (``headlines``): then ``u`` is a teaser of the page's own story, which ``w``
    was merely not found to hold.
    """
    out: set[tuple[str, str]] = set()
    for v in nodes:
        near = {u: e for u, e in graph.adj[v].items() if (v, u) not in cut and (u, v) not in cut}
        for u, e in near.items():
            if max(e.cover(v), e.cover(u)) >= min_cover:
                continue
            mine = e.ranges(v)
            if any(w != u and w not in graph.adj[u] and f.cover(v) > e.cover(v) and _inside(mine, f.ranges(v))
                   for w, f in near.items()):
                out.add((v, u))
    if out and headlines is not None:
        words = headlines(sorted({x for pair in out for x in pair}))
        out = {(v, u) for v, u in out if not _same_headline(words.get(v), words.get(u), headline_share)}
    return out


TIE_SHARE = 0.1   # shares of a page closer than this are a tie (``_clear_winner``)


def _clear_winner(shares: dict[str, float]) -> str | None:
    """The key with the largest share, if it leads every other by a tenth of the page (else a tie)."""
    ranked = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) == 1 or ranked[0][1] >= ranked[1][1] + TIE_SHARE:
        return ranked[0][0]
    return None


def find_shared_pieces(nodes: list[str], graph: _Graph, cut: set[tuple[str, str]], min_cover: float,
                       headlines: Callable[[list[str]], dict[str, frozenset[str]]] | None = None,
                       headline_share: float = 0.6) -> set[tuple[str, str]]:
    """Copy relations (holder, piece) of a text held whole by stories that are otherwise unrelated (a
    lead sentence printed as another story's caption, a statement printed by two stories, a preview
    listed by aggregators).

    Every text held by two or more pages that are not copies of each other is a candidate; without all
    candidates' relations to their holders, the holders fall in groups. A piece whose holders are in two
    or more groups stays with the group holding clearly the most of it; on a tie, with the one group whose pages
    carry its headline (``headlines`` reads pages' headline words: ``_headline_winner``), or with none.
    """
    def live(a: str, b: str) -> bool:
        return (a, b) not in cut and (b, a) not in cut

    candidates: dict[str, list[str]] = {}
    for n in nodes:
        hs = sorted(h for h, e in graph.adj[n].items() if live(n, h) and e.cover(n) >= min_cover > e.cover(h))
        if len(hs) >= 2 and not all(b in graph.adj[a] for i, a in enumerate(hs) for b in hs[i + 1:]):
            candidates[n] = hs
    if not candidates:
        return set()
    removed = {(n, h) for n, hs in candidates.items() for h in hs}
    kept = [(a, b) for a in nodes for b in graph.adj[a]
            if a < b and live(a, b) and (a, b) not in removed and (b, a) not in removed]
    comp_of = {n: c[0] for c in components(nodes, kept) for n in c}
    out: set[tuple[str, str]] = set()
    for n, hs in sorted(candidates.items()):
        groups: dict[str, list[str]] = defaultdict(list)
        for h in hs:
            groups[comp_of[h]].append(h)
        if len(groups) < 2:
            continue
        shares = {c: _share(parts_of(n, [(h, graph.adj[n][h]) for h in g]), graph.length[n]) for c, g in groups.items()}
        keep = _clear_winner(shares)
        if keep is None and headlines is not None:
            keep = _headline_winner(n, {c: g for c, g in groups.items() if shares[c] >= max(shares.values()) - TIE_SHARE},
                                    headlines, headline_share)
        out.update((h, n) for c, g in groups.items() if c != keep for h in g)
    return out


def _headline_winner(piece: str, tied: dict[str, list[str]], headlines: Callable[[list[str]], dict[str, frozenset[str]]],
                     min_share: float) -> str | None:
    """Of groups holding a piece equally, the one whose pages carry its headline (a teaser or a preview keeps the
    headline of the story it was cut from; a page quoting that story's lead in a caption has its own): the only
    group with a holder whose headline shares ``min_share`` of the shorter headline's words with the piece's."""
    words = headlines([piece, *(h for g in tied.values() for h in g)])
    titled = [c for c, g in tied.items() if any(_same_headline(words.get(piece), words.get(h), min_share) for h in g)]
    return titled[0] if len(titled) == 1 else None


def _same_headline(mine: frozenset[str] | None, theirs: frozenset[str] | None, min_share: float) -> bool:
    """Do two headlines' words have ``min_share`` of the shorter one's in common (a site's prefix or suffix, a
    word changed)?"""
    return bool(mine and theirs and len(mine & theirs) >= min_share * min(len(mine), len(theirs)))


def _dfs(root: str, adj: dict[str, set[str]], disc: dict[str, int], order: list[str]) -> tuple[dict, dict]:
    """One iterative depth-first search from ``root``: the children that hang only on their parent, and
    the end of each node's subtree in ``order`` (a subtree is a contiguous run of the discovery order)."""
    low: dict[str, int] = {root: len(order)}
    disc[root] = len(order)
    order.append(root)
    hanging: dict[str, list[str]] = defaultdict(list)
    end: dict[str, int] = {}
    stack = [(root, "", iter(sorted(adj[root])))]
    while stack:
        v, parent, it = stack[-1]
        child = next((u for u in it if u != parent), None)
        if child is None:
            stack.pop()
            end[v] = len(order)
            if parent:
                low[parent] = min(low[parent], low[v])
                if low[v] >= disc[parent]:
                    hanging[parent].append(v)
        elif child in disc:
            low[v] = min(low[v], disc[child])
        else:
            disc[child] = low[child] = len(order)
            order.append(child)
            stack.append((child, v, iter(sorted(adj[child]))))
    return hanging, end


def separated_groups(nodes: list[str], adj: dict[str, set[str]]) -> dict[str, list[list[str]]]:
    """For every node whose removal splits its component (an articulation point): the groups it splits it
    into (Tarjan's algorithm)."""
    disc: dict[str, int] = {}
    order: list[str] = []
    out: dict[str, list[list[str]]] = {}
    for root in nodes:
        if root in disc:
            continue
        start = len(order)
        hanging, end = _dfs(root, adj, disc, order)
        stop = len(order)
        for v, children in hanging.items():
            if v == root and len(children) < 2:
                continue
            groups = [order[disc[c]:end[c]] for c in children]
            inside = {u for g in groups for u in g} | {v}
            rest = [u for u in order[start:stop] if u not in inside]
            out[v] = groups + ([rest] if rest else [])
    return out


def find_bridges(nodes: list[str], graph: _Graph, cut: set[tuple[str, str]], min_cover: float) -> set[tuple[str, str]]:
    """Copy relations of a page that alone links two otherwise unrelated stories (a caption-heavy preview
    carrying another story's lead, a statement printed at the top of two stories).

    Groups the page's removal separates are explained when all their texts are mostly in the page (its
    own excerpts: they stay with it). Of two or more unexplained groups, the page joins the one holding the
    most of it, if one holds more than each other; the relations to the others are cut.
    """
    adj: dict[str, set[str]] = defaultdict(set)
    for a in nodes:
        for b in graph.adj[a]:
            if (a, b) not in cut and (b, a) not in cut:
                adj[a].add(b)
    out: set[tuple[str, str]] = set()
    for v, groups in sorted(separated_groups(nodes, adj).items()):
        linked = [[u for u in g if u in adj[v]] for g in groups]
        open_groups = [lk for g, lk in zip(groups, linked)
                       if len(g) > len(lk) or any(graph.adj[v][u].cover(u) < min_cover for u in lk)]
        if len(open_groups) < 2:
            continue
        shares = [_share(parts_of(v, [(u, graph.adj[v][u]) for u in lk]), graph.length[v]) for lk in open_groups]
        keep = _clear_winner({str(i): share for i, share in enumerate(shares)})
        out.update((v, u) for i, lk in enumerate(open_groups) if str(i) != keep for u in lk)
    return out


def _without_needless_captions(edges: list[Edge], caption_words: int) -> list[Edge]:
    """The relations but the caption relations of a page another relation links to a longer page than a capture
    (``caption_words``): a short page whose own text copies or quotes a story (a preview, a brief) is not a
    caption-only capture, and one that is needs no caption relation; two captures of one page (a capture
    stored twice) are both captures. Decided here, from the relations alone, so that an increment and a
    rebuild decide it alike (``Store.linked_pages`` is the same rule)."""
    related = {n for e in edges if e.basis != "caption"
               for n, other in ((e.a, e.len_b), (e.b, e.len_a)) if other > caption_words}
    return [e for e in edges if e.basis != "caption" or _caption_side(e) not in related]


def _caption_side(e: Edge) -> str:
    """The capture of a caption relation (the side whose opening it is)."""
    return e.a if e.opens == "a" else e.b


def cluster(nodes: list[str], edges: list[Edge], min_cover: float = 0.5, lead_share: float = 1 / 3,
            caption_words: int = 150, headlines: Callable[[list[str]], dict[str, frozenset[str]]] | None = None,
            headline_share: float = 0.6) -> Clustering:
    """Stories of one component: copy relations joined, aggregates' and shared pieces' relations cut.

    Quote relations never join: each becomes a "contains" link from the quoting page to the quoted one.
    """
    nodes = sorted(set(nodes) | {e.a for e in edges} | {e.b for e in edges})
    edges = _without_needless_captions(edges, caption_words)
    copies = [e for e in edges if e.is_copy]
    graph = _Graph.of(copies)
    cut = find_aggregates(nodes, graph, min_cover, lead_share)
    cut |= find_borrowed(nodes, graph, cut, min_cover, headlines, headline_share)
    cut |= find_shared_pieces(nodes, graph, cut, min_cover, headlines, headline_share)
    cut |= find_bridges(nodes, graph, cut, min_cover)
    joined = [(e.a, e.b) for e in copies if (e.a, e.b) not in cut and (e.b, e.a) not in cut]
    contains = set(cut)
    for e in edges:
        if not e.is_copy:
            contains.add((e.b, e.a) if e.basis == "a" else (e.a, e.b))
    return Clustering(components(nodes, joined), sorted(contains))
