# shellcheck shell=bash
# What the two end-to-end scripts on moto share (tools/deploy-on-moto.sh and
# tools/mapping-replace-on-moto.sh source it; never run by itself): moto's deploy server on a
# free loopback port, an environment in which only moto and dummy credentials count, an
# `aws` that talks to it, and the ok/FAILED tally. Needs `root` and `venv` set.
# shellcheck disable=SC2034,SC2154 # work, moto, passed, failed are read by the scripts; root, venv set there

passed=0 failed=0
fail() { failed=$((failed + 1)); echo "FAILED  $*"; }
ok() { passed=$((passed + 1)); echo "ok      $*"; }

# Starts moto on a free loopback port: sets work (a new temporary folder, moto's log in
# work/moto.log), port, endpoint and moto (the server's pid, for the script's EXIT trap).
# moto_deploy_server.py is moto_server.py plus a fix for the outputs of change-set stacks.
moto_start() {
  work=$(mktemp -d)
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  endpoint="http://127.0.0.1:$port"
  "$venv/bin/python" "$root/tools/moto_deploy_server.py" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto=$!
}

# Only moto and dummy credentials: none of the caller's AWS settings or make variables count.
# Then waits until moto listens.
moto_only() {
  unset STACK REGION ALERT_EMAIL ARTIFACT_BUCKET CHANGESET_NAME SINCE FOLLOW FORCE PRESET CONFIG SET
  unset VERIFY_ARGS VERIFY_BIN MAPPING_START MAPPING_MARGIN
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE MAKEFLAGS MFLAGS
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN=local
  export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  export AWS_ENDPOINT_URL=$endpoint
  local _
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  echo "moto listening on $endpoint"
}

aws() { "$venv/bin/aws" --endpoint-url "$endpoint" --region us-east-1 "$@"; }
