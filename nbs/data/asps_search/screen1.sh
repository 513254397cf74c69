set -e
R=nbs/data/asps_search/s1.csv
P=".venv/bin/python nbs/data/asps_search/cand.py"
$P "buf1024" '{"rows":"buffer","max_rows":1024}' 0-19 m50 $R
$P "buf1024 ue5" '{"rows":"buffer","max_rows":1024,"update_every":5}' 0-19 m50 $R
$P "buf1024 b.5" '{"rows":"buffer","max_rows":1024,"beta":0.5}' 0-19 m50 $R
$P "buf1024 fisher" '{"rows":"buffer","max_rows":1024,"fisher":true}' 0-19 m50 $R
$P "batch fisher" '{"fisher":true}' 0-19 m50 $R
$P "buf1024 start10" '{"rows":"buffer","max_rows":1024,"start":10}' 0-19 m50 $R
$P "buf1024 ue2 b.8" '{"rows":"buffer","max_rows":1024,"update_every":2,"beta":0.8}' 0-19 m50 $R
$P "buf512" '{"rows":"buffer","max_rows":512}' 0-19 m50 $R
