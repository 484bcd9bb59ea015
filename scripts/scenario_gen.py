#!/usr/bin/python3
"""Writes the plain-XML sources (nodes, edges, connections) and the demand of
edgeai's traffic scenarios; scripts/make_scenarios.sh runs netconvert on them.

Geometry: every approach has three lanes: lane 0 right + straight, lane 1
straight, lane 2 a dedicated left-turn lane (a full-length left bay), into
two-lane exits, 50 km/h. netconvert's 'opposites' plan then gives each pair
of opposite approaches a through phase (lefts permissive, yielding) and a
protected left phase, with yellow between: left turners never block through
traffic (the two-plain-lane plan leaves them stuck for minutes).

Demand (surge: the asymmetric demand at 1.5x from minute 5 to 45): <flow probability=...> per movement, so that every vehicle's
insertion is a Bernoulli draw of SUMO's --seed: one route file, many seeds.
"""
import argparse
import os

SPEED = 13.89  # m/s, 50 km/h
ARM = 300.0  # m, approach length
SPACING = 300.0  # m, grid junction spacing

# direction vectors, and the arm on your right/left when you drive towards
# the junction from that arm ("from N" means driving south).
DIRS = {"N": (0, 1), "E": (1, 0), "S": (0, -1), "W": (-1, 0)}
# from arm X: the exit arm of a straight / left / right move
STRAIGHT = {"N": "S", "S": "N", "E": "W", "W": "E"}
LEFT = {"N": "E", "S": "W", "E": "S", "W": "N"}  # driving south, left is east
RIGHT = {"N": "W", "S": "E", "E": "N", "W": "S"}


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Net:
    def __init__(self):
        self.nodes = []  # (id, x, y, type)
        self.edges = []  # (id, from, to, lanes)
        self.cons = []  # (from, to, fromLane, toLane)

    def node(self, nid, x, y, typ):
        self.nodes.append((nid, x, y, typ))

    def edge(self, eid, a, b, lanes):
        self.edges.append((eid, a, b, lanes))

    def junction(self, arms):
        """arms: {arm: (in_edge, out_edge)} for a 4-way junction."""
        for a, (ein, _) in arms.items():
            s, l, r = arms[STRAIGHT[a]][1], arms[LEFT[a]][1], arms[RIGHT[a]][1]
            self.cons += [(ein, r, 0, 0), (ein, s, 0, 0), (ein, s, 1, 1), (ein, l, 2, 1)]

    def emit(self, base):
        n = ['<nodes>']
        for nid, x, y, typ in self.nodes:
            n.append(f'  <node id="{nid}" x="{x:.1f}" y="{y:.1f}" type="{typ}"/>')
        n.append('</nodes>\n')
        e = ['<edges>']
        for eid, a, b, lanes in self.edges:
            e.append(f'  <edge id="{eid}" from="{a}" to="{b}" numLanes="{lanes}" '
                     f'speed="{SPEED}" priority="2"/>')
        e.append('</edges>\n')
        c = ['<connections>']
        for f, t, fl, tl in self.cons:
            c.append(f'  <connection from="{f}" to="{t}" fromLane="{fl}" toLane="{tl}"/>')
        c.append('</connections>\n')
        write(base + ".nod.xml", "\n".join(n))
        write(base + ".edg.xml", "\n".join(e))
        write(base + ".con.xml", "\n".join(c))


def single():
    net = Net()
    net.node("C", 0, 0, "traffic_light")
    arms = {}
    for a, (dx, dy) in DIRS.items():
        net.node(a, dx * ARM, dy * ARM, "priority")
        net.edge(f"{a}_C", a, "C", 3)
        net.edge(f"C_{a}", "C", a, 2)
        arms[a] = (f"{a}_C", f"C_{a}")
    net.junction(arms)
    return net


def grid():
    """2x2 junctions J<i><j> (i: column, j: row), fringe nodes on each side."""
    net = Net()
    xs = [0.0, SPACING]
    for i in range(2):
        for j in range(2):
            net.node(f"J{i}{j}", xs[i], xs[j], "traffic_light")
    fringe = {}
    for i in range(2):
        fringe[("S", i)] = (f"S{i}", xs[i], -ARM)
        fringe[("N", i)] = (f"N{i}", xs[i], SPACING + ARM)
        fringe[("W", i)] = (f"W{i}", -ARM, xs[i])
        fringe[("E", i)] = (f"E{i}", SPACING + ARM, xs[i])
    for (_, _), (nid, x, y) in fringe.items():
        net.node(nid, x, y, "priority")

    def neighbour(i, j, arm):
        dx, dy = DIRS[arm]
        ni, nj = i + dx, j + dy
        if 0 <= ni < 2 and 0 <= nj < 2:
            return f"J{ni}{nj}"
        side = arm
        idx = i if arm in "NS" else j
        return fringe[(side, idx)][0]

    made = set()
    for i in range(2):
        for j in range(2):
            jid = f"J{i}{j}"
            arms = {}
            for a in DIRS:
                other = neighbour(i, j, a)
                ein, eout = f"{other}_{jid}", f"{jid}_{other}"
                arms[a] = (ein, eout)
                for eid, fr, to in ((ein, other, jid), (eout, jid, other)):
                    if eid not in made:
                        made.add(eid)
                        net.edge(eid, fr, to, 3 if to.startswith("J") else 2)
            net.junction(arms)
    # exits towards junctions are inputs of the next junction: 3 lanes (left
    # bay); exits to the fringe have 2. Connections into a 3-lane internal
    # edge: lanes 0/1 of the exit map onto its lanes 0/1 (lane 2 is filled by
    # lane changes), which netconvert accepts as given.
    return net


