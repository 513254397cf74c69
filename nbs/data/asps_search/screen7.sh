P=".venv/bin/python nbs/data/asps_search/cand.py"
S=m50,m200,rel,unr
$P "b.7" '{"beta":0.7}' 0-19 $S nbs/data/asps_search/s7.csv
$P "buf b.7" '{"rows":"buffer","max_rows":1024,"beta":0.7}' 20-39 $S nbs/data/asps_search/c7.csv
$P "b.7" '{"beta":0.7}' 20-39 $S nbs/data/asps_search/c7.csv
