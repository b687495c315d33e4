"""The HTML report: escaping, the one-story report, the timeline and legend, and in headless Chromium a
2,000-story report's size, load time, search and filters."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import time

import pytest

from cli.present.html import render_html
from dedupe.trace.verdicts import COPY_VERDICTS, Verdict


def art(url, site, verdict, parent=None, published="2020-02-10T09:00:00+00:00", title="A story", **kw):
    return {"url": url, "story": kw.pop("story", "st-1"), "is_origin": verdict == "origin", "parent": parent,
            "published": published, "author": "Jake Johnson", "title": title, "site": site,
            "attribution": {"credits_origin": verdict != "uncredited", "links_to_origin": True, "author_kept": True,
                            "license": None, "verdict": verdict},
            "reasons": kw.pop("reasons", []), "copyright": kw.pop("copyright", None),
            "license_conflicts": kw.pop("conflicts", []), "gone_since": kw.pop("gone_since", None), **kw}


EXPORT = {"articles": [
    art("http://cd.example/a", "cd.example", "origin", published="2020-02-07T12:51:00-05:00",
        title="Bombshell <script>alert(1)</script>"),
    art("http://gr.example/b", "gr.example", "credited", "http://cd.example/a",
        copyright="Copyright © Jake Johnson, Common Dreams, 2020", reasons=["names <b>Common Dreams</b>"]),
    art("http://wad.example/c", "wad.example", "partial", "http://gr.example/b", published="2020-02-12T10:00:00+00:00"),
    art("http://early.example/e", "early.example", "uncredited", "http://cd.example/a",
        published="2020-02-07T14:51:00+00:00"),
    art("javascript:alert(2)", "evil.example", "uncredited", "http://cd.example/a", published=None,
        conflicts=["CC BY-ND requires attribution"], gone_since=3),
    art("http://gr.example/b2", "gr.example", "misattributed", "http://cd.example/a"),
    art("http://solo.example/d", "solo.example", "origin", story="st-2"),
    {"url": "http://cd.example/tag/x", "story": None},
]}


def test_report_escapes_scraped_text_and_loads_nothing():
    html = render_html(EXPORT)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Common Dreams</b>" not in html and "&lt;b&gt;Common Dreams&lt;/b&gt;" in html
    assert 'href="javascript:' not in html
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert html.count('class="lineage"') == 1 and html.count('class="timeline"') == 1   # one story with copies
    assert "Copyright © Jake Johnson, Common Dreams, 2020" in html


def test_timeline_lag_from_the_origin_undated_pages_named_and_legend():
    html = render_html(EXPORT)
    assert "early.example -3 h" in html            # 14:51 UTC is three hours before 12:51 -05:00
    assert "wad.example +4.7 d" in html and ">cd.example origin<" in html
    assert "Not on the timeline (no date): evil.example" in html
    assert "gr.example (1)" in html and "gr.example (2)" in html       # two pages of one site, told apart
    assert "gone since run 3" in html
    for verdict in Verdict:
        assert verdict.meaning in html.replace("&#x27;", "'")


def test_one_story_report_is_that_story_opened_without_filters():
    html = render_html(EXPORT, story="st-1")
    assert html.count("<details") == 1 and "<details class=\"story\" id=\"st-1\" open" in html
    assert "<script>" not in html and 'id="q"' not in html
    assert "<title>syndtrace: Bombshell &lt;script&gt;" in html
    assert "solo.example" not in html


def big_export(stories: int = 2000, seed: int = 7) -> dict:
    """An export object shaped like a crawl's: 2–6 pages a story over 60 sites, some undated, a few gone."""
    rnd = random.Random(seed)
    sites = [f"news{i:02d}.example" for i in range(60)]
    arts = []
    for s in range(stories):
        sid = f"st-{s:010x}"
        origin = f"http://{rnd.choice(sites)}/2020/{s}/council-budget-vote-and-the-transit-line-{s}"
        for k in range(rnd.randint(2, 6)):
            site = origin.split("/")[2] if k == 0 else rnd.choice(sites)
            url = origin if k == 0 else f"http://{site}/{s}/copy-{k}-of-the-council-budget-vote"
            verdict = "origin" if k == 0 else rnd.choice([v.value for v in COPY_VERDICTS])
            day = None if rnd.random() < 0.08 else f"2020-{1 + s % 12:02d}-{1 + k:02d}T{rnd.randint(0, 23):02d}:00:00Z"
            arts.append(art(url, site, verdict, None if k == 0 else origin, day, story=sid,
                            title=f"Council budget vote {s}: what the transit line means for schools",
                            reasons=["names or links the origin", "links the original", "keeps the byline"][:k % 3 + 1],
                            gone_since=2 if rnd.random() < 0.02 else None))
    return {"articles": arts}


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = ("<script>addEventListener('load',function(){setTimeout(function(){var n=performance.getEntriesByType("
         "'navigation')[0];document.body.setAttribute('data-load-ms',Math.round(n.loadEventStart));"
         "document.body.setAttribute('data-shown',document.querySelectorAll('details.story:not([hidden])').length);"
         "document.body.setAttribute('data-open',document.querySelectorAll('details.story[open]').length)},0)});"
         "</script></body>")


