R=nbs/data/asps_search/s6.csv
P=".venv/bin/python nbs/data/asps_search/cand.py"
S=m50,m200,rel,unr
$P "buf b.7 pat30" '{"rows":"buffer","max_rows":1024,"beta":0.7,"patience":30}' 0-19 $S $R
$P "buf b.7 pat25" '{"rows":"buffer","max_rows":1024,"beta":0.7,"patience":25}' 0-19 $S $R
$P "buf b.7 ue5 b.8" '{"rows":"buffer","max_rows":1024,"beta":0.8,"update_every":5}' 0-19 $S $R
