"""A syndweb plugin of copy kinds syndtrace was not built on (written after the code, session of 4 Dec 2026).

    python bench/syndweb_eval.py --seed 9 --stories 400 --extra bench/syndweb_unseen_kinds_plugin.py

Four ways of copying that the built-in web does not make:

- ``spun-uncredited``: a content farm's "spun" copy: about one word in eight swapped for a synonym, the
  headline rewritten, byline and credits dropped (shingles of five words change in many places);
- ``tail-excerpt``: the second half of the story, not its lead, under a note that sends readers to the source;
- ``reshuffled-credited``: a credited copy whose paragraphs were moved about (three moves), with the dek
  dropped and the credit at the top;
- ``relay-credited``: a copy of a copy that credits only the copy it took (the relay), never the origin.

It uses only the registry and the copy context syndweb hands it; the truth is derived by syndweb.
"""

SYNONYMS = {
    "said": "stated", "says": "states", "officials": "authorities", "residents": "locals", "report": "study",
    "new": "fresh", "people": "individuals", "warned": "cautioned", "plan": "scheme", "critics": "opponents",
    "city": "municipality", "government": "administration", "company": "firm", "workers": "employees",
    "help": "assist", "show": "reveal", "shows": "reveals", "big": "large", "large": "sizable",
    "million": "mn", "percent": "per cent", "year": "twelve months", "years": "yrs", "about": "roughly",
    "more": "additional", "many": "numerous", "also": "additionally", "after": "following", "before": "prior to",
    "week": "seven days", "state": "province", "local": "area", "public": "general public", "money": "funds",
    "asked": "questioned", "told": "informed", "called": "labelled", "group": "organisation",
    "must": "need to", "could": "might", "would": "will", "because": "since", "while": "whilst",
}


def _spun(text: str, rng) -> str:
    """About one word in eight a synonym (the spinner's dictionary)."""
    words = text.split(" ")
    return " ".join(SYNONYMS.get(w, w) if w in SYNONYMS and rng.random() < 0.8 else w for w in words)


def register(reg):
    def spun_uncredited(ctx):
        blocks = []
        for b in ctx.body():
            if b.kind in ("credit", "note", "sep"):
                continue
            blocks.append(b.with_text(_spun(b.text, ctx.rng)) if b.kind == "p" else b)
        return ctx.result(blocks=ctx.insert_spam(blocks, ctx.rng, 1), byline=None, dek=None,
                          title=ctx.rewrite_headline(ctx.parent.title, ctx.rng))

    def tail_excerpt(ctx):
        paras = [b for b in ctx.body() if b.kind == "p" and not b.added_by]
        half = paras[len(paras) // 2:] or paras
        credit, _ = ctx.credit(excerpt=True, link_to="url")
        return ctx.result(blocks=[credit] + half, dek=None, byline=ctx.origin.byline if ctx.rng.random() < 0.5 else None)

    def reshuffled_credited(ctx):
        blocks = [b for b in ctx.body() if b.kind != "credit"]
        for _ in range(3):
            blocks = ctx.move_paragraph(blocks, ctx.rng)
        credit, lic = ctx.credit()
        return ctx.result(blocks=[credit] + blocks, dek=None, license=lic)

    def relay_credited(ctx):
        blocks = [b for b in ctx.body() if b.kind != "credit"]
        credit, _ = ctx.credit(target=ctx.parent, link_to="url")
        return ctx.result(blocks=blocks + [credit], byline=ctx.parent.byline)

    reg.add_copy_kind("spun-uncredited", spun_uncredited, roles=("scraper", "aggregator"), weight=0.8)
    reg.add_copy_kind("tail-excerpt", tail_excerpt, roles=("aggregator", "mixed"), weight=0.6)
    reg.add_copy_kind("reshuffled-credited", reshuffled_credited, roles=("syndicator", "mixed"), weight=0.5)
    reg.add_copy_kind("relay-credited", relay_credited, roles=("syndicator", "mixed"), weight=0.5, from_copies=True)
