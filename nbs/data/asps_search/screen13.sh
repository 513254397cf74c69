set -e
# the default with its pilot similarity shrunk towards "similar" by each task's split-half reliability (after the schools case study)
P=".venv/bin/python nbs/data/asps_search/reliability.py"
$P schools                                                     # 10 splits of hsb82 -> case_schools_rel.csv
$P sim 0 30 /tmp/ra.csv & $P sim 30 60 /tmp/rb.csv; wait       # mixed 50/200, related, unrelated; seeds 0-59
.venv/bin/python -c "import pandas as pd; pd.concat([pd.read_csv('/tmp/ra.csv'), pd.read_csv('/tmp/rb.csv')]).to_csv('nbs/data/asps_search/s13.csv', index=False)"
