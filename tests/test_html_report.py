import os
import re
import shutil
import subprocess

import pytest

from cli.present.html import render_html


def art(url, site, verdict, parent=None, published="2020-02-10T09:00:00+00:00", title="A story", **kw):
    return {"url": url, "story": kw.pop("story", "st-1"), "is_origin": verdict == "origin", "parent": parent,
            "published": published, "author": "Jake Johnson", "title": title, "site": site,
            "attribution": {"credits_origin": verdict != "uncredited", "links_to_origin": True, "author_kept": True,
                            "license": None, "verdict": verdict},
            "reasons": kw.pop("reasons", []), "copyright": kw.pop("copyright", None),
            "licence_conflicts": kw.pop("conflicts", []), **kw}


EXPORT = {"articles": [
    art("http://cd.example/a", "cd.example", "origin", published="2020-02-07T12:51:00-05:00",
        title="Bombshell <script>alert(1)</script>"),
    art("http://gr.example/b", "gr.example", "credited", "http://cd.example/a",
        copyright="Copyright © Jake Johnson, Common Dreams, 2020", reasons=["names <b>Common Dreams</b>"]),
    art("http://wad.example/c", "wad.example", "partial", "http://gr.example/b", published="2020-02-12T10:00:00+00:00"),
    art("javascript:alert(2)", "evil.example", "uncredited", "http://cd.example/a", published=None,
        conflicts=["CC BY-ND requires attribution"]),
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


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(EXPORT), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=False)
    assert 'class="lineage"' in dom.stdout and 'class="timeline"' in dom.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout
    assert not re.search(r"Uncaught|CONSOLE\(\d+\).*error", dom.stderr, re.I)
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1280,1100", page.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert shot.exists() and os.path.getsize(shot) > 20_000
