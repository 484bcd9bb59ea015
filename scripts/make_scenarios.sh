#!/bin/bash
# Builds edgeai's traffic scenarios in one command, reproducibly:
#   scripts/make_scenarios.sh [OUT_DIR] [SEED]     (default build-traffic/scenarios, 42)
# OUT_DIR gets intersection.net.xml (one signalised 4-way junction, 3-lane
# approaches with a dedicated left lane, protected left phases), grid.net.xml
# (2x2 signalised junctions), and balanced / asymmetric / surge / grid
# .rou.xml + .sumocfg (seed SEED; `edgeai traffic run --seed N` overrides it).
# The nets' lights are type actuated (netconvert sets minDur/maxDur); `edgeai
# traffic run --controller sumo-static|sumo-actuated|sumo-delay` runs the same
# phases as static, actuated or delay_based programs.
set -euo pipefail
export SUMO_HOME=${SUMO_HOME:-/usr/share/sumo}
cd "$(dirname "$0")/.."
out=${1:-build-traffic/scenarios}
seed=${2:-42}
command -v netconvert >/dev/null || { echo "make_scenarios: netconvert not found (apt install sumo)" >&2; exit 1; }
mkdir -p "$out"
/usr/bin/python3 scripts/scenario_gen.py --out "$out" --stage plain
for n in intersection grid; do
    # opposites layout: through phase with permissive lefts, then a protected
    # left phase; yellow from the speed (3 m/s^2 comfortable deceleration).
    netconvert --node-files "$out/$n.nod.xml" --edge-files "$out/$n.edg.xml" \
        --connection-files "$out/$n.con.xml" --output-file "$out/$n.net.xml" \
        --tls.default-type actuated --tls.layout opposites --tls.left-green.time 10 \
        --no-turnarounds true --junctions.corner-detail 5 --no-warnings true \
        --seed "$seed" >/dev/null
done
/usr/bin/python3 scripts/scenario_gen.py --out "$out" --stage demand --seed "$seed"
echo "make_scenarios: wrote $out/{balanced,asymmetric,surge,grid}.sumocfg"
