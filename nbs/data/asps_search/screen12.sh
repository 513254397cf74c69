set -e
# graph penalty, similarity tracker started at the random-feature pilot and updated by the network's prediction correlation
R=nbs/data/asps_search/s12.csv
P=".venv/bin/python nbs/data/asps_search/graph.py"
$P "pg rf ema.9" '{"pilot_mode":true,"graph":true,"pkind":"rf","ema":true}' 0-19 m50,m200,rel,unr $R & $P "pg rf ema.95" '{"pilot_mode":true,"graph":true,"pkind":"rf","ema":true,"beta":0.95}' 0-19 m50,m200,rel,unr $R; wait
$P "pg rf l1.5" '{"pilot_mode":true,"graph":true,"pkind":"rf","lam0":1.5}' 0-19 m50,m200,rel,unr $R & $P "pg lin ema.9" '{"pilot_mode":true,"graph":true,"ema":true}' 0-19 m50,m200,rel,unr $R; wait
