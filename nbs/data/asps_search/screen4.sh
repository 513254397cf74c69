R=nbs/data/asps_search/s4.csv
P=".venv/bin/python nbs/data/asps_search/cand.py"
S=m50
$P "tmax=0.1" '{"theta_max":0.1}' 0-19 $S $R
$P "tmax=0.15" '{"theta_max":0.15}' 0-19 $S $R
$P "patience=30" '{"patience":30}' 0-19 $S $R
$P "wmean p2 tmax=0.1" '{"wmean":true,"power":2.0,"theta_max":0.1}' 0-19 $S $R
$P "lam0=1.5" '{"lam0":1.5}' 0-19 $S $R
$P "buf b.7 tmax=0.1" '{"rows":"buffer","max_rows":1024,"beta":0.7,"theta_max":0.1}' 0-19 $S $R
$P "wmean p2 buf b.7" '{"wmean":true,"power":2.0,"rows":"buffer","max_rows":1024,"beta":0.7}' 0-19 $S $R
$P "warmup=10" '{"warmup":10}' 0-19 $S $R
