set -e
# pilot similarity (per-task ridge fits' prediction correlation, computed once from the training rows)
R=nbs/data/asps_search/s11.csv
P=".venv/bin/python nbs/data/asps_search/graph.py"
$P "pilot" '{"pilot_mode":true}' 0-19 m50 $R & $P "pilot+ema" '{"pilot_mode":true,"ema":true}' 0-19 m50 $R; wait
$P "pilot graph l1" '{"pilot_mode":true,"graph":true}' 0-19 m50 $R & $P "pilot graph l2" '{"pilot_mode":true,"graph":true,"lam0":2}' 0-19 m50 $R; wait
$P "pilot rf" '{"pilot_mode":true,"pkind":"rf"}' 0-19 m50 $R & $P "pilot graph rf" '{"pilot_mode":true,"graph":true,"pkind":"rf"}' 0-19 m50 $R; wait
# the two graph-pilot candidates on every setting, and on the fresh seeds 20-39
for sd in 0-19 20-39; do
$P "pilot graph l1" '{"pilot_mode":true,"graph":true}' $sd m50,m200,rel,unr $R & $P "pilot graph rf" '{"pilot_mode":true,"graph":true,"pkind":"rf"}' $sd m50,m200,rel,unr $R; wait
done
