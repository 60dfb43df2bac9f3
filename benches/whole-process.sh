#!/usr/bin/env bash
# Whole-process figures for BENCHMARKS.md: the console against the demo fleet at 3 x N pods.
# Measures time to populated, resident memory, CPU and redraws at idle, and the requests the
# console sends at steady state (from the fleet's /demo/requests counter).
# Usage: [METRICS=off] [METRICS_INTERVAL=15s] bash benches/whole-process.sh [PODS] [IDLE_SECONDS]
# (needs tmux and kubectl)
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${1:-5000}
IDLE=${2:-60}
cargo build --release --quiet
BIN=$PWD/target/release/opsdeck
WORK=$(mktemp -d)
trap 'tmux kill-session -t opsdeck-bench 2>/dev/null || true; kill "$FLEET" 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" demo --serve-only --dir "$WORK/fleet" --pods "$PODS" > "$WORK/fleet.out" &
FLEET=$!
until grep -q ready "$WORK/fleet.out" 2>/dev/null; do sleep 0.2; done
# METRICS=off measures health alone; otherwise request metrics run at METRICS_INTERVAL (the
# product's default 15s unless given), instead of the demo config's 5s.
if [ "${METRICS:-on}" = off ]; then
  sed -i 's/^interval = "5s"$/source = "none"/' "$WORK/fleet/opsdeck.toml"
else
  sed -i "s/^interval = \"5s\"$/interval = \"${METRICS_INTERVAL:-15s}\"/" "$WORK/fleet/opsdeck.toml"
fi

counter() {
  for ctx in local staging production; do
    kubectl --kubeconfig "$WORK/fleet/kubeconfig" --context "$ctx" get --raw /demo/requests
    echo
  done
}

tmux new-session -d -s opsdeck-bench -x 200 -y 50 \
  "${BENCH_ENV:-} XDG_STATE_HOME=$WORK/state XDG_DATA_HOME=$WORK/data OPSDECK_LOG=info,opsdeck::tui=trace \
   $BIN --config $WORK/fleet/opsdeck.toml --kubeconfig $WORK/fleet/kubeconfig"
LOG=$WORK/state/opsdeck/opsdeck.log
until grep -q "every environment populated" "$LOG" 2>/dev/null; do sleep 0.2; done
# The console itself, not the tmux shell that started it.
PID=$(pgrep -f "^$BIN --config $WORK/fleet/opsdeck.toml" | head -n 1)
echo "populated: $(grep -o 'elapsed_ms=[0-9]*' "$LOG" | head -n 1)"
sleep 5  # let the first snapshots settle

ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
CLK=$(getconf CLK_TCK)
counter > "$WORK/before.json"
FRAMES0=$(grep -c "frame drawn" "$LOG" || true)
T0=$(ticks)
sleep "$IDLE"
T1=$(ticks)
FRAMES1=$(grep -c "frame drawn" "$LOG" || true)
counter > "$WORK/after.json"

echo "resident memory: $(grep VmRSS "/proc/$PID/status" | awk '{print $2/1024 " MB"}')"
echo "idle CPU over ${IDLE}s: $(echo "scale=3; ($T1 - $T0) * 100 / $CLK / $IDLE" | bc)% of one core"
echo "frames drawn while idle: $((FRAMES1 - FRAMES0))"
python3 - "$WORK/before.json" "$WORK/after.json" "$IDLE" <<'PY'
import json, sys
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
before, after, idle = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
for b, a in zip(before, after):
    delta = {k: v - b["byVerbAndResource"].get(k, 0) for k, v in a["byVerbAndResource"].items()}
    delta = {k: v for k, v in delta.items() if v and not k.startswith("get /demo")}
    lists = {k: v for k, v in delta.items() if k.startswith("list ")}
    per_minute = sum(delta.values()) * 60 / idle
    print(f'{a["cluster"]}: {per_minute:.1f} requests/min at steady state; lists: {lists or "none"}; {delta}')
PY
