"""Build the docs site. With Quarto on PATH: nbdev_docs (the real thing). Without it: the same _quarto.yml site,
offline — nbdev's notebook processing (show_doc, cell flags) + the pure-Python `smalldocs` renderer — into _docs/.
Never calls nbdev_docs/nbdev_preview without Quarto (nbdev 2.4.14 then runs a pip install).

    python tools/docs.py [--offline] [--out DIR] [--preview [--port 4200]]
"""
import argparse, json, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"

def section(nb: str) -> str:
    "Sidebar section of a notebook (a path relative to nbs/): the landing page, the library, or a study in studies/."
    if nb == "index.ipynb": return "Get started"
    return "Studies" if nb.startswith("studies/") else "Library"

def notebooks() -> list:
    "Every notebook under nbs/ (studies/ included) as a path relative to nbs/, landing page first."
    nbs = sorted(p.relative_to(NBS).as_posix() for p in NBS.rglob("*.ipynb") if not p.name.startswith("_") and ".ipynb_checkpoints" not in p.parts)
    return ["index.ipynb"] + [n for n in nbs if n != "index.ipynb"]

def write_sidebar() -> Path:
    "nbs/sidebar.yml from the notebooks present: Get started; Library; Studies (nbs/studies/)."
    nbs = notebooks()
    lines = ["website:", "  sidebar:", "    contents:"]
    for sec in ("Get started", "Library", "Studies"):
        items = [n for n in nbs if section(n) == sec]
        if items: lines += [f"      - section: {sec}", "        contents:"] + [f"          - {n}" for n in items]
    path = NBS / "sidebar.yml"; path.write_text("\n".join(lines) + "\n")
    return path

def _local_links(site: Path, cache: Path):
    "nbdev links symbols to the published site (doc_host/baseurl/trainer.html#fit); point them at the local pages."
    from nbdev.config import get_config
    cfg = get_config(); host = f"{cfg.doc_host.rstrip('/')}{cfg.doc_baseurl.rstrip('/')}/"
    pages = {}                                       # quarto's page name (output-file) -> smalldocs' page name
    for nb in cache.rglob("*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        m = re.search(r"^output-file:\s*(\S+)", "".join(cells[0]["source"]), re.M) if cells else None
        rel = nb.relative_to(cache)                  # a page's address is its folder + output-file (studies/similarity.html)
        if m: pages[(rel.parent / m[1]).as_posix()] = rel.with_suffix(".html").as_posix()
    pat = re.compile(re.escape(host) + r"([\w.-]+\.html)")
    for page in site.rglob("*.html"):
        text = page.read_text(); up = "../" * (len(page.relative_to(site).parts) - 1)
        new = pat.sub(lambda m: up + pages[m[1]] if m[1] in pages else m[0], text)
        if up: new = new.replace('"site_libs/katex/', f'"{up}site_libs/katex/')   # KaTeX is set site-relative, pages in studies/ sit lower
        if new != text: page.write_text(new)

def build_offline(out: Path) -> Path:
    "Process the notebooks as nbdev_docs does, render them with smalldocs, and put the site in `out`."
    from nbdev.quarto import proc_nbs
    import smalldocs.cli, smalldocs.layout
    write_sidebar()
    cache = proc_nbs(NBS, n_workers=0)
    smalldocs.layout.KATEX = "site_libs/katex"       # KaTeX from the site itself, not a CDN: maths render offline
    try: smalldocs.cli.main(["render", str(cache), "--quiet"])
    except SystemExit as e:
        if e.code: sys.exit(f"smalldocs render failed (exit {e.code})")
    site = cache / "_docs"
    shutil.copytree(ROOT / "tools" / "katex", site / "site_libs" / "katex", dirs_exist_ok=True)
    _local_links(site, cache)
    shutil.rmtree(out, ignore_errors=True); shutil.move(str(site), str(out))
    return out

def main():
    ap = argparse.ArgumentParser(description="Build the adaptive_mtl docs site.")
    ap.add_argument("--offline", action="store_true", help="use the offline build even when Quarto is installed")
    ap.add_argument("--out", default=str(ROOT / "_docs"), help="output folder (offline build; default _docs/)")
    ap.add_argument("--preview", action="store_true", help="serve the built site on localhost")
    ap.add_argument("--port", type=int, default=4200)
    a = ap.parse_args()
    os.chdir(ROOT)
    if shutil.which("quarto") and not a.offline:
        write_sidebar()
        subprocess.run([str(Path(sys.executable).parent / "nbdev_docs")], check=True); out = ROOT / "_docs"
    else:
        out = build_offline(Path(a.out))
    print(f"site built in {out} ({len(list(out.rglob('*.html')))} pages)")
    if a.preview:
        print(f"serving on http://127.0.0.1:{a.port}/ (Ctrl-C to stop)")
        subprocess.run([sys.executable, "-m", "http.server", str(a.port), "--bind", "127.0.0.1", "--directory", str(out)])

if __name__ == "__main__": main()
