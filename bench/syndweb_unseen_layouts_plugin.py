"""A syndweb plugin of page layouts syndtrace's reader was not written against (issue 12, written after it).

    python bench/syndweb_eval.py --seed 11 --stories 400 --extra bench/syndweb_unseen_layouts_plugin.py

Three outlets of its own, each with a layout the built-in ones do not have, and no date or author in the
page's metadata (``meta_style="visible"``), so everything is read from what the page shows:

- ``brwall`` (Morgenkurier, German furniture, ``lang="de"``): the whole body is one ``<div>`` of text lines
  separated by ``<br><br>``, no ``<p>`` anywhere; the byline ("Von …") and the date, written in German words
  ("am 5. März 2021 um 14:03 Uhr"), sit in a sidebar box beside the article;
- ``divstack`` (Harbour Light): each paragraph a bare ``<div class="para">``; the byline ("Words: …") and an
  ordinal date ("Filed on the 3rd of March, 2021") only in the article's footer, after the body;
- ``tablecells`` (El Valle Diario, Spanish furniture, ``lang="es"``): the body in a table cell, paragraphs
  separated by ``<br><br>``; the byline in a table row ("Redacción: …") and the date in Spanish words
  ("3 de marzo de 2021") in another row below the body.

A republisher's line about the source's date is worded in the layout's language. Uses only the registry
syndweb hands it.
"""

DE_MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember"]
ES_MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
             "noviembre", "diciembre"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]


