# Settings shared by the demo-web scripts; sourced by them (Farm itself runs only the known script names).
PORT="${DEMO_WEB_PORT:-8080}"
RUN="${DEMO_WEB_RUN_DIR:-/run/farm}/${FARM_MODULE:-demo-web}"
PIDFILE="$RUN/server.pid"

# True while the server recorded in the pid file runs.
server_running() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}
