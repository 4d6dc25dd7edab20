#!/usr/bin/env bash
# Integration test of the webhook URL rule of `popid serve --notify-url` ($POPID; docs/AUTH.md
# "OTP delivery"): the messages carry one-time codes, so plain http:// to another machine is refused
# at start with a message naming the rule, unless --notify-insecure is given; https:// and
# http:// to a loopback host start. Each server that starts is stopped again. Last, a code is
# delivered to a loopback receiver although http_proxy names a proxy (which would take the code
# off the machine).
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db"
"$popid" init >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
umask 077
printf 'gateway-shared-secret\n' >"$dir/secret"
sec=(--notify-secret "$dir/secret")

# refused ARGS...: `popid serve ARGS` must exit 2 (usage) before it listens; stderr in $err. A
# server that starts instead is a failure (it printed its port line) and is stopped; the wait for
# one or the other is bounded, as in serve_start.
refused() {
  : >"$dir/r.out"
  "$popid" serve --listen 127.0.0.1:0 "$@" >"$dir/r.out" 2>"$dir/r.err" &
  local p=$! rc=
  pids+=("$p")
  for _ in $(seq 500); do
    if ! kill -0 "$p" 2>/dev/null; then wait "$p"; rc=$?; break; fi
    [ -s "$dir/r.out" ] && break
    sleep 0.02
  done
  err=$(cat "$dir/r.err")
  if [ -z "$rc" ]; then
    kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null
    bad "serve $* started instead of refusing"
  else
    eq "serve $* exit status" "$rc" 2
  fi
}

# Refused before anything starts (exit 2, usage), the rule and the host named.
refused --notify-url http://sms.example.vn/hook "${sec[@]}"
check "http:// to another host: rule notify-url-insecure ($err)" has_rule notify-url-insecure
check "the refusal names the host" grep -q "'sms.example.vn'" <<<"$err"
check "the refusal says what to use" grep -q "https://" <<<"$err"
refused --notify-url http://10.1.2.3:8080/hook "${sec[@]}"
check "http:// to a private address: refused" has_rule notify-url-insecure
refused --notify-url ftp://sms.example.vn/hook "${sec[@]}"
check "ftp://: rule notify-url" has_rule notify-url
refused --notify-insecure
check "--notify-insecure alone: refused" grep -q "notify-insecure goes with --notify-url" <<<"$err"

# started ARGS...: the server starts with ARGS and stops on SIGTERM with status 0.
started() {
  serve_start "$@"
  kill -TERM "$spid"
  wait "$spid"
  local rc=$?
  eq "serve $* stopped cleanly" "$rc" 0
}
started --notify-url http://sms.example.vn/hook "${sec[@]}" --notify-insecure
started --notify-insecure --notify-url http://10.1.2.3:8080/hook "${sec[@]}"
started --notify-url https://sms.example.vn/hook "${sec[@]}"
started --notify-url http://127.0.0.1:9/hook "${sec[@]}"
started --notify-url "http://[::1]:9/hook" "${sec[@]}"
started --notify-url http://localhost:9/hook "${sec[@]}"

# An http:// webhook on this machine is reached directly, not through a proxy named in the
# environment (http_proxy would carry the codes off the machine in clear): with http_proxy
# pointing at a closed port, the activation code still reaches the loopback receiver.
"$popid" demo --people 80 --seed 7 >/dev/null 2>&1 || { echo "FAIL: demo" >&2; exit 1; }
A=$("$popid" export --format jsonl 2>/dev/null |
  jq -r 'select(.status == "living" and .nationality == "VNM" and .dob < "2000") | .pid' | head -1)
receiver_start
http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 serve_start \
  --notify-url "http://127.0.0.1:$rport/hook" "${sec[@]}" --notify-backoff-ms 100 \
  --notify-attempts 4
POPID_ACTOR=test:notify-url "$popid" eid request "$A" --phone +84901234567 >/dev/null 2>&1 ||
  bad "eid request"
check "delivered to the loopback receiver despite http_proxy" \
  receiver_wait '.body.topic == "eid-activation" and .status == 200'
kill -TERM "$spid"
wait "$spid"
finish
