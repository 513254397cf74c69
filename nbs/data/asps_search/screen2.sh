R=nbs/data/asps_search/s2.csv
P=".venv/bin/python nbs/data/asps_search/cand.py"
S=m50,m200,rel,unr
$P "lam0=0.5" '{"lam0":0.5}' 0-19 $S $R
$P "lam0=2" '{"lam0":2.0}' 0-19 $S $R
$P "power=2" '{"power":2.0}' 0-19 $S $R
$P "power=2 lam0=2" '{"power":2.0,"lam0":2.0}' 0-19 $S $R
$P "buf b.7" '{"rows":"buffer","max_rows":1024,"beta":0.7}' 0-19 $S $R
$P "patience=10" '{"patience":10}' 0-19 $S $R
$P "patience=40" '{"patience":40}' 0-19 $S $R
$P "warmup=50" '{"warmup":50}' 0-19 $S $R
$P "theta_max=0.25" '{"theta_max":0.25}' 0-19 $S $R
