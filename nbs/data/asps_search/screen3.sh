R=nbs/data/asps_search/s3.csv
P=".venv/bin/python nbs/data/asps_search/cand.py"
S=m50,m200,rel,unr
$P "wmean" '{"wmean":true}' 0-19 $S $R
$P "wmean power=2" '{"wmean":true,"power":2.0}' 0-19 $S $R
$P "wmean lam0=2" '{"wmean":true,"lam0":2.0}' 0-19 $S $R
