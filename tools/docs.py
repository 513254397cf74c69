"""Build the docs site. With Quarto on PATH: nbdev_docs (the real thing). Without it: the same _quarto.yml site,
offline — nbdev's notebook processing (show_doc, cell flags) + the pure-Python `smalldocs` renderer — into _docs/.
Never calls nbdev_docs/nbdev_preview without Quarto (nbdev 2.4.14 then runs a pip install).

    python tools/docs.py [--offline] [--force] [--out DIR] [--preview [--port 4200]]
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

# What smalldocs says about every nbdev site, and why it does not matter here. Any other warning is printed.
EXPECTED = [
    # _quarto.yml asks Quarto for KaTeX; smalldocs always renders maths with KaTeX (here the copy in tools/katex)
    re.compile(r"format\.html\.html-math-method is ignored"),
    # nbdev names Quarto's pages (04_soft.ipynb -> soft.html); smalldocs names them after the notebook, and
    # _local_links points nbdev's links at those names
    re.compile(r"[\w./-]+\.ipynb: output-file is not read by smalldocs"),
]

def unexpected(warnings) -> list:
    "The smalldocs warnings a reader should see: all but the EXPECTED ones."
    return [w for w in warnings if not any(p.fullmatch(w) for p in EXPECTED)]

def mixed_import_cells(nb: Path) -> list:
    """The code cells of notebook `nb` that mix imports with other code, by nbdev's own rule: [(cell index, its import
    lines)]. nbdev's docs processing runs every cell that imports something, the whole cell (a fit, a download, ...),
    and warns with the cell's source; a cell of imports alone is cheap and silent."""
    import warnings
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval
    out = []
    for cell in NBProcessor(nb).nb.cells:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always"); _do_eval(cell)
        if any("imports and other code" in str(w.message) for w in caught):
            out.append((cell.idx_, [l.strip() for l in cell.source.splitlines() if re.match(r"\s*(import|from)\s", l)]))
    return out

def _process(force=False) -> Path:
    """nbdev's processing of the notebooks (show_doc, cell flags) into its cache, nbs/../_proc. nbdev's warning about a
    cell that mixes imports with other code (a traceback-like dump of the cell) becomes one line naming notebook and
    cell, for every such cell, whether or not the cache had to process its notebook this time."""
    import warnings
    from nbdev.config import get_config
    from nbdev.quarto import proc_nbs
    cfg = get_config(); cache, index = cfg.config_path / "_proc", cfg.lib_path / "_modidx.py"
    # nbdev reprocesses only the notebooks changed since the cache was made, but every page links symbols through the
    # module index: when a symbol moves (FitResult to 07_fitted), unchanged pages would keep links to its old page
    if cache.exists() and index.exists() and index.stat().st_mtime > cache.stat().st_mtime: force = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", category=UserWarning)     # others as Python shows them (no DeprecationWarning)
        try: cache = proc_nbs(NBS, n_workers=0, force=force)
        except Exception as e:                   # a cell the processing runs failed: say which, and why, in two lines
            cause = e.__cause__ or e.__context__
            first = str(e).split(":\n")[0]
            sys.exit(f"error: nbdev could not process the notebooks. {first}: "
                     f"{type(cause).__name__ + ': ' + str(cause) if cause else ''}\n{str(e).partition(chr(10))[2]}"
                     + "".join(f"\nnote: {nb} cell {i} mixes imports with other code, so the docs build runs all of it; "
                               f"move {'; '.join(imp)} to the notebook's import cell"
                               for nb in notebooks() for i, imp in mixed_import_cells(NBS / nb)))
    seen = set()
    for w in caught:
        msg = f"{w.category.__name__}: {w.message}"
        if "imports and other code" in msg or msg in seen: continue
        seen.add(msg); print(f"warning: {msg}", file=sys.stderr)
    for nb in notebooks():
        for idx, imports in mixed_import_cells(NBS / nb):
            print(f"warning: {nb} cell {idx} mixes imports with other code, so the docs build runs all of it; "
                  f"move {'; '.join(imports)} to the notebook's import cell", file=sys.stderr)
    return cache

def build_offline(out: Path, force=False) -> Path:
    "Process the notebooks as nbdev_docs does, render them with smalldocs, and put the site in `out`."
    import smalldocs.layout, smalldocs.site
    from smalldocs.config import BuildError, ConfigError
    write_sidebar()
    cache = _process(force)
    smalldocs.layout.KATEX = "site_libs/katex"       # KaTeX from the site itself, not a CDN: maths render offline
    try: built = smalldocs.site.build(cache, quiet=True)
    except (BuildError, ConfigError) as e: sys.exit(f"smalldocs could not render the site: {e}")
    for w in unexpected(built.warnings): print(f"warning: {w}", file=sys.stderr)
    site = cache / "_docs"
    shutil.copytree(ROOT / "tools" / "katex", site / "site_libs" / "katex", dirs_exist_ok=True)
    _local_links(site, cache)
    shutil.rmtree(out, ignore_errors=True); shutil.move(str(site), str(out))
    return out

def main():
    ap = argparse.ArgumentParser(description="Build the adaptive_mtl docs site.")
    ap.add_argument("--offline", action="store_true", help="use the offline build even when Quarto is installed")
    ap.add_argument("--out", default=str(ROOT / "_docs"), help="output folder (offline build; default _docs/)")
    ap.add_argument("--force", action="store_true", help="offline build: process every notebook again, not only the changed ones")
    ap.add_argument("--preview", action="store_true", help="serve the built site on localhost")
    ap.add_argument("--port", type=int, default=4200)
    a = ap.parse_args()
    os.chdir(ROOT)
    if shutil.which("quarto") and not a.offline:
        write_sidebar()
        subprocess.run([str(Path(sys.executable).parent / "nbdev_docs")], check=True); out = ROOT / "_docs"
    else:
        out = build_offline(Path(a.out), force=a.force)
    print(f"site built in {out} ({len(list(out.rglob('*.html')))} pages)")
    if a.preview:
        print(f"serving on http://127.0.0.1:{a.port}/ (Ctrl-C to stop)")
        subprocess.run([sys.executable, "-m", "http.server", str(a.port), "--bind", "127.0.0.1", "--directory", str(out)])

if __name__ == "__main__": main()
