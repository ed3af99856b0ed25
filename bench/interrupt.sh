#!/usr/bin/env bash
# How long Ctrl-C (and SIGTERM) takes to stop a multi-GB conversion in a real terminal.
#
#   bash bench/interrupt.sh [copies=60] [runs=3] [format=parquet]
#
# Builds a dataset of COPIES copies of one generated 1,000-event shard (92 MB each, in /dev/shm),
# starts `arrowsmith convert` in a tmux pane with 1 and 2 threads, sends Ctrl-C (tmux send-keys,
# as a person does) or SIGTERM 2.5 s in, and prints the time from the signal until the process has
# ended, its exit status, and the temporary files left in the output folder (must be 0).
# Needs tmux. Removes its folder at the end.
set -euo pipefail
COPIES=${1:-60}; RUNS=${2:-3}; FORMAT=${3:-parquet}
CLI="$(cd "$(dirname "$0")/.." && pwd)/dist/src/cli.js"
[ -f "$CLI" ] || { echo "build first: npm run build" >&2; exit 2; }
command -v tmux >/dev/null || { echo "needs tmux (apt-get install tmux)" >&2; exit 2; }
D=$(mktemp -d /dev/shm/arrowsmith-interrupt.XXXXXX); SOCK="arrowsmith-interrupt-$$"
trap 'tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -rf "$D"' EXIT
node "$CLI" generate scone -o "$D/gen" --files 1 --events 1000 --seed 3 >/dev/null
mkdir "$D/in"; for i in $(seq 1 "$COPIES"); do cp "$D/gen/heatmaps_0000.tfrecord" "$D/in/heatmaps_$(printf %04d "$i").tfrecord"; done
echo "input: $(du -sh "$D/in" | cut -f1) in $COPIES files; format $FORMAT; load $(cut -d' ' -f1 /proc/loadavg)"
one() { # threads signal
  local t=$1 sig=$2 s="t$1$2" out="$D/out-t$1$2"
  rm -rf "$out" "$D/rc-$s"
  tmux -L "$SOCK" -f /dev/null new-session -d -s "$s" -x 150 -y 10 \
    "node $CLI convert $D/in -o $out --threads $t --format $FORMAT; echo \$? > $D/rc-$s; sleep 60"
  sleep 2.5
  local pid; pid=$(pgrep -f "^node $CLI convert $D/in -o $out " | head -1)
  [ -n "$pid" ] || { echo "threads=$t $sig: the run ended before the signal (use more copies)"; tmux -L "$SOCK" kill-session -t "$s"; return; }
  local t0; t0=$(date +%s%N)
  if [ "$sig" = INT ]; then tmux -L "$SOCK" send-keys -t "$s" C-c; else kill -TERM "$pid"; fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.005; done
  local t1; t1=$(date +%s%N)
  for _ in $(seq 50); do [ -f "$D/rc-$s" ] && break; sleep 0.05; done
  printf 'threads=%s SIG%-4s stopped in %4d ms  exit %s  temporaries left %s\n' "$t" "$sig" $(( (t1 - t0) / 1000000 )) \
    "$(cat "$D/rc-$s" 2>/dev/null || echo '?')" "$(find "$out" -name '*.tmp-*' 2>/dev/null | wc -l)"
  tmux -L "$SOCK" kill-session -t "$s"
}
for _ in $(seq 1 "$RUNS"); do one 1 INT; one 2 INT; one 1 TERM; one 2 TERM; done