def ordinal(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def german_date(dt) -> str:
    return f"{dt.day}. {DE_MONTHS[dt.month - 1]} {dt.year} um {dt.hour:02d}:{dt.minute:02d} Uhr"


def spanish_date(dt) -> str:
    return f"{dt.day} de {ES_MONTHS[dt.month - 1]} de {dt.year}"


def english_ordinal_date(dt) -> str:
    return f"the {ordinal(dt.day)} of {EN_MONTHS[dt.month - 1]}, {dt.year}"


class _Kit:
    """What every layout here shares: the registry's HTML helpers and how a body, a date and a source line show."""

    def __init__(self, reg):
        self.reg = reg
        self.h = reg.html

    def lines(self, v, sep="<br><br>\n"):
        """The body as text lines without any <p>: tweets and figures keep their own markup."""
        out = []
        for b in v.a.blocks:
            if b.kind in ("tweet", "figure"):
                out.append(self.h.render_block(v, b))
            elif b.kind == "sep":
                out.append("* * *")
            elif b.kind == "h2":
                out.append(f"<b>{v.text(b.text)}</b>")
            else:
                out.append(v.text(b.text))
        return sep.join(out)

    @staticmethod
    def shows_date(v) -> bool:
        return v.site.meta_style != "none"

    def source_line(self, v, fmt):
        a = v.a
        if not a.source_line or not self.shows_date(v):
            return ""
        host, dt = a.source_line
        return fmt(v.sites[host].name, dt)


def _lang_template(reg):
    class Lang(reg.Template):
        lang = "en"

        def render(self, v):
            return super().render(v).replace('<html lang="en">', f'<html lang="{self.lang}">', 1)

    return Lang


def _brwall(base, kit):
    reg, h = kit.reg, kit.h

    class BrWall(base):
        """German furniture, the body as one <br>-separated wall of text, byline and date in a side box."""
        name = "brwall"
        lang = "de"

        def header(self, v):
            return (f'<div class="kopf"><a href="/">{reg.esc(v.site.name)}</a> &middot; '
                    f'<a href="/about/">Über uns</a> &middot; <a href="/privacy/">Datenschutz</a></div>')

        def sidebar(self, v):
            return ""

        def article(self, v):
            a = v.a
            box = ""
            if a.byline:
                box += f'<div class="wer">Von {reg.esc(a.byline)}</div>'
            if kit.shows_date(v):
                box += f'<div class="wann">am {german_date(a.published)}</div>'
            src = kit.source_line(v, lambda name, dt: f'<div class="quelle-datum">Zuerst erschienen bei '
                                                      f'{reg.esc(name)} am {german_date(dt)}</div>')
            return (f'<div class="seite"><div class="spalte"><h1>{v.text(a.title)}</h1>'
                    f'<div class="fliesstext">{kit.lines(v)}</div>{h.license_html(v)}</div>'
                    f'<div class="infokasten">{box}{src}</div>'
                    f'{h.share_html(v, True)}{h.related_html(v, "Mehr zum Thema")}</div>')

        def footer(self, v):
            return f'<div class="fuss">&copy; {reg.esc(v.site.name)} &middot; <a href="/about/">Impressum</a></div>'

    return BrWall


def _divstack(base, kit):
    reg, h = kit.reg, kit.h

    class DivStack(base):
        """Each paragraph a bare <div>; byline and an ordinal date only in the article's footer."""
        name = "divstack"

        def article(self, v):
            a = v.a
            paras = "\n".join(
                h.render_block(v, b) if b.kind in ("tweet", "figure") else f'<div class="para">{v.text(b.text)}</div>'
                for b in a.blocks)
            foot = ""
            if a.byline:
                foot += f'<div class="words">Words: {reg.esc(a.byline)}</div>'
            if kit.shows_date(v):
                foot += f'<div class="filed">Filed on {english_ordinal_date(a.published)}</div>'
            foot += kit.source_line(v, lambda name, dt: f'<div class="earlier">{reg.esc(name)} ran this story on '
                                                        f'{english_ordinal_date(dt)}.</div>')
            return (f'<main class="stack"><article><div class="headline-row"><h2 class="hed">{v.text(a.title)}</h2>'
                    f'</div><div class="stack-body">{paras}</div><footer class="story-foot">{foot}</footer>'
                    f'{h.license_html(v)}</article>{h.related_html(v, "From the archive")}{h.comments_html(v)}</main>')

    return DivStack


def _tablecells(base, kit):
    reg, h = kit.reg, kit.h

    class TableCells(base):
        """Spanish furniture; the body in one table cell with <br> breaks, byline and date in table rows."""
        name = "tablecells"
        lang = "es"

        def header(self, v):
            return (f'<table class="cabecera" width="100%"><tr><td><a href="/">{reg.esc(v.site.name)}</a></td>'
                    f'<td><a href="/about/">Quiénes somos</a></td></tr></table>')

        def sidebar(self, v):
            return ""

        def article(self, v):
            a = v.a
            rows = f'<tr><td class="titular" colspan="2"><font size="5">{v.text(a.title)}</font></td></tr>'
            if a.byline:
                rows += f'<tr><td class="k">Redacción:</td><td>{reg.esc(a.byline)}</td></tr>'
            body = kit.lines(v, "<br>\n<br>\n")
            rows += f'<tr><td colspan="2" class="cuerpo">{body}</td></tr>'
            if kit.shows_date(v):
                rows += f'<tr><td class="k">Fecha:</td><td>{spanish_date(a.published)}</td></tr>'
            src = kit.source_line(v, lambda name, dt: f'Publicado primero por {reg.esc(name)} el {spanish_date(dt)}.')
            if src:
                rows += f'<tr><td colspan="2" class="origen">{src}</td></tr>'
            return (f'<table class="nota" width="100%" cellpadding="4">{rows}</table>{h.license_html(v)}'
                    f'{h.related_html(v, "Otras noticias")}')

        def footer(self, v):
            return f'<table class="pie"><tr><td>&copy; {reg.esc(v.site.name)}</td></tr></table>'

    return TableCells


def register(reg):
    kit = _Kit(reg)
    base = _lang_template(reg)
    reg.add_template("brwall", _brwall(base, kit), hosts=["morgenkurier.test"])
    reg.add_template("divstack", _divstack(base, kit), hosts=["harbourlight.test"])
    reg.add_template("tablecells", _tablecells(base, kit), hosts=["elvallediario.test"])
    reg.add_site(host="morgenkurier.test", name="Morgenkurier", template="brwall", role="mixed",
                 tagline="Nachrichten am Morgen", meta_style="visible", byline_style="by", tz_minutes=60,
                 url_style="dated", sections=["politik", "wirtschaft"], origin_weight=1.2, copy_weight=0.8,
                 kinds={"syndicated-credited": 0.7, "excerpt-with-link": 0.3})
    reg.add_site(host="harbourlight.test", name="Harbour Light", template="divstack", role="mixed",
                 tagline="Light on the harbour", meta_style="visible", byline_style="by", tz_minutes=0,
                 url_style="p", sections=["harbour", "city"], origin_weight=1.2, copy_weight=0.8,
                 kinds={"syndicated-credited": 0.8, "scraped-uncredited": 0.2}, shows_source_date=True)
    reg.add_site(host="elvallediario.test", name="El Valle Diario", template="tablecells", role="mixed",
                 tagline="Noticias del valle", meta_style="visible", byline_style="by", tz_minutes=-360,
                 url_style="numeric", sections=["noticias", "region"], origin_weight=1.2, copy_weight=0.8,
                 kinds={"syndicated-credited": 1.0})
