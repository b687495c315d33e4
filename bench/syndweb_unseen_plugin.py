"""A syndweb plugin of layouts and credit phrasings syndtrace was not built on (quality on unseen webs).

    python bench/syndweb_eval.py --seed 8 --stories 400 --extra bench/syndweb_unseen_plugin.py

A layout with the headline in a <section>, and the byline, date and source line in the article's own
<footer>; three attribution phrasings of its own. It uses only the registry syndweb hands it.
"""


def register(reg):
    h = reg.html

    class Ledger(reg.Template):
        name = "ledgerfoot"

        def header(self, v):
            return (f'<div class="top-strip"><a href="/">{reg.esc(v.site.name)}</a> | '
                    f'<a href="/about/">About</a> | <a href="/privacy/">Privacy</a></div>')

        def sidebar(self, v):
            return ""

        def article(self, v):
            a = v.a
            return (f'<section class="piece"><div class="kicker">Reports</div><h3 class="piece-head">{v.text(a.title)}</h3>'
                    f'<div class="piece-body">{h.blocks_html(v)}</div>'
                    f'<footer class="piece-foot">{h.byline_html(v)} {h.dateline_html(v)} {h.source_line_html(v)}</footer>'
                    f'{h.license_html(v)}{h.share_html(v, False)}{h.related_html(v, "Elsewhere on the site")}</section>')

        def footer(self, v):
            return f'<div class="foot">© {reg.esc(v.site.name)}</div>'

    reg.add_template("ledgerfoot", Ledger, count=3)
    reg.add_phrasing("courtesy", "This story appears courtesy of {name}.")
    reg.add_phrasing("produced-by", "This report was produced by {name} and is shared here with its consent.")
    reg.add_phrasing("ht", "H/T {name}, where this piece ran first.")
