"""Step time and peak memory against the number of tasks K (up to 1024), for each method (default: all five).

Each K runs in a fresh process: one training step (forward, backward, the method's after-backward, Adam) on a batch of
B rows per task, hidden (32, 32); time per step is the median over repeats, and peak memory is the process's peak
resident set (ru_maxrss) above what it held after building the model. Printed side by side for every K in one run,
with the time per task per step, so the scaling in K reads directly. A method may carry options: `asps:coupling=mean`.
The children run `--rounds` times, interleaved (round by round over every K and method), and each cell is the median
over the rounds: a noisy shared machine slows all sizes alike instead of one.
Usage: python benchmarks/bench_scaling.py [--ks 8,32,128,512,1024] [--batch 32] [--threads 1] [--methods stl,hps,sps,ahps,asps] [--rounds 3]
       python benchmarks/bench_scaling.py --ks 128,1024 --methods asps,asps:coupling=mean"""
import argparse, json, statistics, subprocess, sys

CHILD = r'''
import ast, json, resource, statistics, sys, time, torch
from adaptive_mtl.methods import get_method
from adaptive_mtl.trainer import task_losses, _keep_heap
from adaptive_mtl.methods import StepInfo
name, K, B, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads); torch.manual_seed(0)
def value(v):
    try: return ast.literal_eval(v)
    except (ValueError, SyntaxError): return v
base, *options = name.split(":")
method = get_method(base, **{k: value(v) for k, v in (o.split("=", 1) for o in options)}); model = method.build(10, K, (32, 32)); opt = torch.optim.Adam(model.parameters(), 3e-3, fused=True)
method.attach(model, opt); _keep_heap(16 * K * B * 64, torch.device("cpu"))   # as fit keeps freed memory for the next step
x, y, mask = torch.randn(K, B, 10), torch.randn(K, B), torch.ones(K, B, dtype=torch.bool)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss      # before `prepare`: ASPS's pilot fits count (their peak was above the steps')
method.prepare(x, y, mask)
def step(i):
    pred = model(x); losses = task_losses(pred, y, mask); info = StepInfo(i, x, y, mask, pred, losses)
    loss = losses.sum() + method.penalty(model, info)
    opt.zero_grad(set_to_none=True); loss.backward(); method.after_backward(model, opt, info); opt.step()
times = []
for i in range(60):
    t = time.perf_counter(); step(i); times.append(time.perf_counter() - t)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(ms=1e3 * statistics.median(times[10:]), mb=(peak - base) / 1024)))
'''

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ks", default="8,32,128,512,1024"); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--methods", default="stl,hps,sps,ahps,asps")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved runs of every child (medians)")
    a = ap.parse_args(); methods, ks = a.methods.split(","), [int(k) for k in a.ks.split(",")]
    child = lambda m, K: json.loads(subprocess.run([sys.executable, "-c", CHILD, m, str(K), str(a.batch), str(a.threads)],
                                                   capture_output=True, text=True, check=True).stdout)
    runs = {}
    for _ in range(a.rounds):
        for K in ks:
            for m in methods: runs.setdefault((K, m), []).append(child(m, K))
    print(f"1 step, batch {a.batch} rows per task, hidden (32, 32), p=10, {a.threads} thread(s); peak memory above the built model")
    print(f"{'K':>5} " + " ".join(f"{m + ' ms':>10} {m + ' us/task':>13} {m + ' MB':>8}" for m in methods))
    steps = {}
    for K in ks:
        cells = []
        for m in methods:
            r = {k: statistics.median(run[k] for run in runs[K, m]) for k in ("ms", "mb")}
            cells.append(f"{r['ms']:>10.2f} {1e3 * r['ms'] / K:>13.1f} {r['mb']:>8.1f}"); steps.setdefault(m, {})[K] = r["ms"]
        print(f"{K:>5} " + " ".join(cells), flush=True)
    if 128 in steps[methods[0]] and 1024 in steps[methods[0]]:
        print("step at K=1024 / step at K=128: " + ", ".join(f"{m} {steps[m][1024] / steps[m][128]:.1f}x" for m in methods))

if __name__ == "__main__": main()
