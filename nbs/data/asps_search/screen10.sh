set -e
# graph penalty, sharper maps of the tracked similarity: A = clamp(S)^γ, or (S − s0)/(1 − s0)
R=nbs/data/asps_search/s10.csv
P=".venv/bin/python nbs/data/asps_search/graph.py"
for l in 1 2; do $P "g-pow3 l$l" "{\"lam0\":$l,\"gamma\":3}" 0-19 m50 $R & $P "g-pow6 l$l" "{\"lam0\":$l,\"gamma\":6}" 0-19 m50 $R; wait; done
$P "g-shift.7 l1" '{"lam0":1,"amap":"shift","s0":0.7}' 0-19 m50 $R & $P "g-shift.7 l2" '{"lam0":2,"amap":"shift","s0":0.7}' 0-19 m50 $R; wait
