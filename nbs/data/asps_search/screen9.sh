set -e
# graph (pairwise) mean constraint: oracle A = truth, then A from the tracked prediction similarity
R=nbs/data/asps_search/s9.csv
P=".venv/bin/python nbs/data/asps_search/graph.py"
for l in 1 3; do for t in none sign; do $P "g-oracle l$l $t" "{\"oracle\":true,\"lam0\":$l,\"theta\":\"$t\"}" 0-19 m50 $R & done; wait; done
for l in 1 2 3; do $P "g-clamp l$l" "{\"lam0\":$l}" 0-19 m50 $R & $P "g-shift.5 l$l" "{\"lam0\":$l,\"amap\":\"shift\",\"s0\":0.5}" 0-19 m50 $R; wait; done
