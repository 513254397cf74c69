"""README.md is rendered from nbs/index.ipynb (nbdev_readme needs Quarto, so we render it ourselves).
Regenerate with `python tests/test_readme.py --write` (or `make readme`)."""
import base64, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render_readme():
    "Markdown of index.ipynb: markdown cells, code cells, their text outputs and figures (figures returned as bytes)."
    nb = json.loads((ROOT / "nbs" / "index.ipynb").read_text())
    out, figs = ["<!-- generated from nbs/index.ipynb by tests/test_readme.py: edit the notebook, not this file -->\n"], {}
    for c in nb["cells"]:
        src = "".join(c["source"])
        if c["cell_type"] == "markdown":                 # links to notebooks are relative to nbs/, the README sits a level up
            out.append(re.sub(r"\]\((?![a-z]+:)([\w/.-]+\.ipynb)\)", r"](nbs/\1)", src) + "\n"); continue
        if src.lstrip().startswith("#|"): continue
        out.append(f"```python\n{src}\n```\n")
        for o in c.get("outputs", []):
            d = o.get("data", {})
            if "image/png" in d:
                name = f"README_files/fig-{len(figs) + 1}.png"
                figs[name] = base64.b64decode(d["image/png"]); out.append(f"![]({name})\n")
            elif "text/markdown" in d: out.append("".join(d["text/markdown"]) + "\n")
            elif "text/plain" in d: out.append("```\n" + "".join(d["text/plain"]).rstrip() + "\n```\n")
            elif o.get("name") == "stdout": out.append("```\n" + "".join(o["text"]).rstrip() + "\n```\n")
    return "\n".join(out), figs

def test_readme_in_sync_with_index():
    text, figs = render_readme()
    assert (ROOT / "README.md").read_text() == text, "README.md is out of date: run `python tests/test_readme.py --write`"
    for name, data in figs.items(): assert (ROOT / name).read_bytes() == data, f"{name} is out of date"

def test_readme_names_one_install_and_one_test_command():
    text = (ROOT / "README.md").read_text()
    assert text.count("pip install torch==2.13.0 -e '.[dev]'") == 1
    assert "python -m pytest tests" in text and "make run" in text and "make test" in text

def test_readme_links_to_notebooks_resolve():
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([\w/.-]+\.ipynb)\)", text)
    assert links and all((ROOT / l).exists() for l in links), links

if __name__ == "__main__" and "--write" in sys.argv:
    text, figs = render_readme()
    (ROOT / "README.md").write_text(text)
    for name, data in figs.items(): (ROOT / name).parent.mkdir(exist_ok=True); (ROOT / name).write_bytes(data)
    print(f"wrote README.md and {len(figs)} figure(s)")
