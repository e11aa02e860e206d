# Settings shared by the demo-web scripts and its checker; sourced by them (Farm itself runs only the known
# script names). Site-specific values go into env.local in the module folder, sourced last, e.g.:
#   PORT=8081
#   RUN_BASE=/var/run/demo
#   PROMOTE_SECONDS=1
PORT="${DEMO_WEB_PORT:-8080}"
RUN_BASE="${DEMO_WEB_RUN_DIR:-/run/farm}"
PROMOTE_SECONDS=0   # mode single: how long start_prim's simulated promotion takes
MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -f "$MODULE_DIR/env.local" ]; then
    . "$MODULE_DIR/env.local"
fi
RUN="$RUN_BASE/${FARM_MODULE:-demo-web}"
PIDFILE="$RUN/server.pid"

# True while the server recorded in the pid file runs.
server_running() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

# Appends "UNIX_MS EVENT" to $RUN/events.log (the transitions, with times comparable to the server's log).
event() {
    echo "$(date +%s%3N) $*" >>"$RUN/events.log"
}