def chromium(tmp_path, url: str, *extra: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([CHROMIUM, *flags, *extra, url], capture_output=True, text=True, timeout=240, check=False)


def probe(tmp_path, html: str, name: str) -> str:
    page = tmp_path / name
    page.write_text(html.replace("</body>", PROBE), encoding="utf-8")
    return page.as_uri()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(EXPORT), encoding="utf-8")
    dom = chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert 'class="lineage"' in dom.stdout and 'class="timeline"' in dom.stdout and 'data-ready="1"' in dom.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout
    assert not re.search(r"Uncaught|CONSOLE\(\d+\).*error", dom.stderr, re.I)
    shot = tmp_path / "shot.png"
    chromium(tmp_path, page.as_uri(), f"--screenshot={shot}", "--window-size=1280,1100")
    assert shot.exists() and os.path.getsize(shot) > 20_000


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_a_2000_story_report_is_small_loads_quickly_and_filters(tmp_path):
    obj = big_export()
    started = time.perf_counter()
    html = render_html(obj)
    render_seconds = time.perf_counter() - started
    stories = {a["story"] for a in obj["articles"]}
    assert html.count("<details") == len(stories) == 2000
    size_mb = len(html.encode()) / 1e6
    small = render_html(big_export(stories=20))
    baseline = chromium(tmp_path, probe(tmp_path, small, "small.html"), "--dump-dom", "--virtual-time-budget=5000")
    loaded = chromium(tmp_path, probe(tmp_path, html, "big.html"), "--dump-dom", "--virtual-time-budget=5000")
    load_ms = int(re.search(r'data-load-ms="(\d+)"', loaded.stdout).group(1))
    small_ms = int(re.search(r'data-load-ms="(\d+)"', baseline.stdout).group(1))
    print(f"2,000 stories ({len(obj['articles'])} pages): {size_mb:.1f} MB written in {render_seconds:.1f} s; "
          f"load {load_ms} ms in headless Chromium against {small_ms} ms for 20 stories "
          f"({load_ms / max(small_ms, 1):.1f}x); load average {os.getloadavg()[0]:.1f}")
    assert size_mb < 8 and load_ms < 15_000
    assert 'data-shown="2000"' in loaded.stdout and 'data-open="0"' in loaded.stdout   # all listed, all collapsed
    site, verdict = "news07.example", "misattributed"
    expected = sum(1 for sid in stories
                   if any(a["story"] == sid and not a["is_origin"] and a["attribution"]["verdict"] == verdict
                          for a in obj["articles"])
                   and any(a["story"] == sid and a["site"] == site for a in obj["articles"]))
    filtered = chromium(tmp_path, probe(tmp_path, html, "big.html") + f"#verdict={verdict}&site={site}", "--dump-dom",
                        "--virtual-time-budget=5000")
    assert f'data-shown="{expected}"' in filtered.stdout and 0 < expected < 2000
    opened = chromium(tmp_path, probe(tmp_path, html, "big.html") + "#st-00000004d2", "--dump-dom",
                      "--virtual-time-budget=5000")
    assert 'data-open="1"' in opened.stdout and re.search(r'<details class="story" id="st-00000004d2"[^>]* open', opened.stdout)
