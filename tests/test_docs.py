"""The docs site builds offline, has a page per notebook with its figures and no broken internal link,
and renders in a real browser (headless Chromium) without JavaScript errors."""
import functools, http.server, json, re, shutil, socket, subprocess, sys, tempfile, threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse, unquote
import pytest
from conftest import ROOT

# notebooks whose page must show at least one figure (the method notebooks' one plot, the landing page's example)
FIGURE_PAGES = ["index", "01_datasets", "03_similarity", "04_soft", "05_hard", "06_methods", "07_trainer", "10_viz",
                "studies/simulation_study"]

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "_docs"
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "docs.py"), "--offline", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return out

class _Links(HTMLParser):
    def __init__(self):
        super().__init__(); self.links, self.ids, self.imgs = [], set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a: self.ids.add(a["id"])
        if tag == "a" and a.get("href"): self.links.append(a["href"])
        if tag in ("link", "script") and (a.get("href") or a.get("src")): self.links.append(a.get("href") or a.get("src"))
        if tag == "img": self.imgs.append(a.get("src", ""))

def _parse(page):
    p = _Links(); p.feed(page.read_text()); return p

def test_every_notebook_has_a_page(site):
    nbs = [p.relative_to(ROOT / "nbs").with_suffix(".html") for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    missing = [str(p) for p in nbs if not (site / p).exists()]
    assert len(nbs) > 10 and not missing, f"no page for {missing}"

def test_studies_have_their_own_sidebar_section(site):
    "The study notebooks (nbs/studies/) are listed in a sidebar section of their own, apart from the library."
    import yaml
    side = yaml.safe_load((ROOT / "nbs" / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    secs = {s["section"]: s["contents"] for s in side}
    studies = sorted(p.relative_to(ROOT / "nbs").as_posix() for p in (ROOT / "nbs" / "studies").glob("*.ipynb"))
    assert studies and sorted(secs["Studies"]) == studies
    assert not any(n.startswith("studies/") for n in secs["Library"])

@pytest.mark.parametrize("name", FIGURE_PAGES)
def test_page_shows_its_figure(site, name):
    if not (ROOT / "nbs" / f"{name}.ipynb").exists(): pytest.skip(f"{name}.ipynb does not exist yet")
    imgs = _parse(site / f"{name}.html").imgs
    assert imgs, f"{name}.html shows no figure"
    for src in imgs:
        if src.startswith("data:image"): assert len(src) > 1000, f"{name}.html has an empty inline image"
        else: assert (site / src).stat().st_size > 1000, f"{name}.html: image {src} is empty"

def test_no_broken_internal_link(site):
    parsed = {p.relative_to(site).as_posix(): _parse(p) for p in site.rglob("*.html")}
    broken = []
    for name, p in parsed.items():
        for href in p.links:
            u = urlparse(href)
            if u.scheme or href.startswith("//"): continue          # external
            target = name if not u.path else (Path(name).parent / unquote(u.path)).as_posix()
            target = str(Path(__import__("os").path.normpath(target)))
            if not (site / target).exists(): broken.append(f"{name} -> {href}"); continue
            if u.fragment and target.endswith(".html") and u.fragment not in parsed[target].ids:
                broken.append(f"{name} -> {href} (no such anchor)")
    assert not broken, "broken links:\n" + "\n".join(broken[:30])

def test_maths_render_offline(site):
    page = (site / "index.html").read_text()
    assert "cdn.jsdelivr" not in page and (site / "site_libs/katex/katex.min.js").exists()

# ---- a real browser -------------------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--window-size=1280,1000", "--virtual-time-budget=5000"]

@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()

def _chromium(args, tmp):
    r = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp}", *args], capture_output=True, text=True, timeout=120)
    errors = [l for l in r.stderr.splitlines() if "CONSOLE" in l and re.search(r"Uncaught|Error", l)]
    return r, errors

@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium with apt-get)")
@pytest.mark.parametrize("page", ["index.html", "07_trainer.html"])
def test_page_renders_in_chromium(server, page, tmp_path):
    shot = ROOT / "_docs_screenshots" / page.replace(".html", ".png"); shot.parent.mkdir(exist_ok=True)
    r, errors = _chromium([f"--screenshot={shot}", f"{server}/{page}"], tmp_path / "a")
    assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {page}: {r.stderr[-2000:]}"
    assert not errors, f"JavaScript errors on {page}:\n" + "\n".join(errors)
    r, errors = _chromium(["--dump-dom", f"{server}/{page}"], tmp_path / "b")
    body = re.search(r"<body[^>]*>(.*)</body>", r.stdout, re.S)
    text = re.sub(r"<[^>]+>", " ", body[1]) if body else ""
    assert len(text.split()) > 100, f"{page} rendered an (almost) empty body"
    assert not errors, f"JavaScript errors on {page}:\n" + "\n".join(errors)
    if page == "index.html": assert 'class="katex' in r.stdout, "maths was not rendered by KaTeX"

def test_every_exported_symbol_has_a_doc_entry(site):
    "Every public function and class in `adaptive_mtl` has a `show_doc` entry (an anchor) on some page."
    from adaptive_mtl._modidx import d
    ids = set().union(*(_parse(p).ids for p in site.rglob("*.html")))
    public = [s for syms in d["syms"].values() for s in syms if s.count(".") == 2 and not s.rsplit(".", 1)[1].startswith("_")]
    missing = [s for s in public if s.rsplit(".", 1)[1].lower() not in ids]
    assert len(public) > 50 and not missing, f"no doc entry for {missing}"
