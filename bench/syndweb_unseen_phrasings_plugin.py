"""A syndweb plugin of credit phrasings syndtrace's reader was not written against (issue 12, written after it).

    python bench/syndweb_eval.py --seed 12 --stories 400 --extra bench/syndweb_unseen_phrasings_plugin.py

Credit lines worded without the usual "originally published / republished / source / via" words, and
lines in languages the reader has no cue words for (Finnish, Hungarian, Indonesian, Greek) beside
unusual wordings in languages it has some for (German, Spanish); some at the head of the body, some
excerpt notes that send the reader to the source. Plus one layout whose credit and byline sit in an
``<aside>`` after the body. Uses only the registry syndweb hands it; the truth is derived by syndweb.
"""

PHRASINGS = [
    # English, without the stock sourcing words
    ("grateful", "We are grateful to {name}, which ran this report first.", {}),
    ("partners-at", "Our partners at {name} reported this story; it appears here under a sharing agreement.", {}),
    ("by-for", "Story by {author} for {name}, used by arrangement.", {"weight": 0.7}),
    ("rights-held", "{name} holds the rights to this piece. Reproduced with consent.", {}),
    ("top-partner", "A report from our friends at {name}.", {"top": True}),
    # languages with no cue words in the reader
    ("fi", "Julkaistu alun perin sivustolla {name}.", {}),
    ("hu", "A cikk eredetileg a(z) {name} oldalán jelent meg.", {}),
    ("id", "Artikel ini pertama kali terbit di {name} dan dimuat ulang atas izin.", {}),
    ("el", "Το άρθρο δημοσιεύθηκε αρχικά στο {name}.", {}),
    # unusual wordings in languages it has some cue words for
    ("de-kollegen", "Dieser Beitrag stammt von unseren Kollegen bei {name}.", {}),
    ("es-difundio", "Este texto se difundió primero en {name}; lo reproducimos con autorización.", {"top": True}),
    # excerpt notes
    ("rest-over", "The rest of this story is over at {name}.", {"excerpt": True}),
    ("de-weiter", "Den vollständigen Text gibt es bei {name}.", {"excerpt": True}),
]


def register(reg):
    h = reg.html

    class AsideCredit(reg.Template):
        """Headline in a <div>, body paragraphs, then an <aside> holding byline, date and source line."""
        name = "asidecredit"

        def header(self, v):
            return f'<div class="mast"><a href="/">{reg.esc(v.site.name)}</a> — {reg.esc(v.site.tagline)}</div>'

        def sidebar(self, v):
            return ""

        def article(self, v):
            a = v.a
            return (f'<div class="story"><div class="story-title">{v.text(a.title)}</div>'
                    f'<div class="story-text">{h.blocks_html(v)}</div>'
                    f'<aside class="story-info">{h.byline_html(v)} {h.dateline_html(v)} {h.source_line_html(v)}</aside>'
                    f'{h.license_html(v)}{h.related_html(v, "Read next")}</div>')

        def footer(self, v):
            return f'<div class="end">{reg.esc(v.site.name)} · <a href="/about/">About</a></div>'

    reg.add_template("asidecredit", AsideCredit, count=2)
    for pid, text, options in PHRASINGS:
        reg.add_phrasing(pid, text, **options)
