"""No page crashes extraction: our own fixture pages with their metadata bent into odd shapes (lists where
strings are expected, objects, ``@graph`` nesting, numbers, malformed dates) and their markup cut or shuffled."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.page.extract import extract_page

PAGES = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html"))
URL = "https://news.example.com/2021/06/03/port-strike-ends"

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                         st.text(max_size=40), st.sampled_from(["2021-06-03T23:30:00Z", "2021-13-45", "yesterday",
                                                                "1622764800", "&amp;#8217;Quote&#039;", "By Ana Ruiz"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["name", "@type", "givenName", "@value", "url",
                                                                   "@list", "headline", "@graph"]), inner, max_size=4)),
    max_leaves=12)
ld_objects = st.fixed_dictionaries({}, optional={
    "@type": st.one_of(st.sampled_from(["NewsArticle", "BlogPosting", "WebPage"]), json_values),
    "headline": json_values, "author": json_values, "datePublished": json_values, "dateModified": json_values,
    "publisher": json_values, "creator": json_values,
})
ld_blocks = st.one_of(ld_objects, st.lists(ld_objects, max_size=3), st.builds(lambda x: {"@graph": x},
                                                                             st.lists(ld_objects, max_size=3)))
meta_names = st.sampled_from(["article:published_time", "author", "og:title", "og:site_name", "datePublished",
                              "dc.creator", "article:modified_time", "og:type", "twitter:label1", "twitter:data1"])


def mutate(html: str, ld, metas: list[tuple[str, str]], cut: float, drop: str) -> str:
    head = "".join(f'<meta name="{name}" content="{json.dumps(value)[1:-1]}">' for name, value in metas)
    head += f'<script type="application/ld+json">{json.dumps(ld, default=str)}</script>'
    html = html.replace("<head>", "<head>" + head, 1) if "<head>" in html else head + html
    if drop:
        html = html.replace(f"<{drop}", f"<x-{drop}").replace(f"</{drop}>", f"</x-{drop}>")
    return html[:max(1, int(len(html) * cut))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PAGES), ld_blocks, st.lists(st.tuples(meta_names, st.text(max_size=30)), max_size=4),
       st.sampled_from([1.0, 1.0, 0.9, 0.5, 0.2]), st.sampled_from(["", "p", "h1", "article", "time", "body"]))
def test_odd_metadata_and_markup_never_crash_extraction(path, ld, metas, cut, drop):
    page = extract_page(mutate(path.read_text(encoding="utf-8", errors="replace"), ld, metas, cut, drop), URL)
    assert page.title is None or isinstance(page.title, str)
    assert isinstance(page.authors, list) and all(isinstance(a, str) and a for a in page.authors)
    assert page.author == (", ".join(page.authors) or None)
    for value in (page.published, page.modified):
        assert value is None or datetime.fromisoformat(value)