def flows_single(profile, end):
    """Per-movement hourly flows -> <flow> lines."""
    if profile == "balanced":
        vol = {a: 600 for a in DIRS}
        split = (0.7, 0.2, 0.1)
    else:
        vol = {"N": 900, "S": 900, "E": 300, "W": 300}
        split = (0.8, 0.1, 0.1)
    periods = [(0, end, 1.0)]
    if profile == "surge":  # rush hour: 1.5x from minute 5 to minute 45
        t1, t2 = min(300.0, end), min(2700.0, end)
        periods = [(0, t1, 1.0), (t1, t2, 1.5), (t2, end, 1.0)]
    out = []
    for k, (b, e, f) in enumerate(periods):
        for a in DIRS:
            for name, share, to in (("s", split[0], STRAIGHT[a]), ("l", split[1], LEFT[a]),
                                    ("r", split[2], RIGHT[a])):
                p = vol[a] * share * f / 3600.0
                out.append(f'  <flow id="{a}{to}_{name}{k}" from="{a}_C" to="C_{to}" '
                           f'begin="{b:.0f}" end="{e:.0f}" probability="{p:.6f}" '
                           f'departLane="best" departSpeed="max"/>')
    return out


def flows_grid(end):
    """Every fringe entry 400 veh/h: half to the exit straight across, the
    rest spread over the exits on the two sides (routes by shortest path)."""
    ent = [f"{s}{i}" for s in "NESW" for i in range(2)]
    first = {"S": "J{i}0", "N": "J{i}1", "W": "J0{i}", "E": "J1{i}"}
    across = {"N": "S", "S": "N", "E": "W", "W": "E"}
    out = []
    for e in ent:
        s, i = e[0], int(e[1])
        jin = first[s].format(i=i)
        src = f"{e}_{jin}"
        dests = []
        opp = f"{across[s]}{i}"
        dests.append((opp, 0.5))
        sides = [x for x in "NESW" if x not in (s, across[s])]
        for sd in sides:
            for k in range(2):
                dests.append((f"{sd}{k}", 0.125))
        for d, share in dests:
            jout = first[d[0]].format(i=int(d[1]))
            p = 400 * share / 3600.0
            out.append(f'  <flow id="{e}{d}" from="{src}" to="{jout}_{d}" begin="0" '
                       f'end="{end:.0f}" probability="{p:.6f}" departLane="best" '
                       f'departSpeed="max"/>')
    return out


# The fleet: mostly cars, some trucks and buses (long, slow to start) and
# motorbikes, drawn per vehicle from the flow's seeded RNG. The camera path
# renders each by its vehicle class, so the demo's classifier has real work.
MIX = """  <vTypeDistribution id="mix">
    <vType id="car" vClass="passenger" probability="0.82" accel="2.6" decel="4.5" sigma="0.5" length="5" minGap="2.5" maxSpeed="16.67"/>
    <vType id="truck" vClass="truck" probability="0.07" accel="1.3" decel="4.0" sigma="0.5" length="10" width="2.5" minGap="3" maxSpeed="13.89" guiShape="truck"/>
    <vType id="bus" vClass="bus" probability="0.03" accel="1.2" decel="4.0" sigma="0.5" length="12" width="2.5" minGap="3" maxSpeed="13.89" guiShape="bus"/>
    <vType id="moto" vClass="motorcycle" probability="0.08" accel="3.5" decel="6.0" sigma="0.5" length="2.2" width="0.9" minGap="1.5" maxSpeed="16.67" guiShape="motorcycle"/>
  </vTypeDistribution>
"""


def routes(lines):
    return ("<routes>\n" + MIX +
            "\n".join(x.replace("<flow ", '<flow type="mix" ') for x in lines) + "\n</routes>\n")


def sumocfg(net, rou, seed, end):
    return f"""<configuration>
  <input>
    <net-file value="{net}"/>
    <route-files value="{rou}"/>
  </input>
  <time>
    <begin value="0"/>
    <end value="{end:.0f}"/>
    <step-length value="1"/>
  </time>
  <processing>
    <time-to-teleport value="300"/>
  </processing>
  <random_number>
    <seed value="{seed}"/>
  </random_number>
</configuration>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stage", choices=["plain", "demand"], required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--end", type=float, default=3600)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.stage == "plain":
        single().emit(os.path.join(a.out, "intersection"))
        grid().emit(os.path.join(a.out, "grid"))
        return
    for prof in ("balanced", "asymmetric", "surge"):
        write(os.path.join(a.out, f"{prof}.rou.xml"), routes(flows_single(prof, a.end)))
        write(os.path.join(a.out, f"{prof}.sumocfg"),
              sumocfg("intersection.net.xml", f"{prof}.rou.xml", a.seed, a.end))
    write(os.path.join(a.out, "grid.rou.xml"), routes(flows_grid(a.end)))
    write(os.path.join(a.out, "grid.sumocfg"),
          sumocfg("grid.net.xml", "grid.rou.xml", a.seed, a.end))


if __name__ == "__main__":
    main()
