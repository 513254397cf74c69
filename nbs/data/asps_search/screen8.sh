set -e
R=nbs/data/asps_search/s8.csv
P=".venv/bin/python nbs/data/asps_search/cand.py"
$P "delta" '{"measure":"delta"}' 0-19 m50 $R
for l in 0.1 0.2 0.3 0.5; do $P "prec l$l" "{\"mapping\":\"precision\",\"lam0\":$l}" 0-19 m50 $R; done
