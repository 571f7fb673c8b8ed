#!/usr/bin/env bash
# make demo: the whole path on embedded defaults. Starts versitygw (S3), the
# case server on SQLite and the agent on loopback ports, docks a simulated
# recorder holding a shift's footage, waits until every recording is stored
# and registered, and prints the registry's table. Data lives in var/demo/,
# wiped at each start. With a terminal it keeps running until Ctrl-C;
# without one it exits after the table: 0 only if every recording was
# verified and registered.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo=$root/var/demo

pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback port nothing listens on.
free_port() {
	local port
	for _ in $(seq 200); do
		port=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	echo "demo: no free port found" >&2
	exit 1
}

# wait_port waits until something listens on a loopback port.
wait_port() {
	for _ in $(seq 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return; fi
		sleep 0.05
	done
	echo "demo: nothing is listening on 127.0.0.1:$1; see the logs in $demo" >&2
	exit 1
}

rm -rf "$demo"
mkdir -p "$demo"/{s3/data,s3/versions,media,staging,server}
s3_port=$(free_port)
server_port=$(free_port)
dock_port=$(free_port)
secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$secret" > "$demo/s3.secret"
chmod 600 "$demo/s3.secret"

echo "demo: starting versitygw on 127.0.0.1:$s3_port (data in var/demo/s3)"
ROOT_ACCESS_KEY_ID=evidockdemo ROOT_SECRET_ACCESS_KEY="$secret" \
	.tools/bin/versitygw --port "127.0.0.1:$s3_port" --keep-alive posix --versioning-dir "$demo/s3/versions" "$demo/s3/data" \
	>"$demo/versitygw.log" 2>&1 &
pids+=($!)
wait_port "$s3_port"

s3_config="s3:
  endpoint: http://127.0.0.1:$s3_port
  bucket: footage
  access_key_id: evidockdemo
  secret_access_key_file: $demo/s3.secret"

cat >"$demo/server.yaml" <<YAML
listen: 127.0.0.1:$server_port
database:
  driver: sqlite
  path: $demo/server/evidock.db
$s3_config
  create_bucket: true
verify_digest: true
log_level: info
log:
  origin: evidock.demo/registry
  signing_key_file: $demo/server/log.key
  create_key: true
YAML
bin/evidock-server station add --config "$demo/server.yaml" --id dock-demo --name "Demo docking station" --token-file "$demo/station.token"
# A supervisor for the web UI, with a fresh password.
web_password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
echo "$web_password" > "$demo/supervisor.password"
chmod 600 "$demo/supervisor.password"
# Roles are held in units of the bureau's tree: the bureau first.
bin/evidock-server unit add --config "$demo/server.yaml" --code city --name "Demo city bureau" --level bureau >/dev/null
bin/evidock-server user add --config "$demo/server.yaml" --login supervisor --name "Demo supervisor" \
	--role supervisor --unit city --password-file "$demo/supervisor.password" >/dev/null

echo "demo: starting the case server on http://127.0.0.1:$server_port (SQLite in var/demo/server)"
bin/evidock-server serve --config "$demo/server.yaml" >"$demo/server.log" 2>&1 &
pids+=($!)
wait_port "$server_port"

cat >"$demo/agent.yaml" <<YAML
station_id: dock-demo
mount_root: $demo/media
staging_dir: $demo/staging
state_path: $demo/agent.db
settle: 1s
dock_screen:
  listen: 127.0.0.1:$dock_port
server:
  url: http://127.0.0.1:$server_port
  token_file: $demo/station.token
  log_public_key_file: $demo/server/log.key.pub
$s3_config
log_level: info
YAML
echo "demo: starting the agent, watching var/demo/media for recorders; dock screen on http://127.0.0.1:$dock_port/"
bin/evidock-agent run --config "$demo/agent.yaml" >"$demo/agent.log" 2>&1 &
pids+=($!)

echo "demo: docking recorder DSJ0001 (officer 100234) with a shift's footage"
bin/evidock-bridge sim --into "$demo/media/DSJ0001" --serial DSJ0001 --officer 100234 \
	--start "$(date -u -d "+8 hours" +%Y-%m-%d)T08:30:00+08:00" --sizes 220MB,64MB,31MB,12MB,5MB,2MB

echo "demo: waiting until every recording is verified in S3 and registered"
status=0
bin/evidock-agent status --config "$demo/agent.yaml" --wait --min 6 --timeout 10m || status=$?

echo
echo "Registered clips (case server http://127.0.0.1:$server_port):"
bin/evidock clips --server "http://127.0.0.1:$server_port" --token-file "$demo/station.token" --recorder DSJ0001 || status=1
echo
echo "Web UI: http://127.0.0.1:$server_port/ (login supervisor, password in var/demo/supervisor.password)"
echo "Logs: var/demo/{agent,server,versitygw}.log"

if [ "$status" -ne 0 ]; then
	echo "demo: FAILED (status $status): not every recording was verified and registered" >&2
	exit "$status"
fi
echo "demo: every recording verified in S3 and registered."
if [ -t 0 ]; then
	echo "demo: running; the case server is at http://127.0.0.1:$server_port, the dock screen at http://127.0.0.1:$dock_port/ (?lang=en for English). Press Ctrl-C to stop."
	wait
fi
