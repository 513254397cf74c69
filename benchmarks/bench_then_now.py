"""The package as it was at a git revision ('then') against the package here ('now'), timed side by side in one run.

The performance issue's figures (AHPS / HPS per step, `fit` against a plain loop) were measured on a machine whose speed
drifts from day to day. This script takes the package's source at `--rev` (by default 8b0b727, the commit the issue
was filed against) out of git into a temporary folder under another name, and times both versions on one thread:
  1) inside `fit`: milliseconds per training step of HPS and AHPS (mixed scenario, 200 rows per task, batch 32,
     20 epochs, no validation; the measure of bench_hard.py part 3), and their ratio, for each version;
  2) `fit` with STL against bench_fit.py's plain PyTorch loop over K networks (200 rows per task in one batch,
     validation every epoch, 60 epochs), for each version.
Every timing is one call in a fresh process that runs one version only, after one warm-up call (a process shares
malloc's state: the 'now' package's heap setting would otherwise spare the 'then' package its page faults).
The calls run in a fresh random order in every repeat; the table shows medians. Run it from a git clone (`git archive`).
Usage: python benchmarks/bench_then_now.py [--rev 8b0b727] [--ks 8,32] [--fit-ks 8,32] [--reps 5] [--threads 1]"""
import argparse, importlib, io, pathlib, random, shutil, statistics, subprocess, sys, tarfile, tempfile, time

HERE = pathlib.Path(__file__).resolve().parent

def extract(rev: str, name: str = "amtl_then") -> pathlib.Path:
    "A folder holding the package as it was at git revision `rev`, renamed `name` (its own imports too)."
    tar = subprocess.run(["git", "-C", str(HERE.parent), "archive", rev, "adaptive_mtl"], capture_output=True, check=True).stdout
    root = pathlib.Path(tempfile.mkdtemp())
    with tarfile.open(fileobj=io.BytesIO(tar)) as t: t.extractall(root, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    (root / "adaptive_mtl").rename(root / name)
    for f in (root / name).rglob("*.py"): f.write_text(f.read_text().replace("adaptive_mtl", name))
    return root

def child(version: str, what: str, K: int, then_root: str, threads: int) -> float:
    "Seconds of one call of `what` ('hps', 'ahps': per training step; 'stl', 'loop': the whole fit) with `version` ('then' or 'now'), after a warm-up call."
    import torch
    torch.set_num_threads(threads)
    sys.path.insert(0, str(HERE))
    from bench_fit import make_data, plain_loop, stl_fit              # the same data, loop and fit as bench_fit.py
    from bench_hard import per_step                                   # the same measure as bench_hard.py part 3
    name = "adaptive_mtl" if version == "now" else "amtl_then"
    if version == "then": sys.path.insert(0, then_root)
    trainer, datasets, data = (importlib.import_module(f"{name}.{m}") for m in ("trainer", "datasets", "data"))
    if what in ("hps", "ahps"):
        d = datasets.make_simulation("mixed", n_tasks=K, n_train=200, seed=0)
        per_step(trainer.fit, what, d.train, 32); return per_step(trainer.fit, what, d.train, 32)
    tr, va = make_data(K, 200, 10, 0), make_data(K, 50, 10, 1)
    tr, va = (data.MultiTaskData.from_groups(s.X, s.y, s.task) for s in (tr, va))   # each version's fit takes only its own
    run = (lambda: plain_loop(tr, va, (32, 32), 60, 3e-3, 0)) if what == "loop" else (lambda: stl_fit(trainer.fit, tr, va, (32, 32), 60, 200))
    run(); t = time.perf_counter(); run()
    return time.perf_counter() - t

def medians(keys: list, K: int, a, then_root: pathlib.Path) -> dict:
    "Median seconds of each `(version, what)` in `keys` over `a.reps` repeats, each call in its own process, in a fresh order every repeat."
    times = {k: [] for k in keys}
    for _ in range(a.reps):
        random.shuffle(keys)
        for v, w in keys:
            out = subprocess.run([sys.executable, __file__, "--child", v, w, str(K), str(then_root), "--threads", str(a.threads)],
                                 capture_output=True, text=True, check=True).stdout
            times[v, w].append(float(out.split()[-1]))
    return {k: statistics.median(t) for k, t in times.items()}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="8b0b727"); ap.add_argument("--ks", default="8,32"); ap.add_argument("--fit-ks", default="8,32")
    ap.add_argument("--reps", type=int, default=5); ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        v, w, K, root = a.child; print(child(v, w, int(K), root, a.threads)); return
    random.seed(0); root = extract(a.rev)
    try: report(a, root)
    finally: shutil.rmtree(root)                                      # the extracted copy goes with the run

def report(a, root: pathlib.Path):
    "Time both versions (the 'then' package under `root`) and print the two tables."
    print(f"then = {a.rev}, now = this checkout; {a.threads} thread(s); each call in a fresh process; {a.reps} shuffled repeats (medians)")
    print("\n1) inside fit: ms per training step (mixed scenario, 200 rows per task, batch 32, 20 epochs, no validation)")
    print(f"{'K':>4} {'version':>8} {'HPS':>7} {'AHPS':>7} {'AHPS / HPS':>11}")
    for K in [int(k) for k in a.ks.split(",")]:
        med = medians([(v, m) for v in ("then", "now") for m in ("hps", "ahps")], K, a, root)
        for v in ("then", "now"):
            h, s = med[v, "hps"] * 1e3, med[v, "ahps"] * 1e3
            print(f"{K:>4} {v:>8} {h:>7.3f} {s:>7.3f} {s / h:>10.2f}x")
    print("\n2) fit (STL) against a plain loop over K networks (200 rows per task in one batch, validation every epoch, 60 epochs)")
    print(f"{'K':>4} {'plain loop s':>13} {'fit then s':>11} {'fit now s':>10} {'loop / then':>12} {'loop / now':>11}")
    for K in [int(k) for k in a.fit_ks.split(",")]:
        med = medians([("now", "loop"), ("then", "stl"), ("now", "stl")], K, a, root)
        loop = med["now", "loop"]
        print(f"{K:>4} {loop:>13.3f} {med['then', 'stl']:>11.3f} {med['now', 'stl']:>10.3f} {loop / med['then', 'stl']:>11.1f}x "
              f"{loop / med['now', 'stl']:>10.1f}x")

if __name__ == "__main__": main()
