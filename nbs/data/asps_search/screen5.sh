R=nbs/data/asps_search/s5.csv
P=".venv/bin/python nbs/data/asps_search/cand.py"
S=m50
$P "simcap" '{"simcap":true}' 0-19 $S $R
$P "simcap tmax=1" '{"simcap":true,"theta_max":1.0}' 0-19 $S $R
$P "buf b.7 pat30" '{"rows":"buffer","max_rows":1024,"beta":0.7,"patience":30}' 0-19 $S $R
$P "simcap buf b.7" '{"simcap":true,"rows":"buffer","max_rows":1024,"beta":0.7}' 0-19 $S $R
