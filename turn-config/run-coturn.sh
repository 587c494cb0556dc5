#!/usr/bin/env bash
# Runs Debian's coturn (`turnserver`) as Switchboard's TURN server, with the secret the relay
# signs TURN credentials with.
#
# Usage:
#   turn-config/run-coturn.sh                   render the config, then exec turnserver
#   turn-config/run-coturn.sh -- OPTION...      the same, with extra turnserver options
#   turn-config/run-coturn.sh --print-config    print the rendered config (secret redacted) and
#                                               exit; touches no file, needs no turnserver
#
# The secret: $SWITCHBOARD_TURN_SECRET when set (then the relay must be configured with the same
# value), else the file $SWITCHBOARD_DATA_DIR/turn-secret, the one the relay reads. Whichever side
# starts first creates that file (32 random bytes as 64 hex characters, mode 0600).
#
# Environment (default):
#   SWITCHBOARD_DATA_DIR              (./data) the relay's data folder
#   SWITCHBOARD_TURN_RUN_DIR          ($SWITCHBOARD_DATA_DIR/coturn) rendered config (0600),
#                                     coturn's own user db and pid file
#   SWITCHBOARD_TURN_SECRET           (unset) see above
#   SWITCHBOARD_TURN_LISTEN_IP        (unset: every interface) address to listen on
#   SWITCHBOARD_TURN_PORT             (3478) STUN/TURN port, UDP and TCP
#   SWITCHBOARD_TURN_TLS_PORT         (5349) TURN over TLS, when a certificate is given
#   SWITCHBOARD_TURN_TLS_CERT         (unset) PEM certificate chain; enables TLS
#   SWITCHBOARD_TURN_TLS_KEY          (unset) its PEM private key
#   SWITCHBOARD_TURN_RELAY_IP         (unset) local address relayed traffic leaves from
#   SWITCHBOARD_TURN_EXTERNAL_IP      (unset) PUBLIC[/PRIVATE] address when behind 1:1 NAT
#   SWITCHBOARD_TURN_MIN_PORT         (49160) first relay port (UDP)
#   SWITCHBOARD_TURN_MAX_PORT         (49200) last relay port (UDP)
#   SWITCHBOARD_TURN_REALM            (switchboard)
#   SWITCHBOARD_TURN_USER_QUOTA       (10) concurrent allocations per user, 0 = unlimited
#   SWITCHBOARD_TURN_TOTAL_QUOTA      (1000) concurrent allocations in total, 0 = unlimited
#   SWITCHBOARD_TURN_MAX_BPS          (1000000) bytes per second per session, 0 = unlimited
#   SWITCHBOARD_TURN_LOG_FILE         (stdout) coturn's --log-file
#   SWITCHBOARD_TURN_LOCAL_TESTING    (0) 1 allows relaying to loopback peers: tests and demos on
#                                     one machine only, NEVER in production
#   SWITCHBOARD_TURNSERVER            (turnserver) the coturn binary
set -euo pipefail
export LC_ALL=C
# bash 5.2 would replace '&' in ${var//pattern/replacement}; the renderer doesn't use it, but be safe.
shopt -u patsub_replacement 2>/dev/null || true

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template=$here/turnserver.conf.template

die() {
  echo "run-coturn.sh: $*" >&2
  exit "${2:-2}"
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

print_only=0
extra=()
while (($#)); do
  case $1 in
    --print-config) print_only=1 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) die "unknown argument '$1' (turnserver options go after --; see --help)" ;;
  esac
  shift
done

# --- settings ----------------------------------------------------------------------------------
data_dir=${SWITCHBOARD_DATA_DIR:-./data}
run_dir=${SWITCHBOARD_TURN_RUN_DIR:-$data_dir/coturn}
turnserver=${SWITCHBOARD_TURNSERVER:-turnserver}
log_file=${SWITCHBOARD_TURN_LOG_FILE:-stdout}

declare -A vars=(
  [SWITCHBOARD_TURN_LISTEN_IP]=${SWITCHBOARD_TURN_LISTEN_IP:-}
  [SWITCHBOARD_TURN_PORT]=${SWITCHBOARD_TURN_PORT:-3478}
  [SWITCHBOARD_TURN_TLS_PORT]=${SWITCHBOARD_TURN_TLS_PORT:-5349}
  [SWITCHBOARD_TURN_TLS_CERT]=${SWITCHBOARD_TURN_TLS_CERT:-}
  [SWITCHBOARD_TURN_TLS_KEY]=${SWITCHBOARD_TURN_TLS_KEY:-}
  [SWITCHBOARD_TURN_RELAY_IP]=${SWITCHBOARD_TURN_RELAY_IP:-}
  [SWITCHBOARD_TURN_EXTERNAL_IP]=${SWITCHBOARD_TURN_EXTERNAL_IP:-}
  [SWITCHBOARD_TURN_MIN_PORT]=${SWITCHBOARD_TURN_MIN_PORT:-49160}
  [SWITCHBOARD_TURN_MAX_PORT]=${SWITCHBOARD_TURN_MAX_PORT:-49200}
  [SWITCHBOARD_TURN_REALM]=${SWITCHBOARD_TURN_REALM:-switchboard}
  [SWITCHBOARD_TURN_USER_QUOTA]=${SWITCHBOARD_TURN_USER_QUOTA:-10}
  [SWITCHBOARD_TURN_TOTAL_QUOTA]=${SWITCHBOARD_TURN_TOTAL_QUOTA:-1000}
  [SWITCHBOARD_TURN_MAX_BPS]=${SWITCHBOARD_TURN_MAX_BPS:-1000000}
  [SWITCHBOARD_TURN_LOCAL_TESTING]=""
  [SWITCHBOARD_TURN_SECRET]=""
)

case ${SWITCHBOARD_TURN_LOCAL_TESTING:-0} in
  1 | true | yes) vars[SWITCHBOARD_TURN_LOCAL_TESTING]=1 ;;
  0 | false | no | '') ;;
  *) die "SWITCHBOARD_TURN_LOCAL_TESTING must be 0 or 1 (got '$SWITCHBOARD_TURN_LOCAL_TESTING')" ;;
esac

# --- checks ------------------------------------------------------------------------------------
for name in "${!vars[@]}"; do
  # a newline would inject configuration lines
  [[ ${vars[$name]} != *[[:cntrl:][:space:]]* ]] || die "$name must not contain spaces or control characters"
done

port() { # name min
  local value=${vars[$1]}
  if ! [[ $value =~ ^[0-9]{1,5}$ ]] || ((10#$value < $2 || 10#$value > 65535)); then
    die "$1 must be a port number in $2..65535 (got '$value')"
  fi
}
port SWITCHBOARD_TURN_PORT 1
port SWITCHBOARD_TURN_TLS_PORT 1
port SWITCHBOARD_TURN_MIN_PORT 1024
port SWITCHBOARD_TURN_MAX_PORT 1024
((10#${vars[SWITCHBOARD_TURN_MIN_PORT]} <= 10#${vars[SWITCHBOARD_TURN_MAX_PORT]})) \
  || die "SWITCHBOARD_TURN_MIN_PORT must not be above SWITCHBOARD_TURN_MAX_PORT"

for name in SWITCHBOARD_TURN_USER_QUOTA SWITCHBOARD_TURN_TOTAL_QUOTA SWITCHBOARD_TURN_MAX_BPS; do
  [[ ${vars[$name]} =~ ^[0-9]{1,10}$ ]] || die "$name must be a non-negative integer (got '${vars[$name]}')"
done

# coturn refuses realms with quotes or backslashes (and spaces, refused above)
[[ ${vars[SWITCHBOARD_TURN_REALM]} =~ ^[!-~]+$ && ${vars[SWITCHBOARD_TURN_REALM]} != *[\'\"\\]* ]] \
  || die "SWITCHBOARD_TURN_REALM must be printable ASCII without quotes or backslashes"

if [[ -n ${vars[SWITCHBOARD_TURN_TLS_CERT]} || -n ${vars[SWITCHBOARD_TURN_TLS_KEY]} ]]; then
  [[ -n ${vars[SWITCHBOARD_TURN_TLS_CERT]} && -n ${vars[SWITCHBOARD_TURN_TLS_KEY]} ]] \
    || die "set both SWITCHBOARD_TURN_TLS_CERT and SWITCHBOARD_TURN_TLS_KEY, or neither"
  if ((!print_only)); then
    [[ -r ${vars[SWITCHBOARD_TURN_TLS_CERT]} ]] || die "cannot read SWITCHBOARD_TURN_TLS_CERT ${vars[SWITCHBOARD_TURN_TLS_CERT]}"
    [[ -r ${vars[SWITCHBOARD_TURN_TLS_KEY]} ]] || die "cannot read SWITCHBOARD_TURN_TLS_KEY ${vars[SWITCHBOARD_TURN_TLS_KEY]}"
  fi
fi

# --- rendering ---------------------------------------------------------------------------------
render() {
  local line cond name match out
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line == '##'* ]]; then
      continue
    elif [[ $line == '#'* ]]; then
      printf '%s\n' "$line"
      continue
    elif [[ $line =~ ^@(if|unless):([A-Za-z0-9_]+)\ (.*)$ ]]; then
      cond=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]} line=${BASH_REMATCH[3]}
      [[ -v vars[$name] ]] || die "template condition on unknown name $name"
      if [[ $cond == if && -z ${vars[$name]} ]] || [[ $cond == unless && -n ${vars[$name]} ]]; then
        continue
      fi
    fi
    out=
    while [[ $line =~ \$\{([A-Za-z0-9_]+)\} ]]; do
      match=${BASH_REMATCH[0]} name=${BASH_REMATCH[1]}
      [[ -v vars[$name] ]] || die "template uses unknown placeholder $match"
      out+=${line%%"$match"*}${vars[$name]}
      line=${line#*"$match"}
    done
    printf '%s\n' "$out$line"
  done <"$template"
}

if ((print_only)); then
  vars[SWITCHBOARD_TURN_SECRET]='<redacted>'
  render
  exit 0
fi

command -v "$turnserver" >/dev/null \
  || die "'$turnserver' not found: install Debian's coturn package: apt-get install coturn" 127

# --- the shared secret (same rules as TurnSecret.java) -----------------------------------------
trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  printf '%s' "${s%"${s##*[![:space:]]}"}"
}

if [[ -n ${SWITCHBOARD_TURN_SECRET:-} ]]; then
  secret=$SWITCHBOARD_TURN_SECRET
  secret_source=SWITCHBOARD_TURN_SECRET
else
  secret_file=$data_dir/turn-secret
  if [[ ! -e $secret_file ]]; then
    mkdir -p "$data_dir"
    tmp=$(mktemp "$data_dir/.turn-secret-XXXXXX") # mode 0600
    trap 'rm -f -- "$tmp"' EXIT
    { od -An -v -tx1 -N32 /dev/urandom | tr -d ' \n'; echo; } >"$tmp"
    sync "$tmp" 2>/dev/null || true
    # a hard link never replaces: if the relay created the file meanwhile, keep its secret
    ln "$tmp" "$secret_file" 2>/dev/null || [[ -e $secret_file ]] || die "cannot create $secret_file"
    rm -f -- "$tmp"
    trap - EXIT
  fi
  secret=$(trim "$(<"$secret_file")")
  secret_source=$secret_file
fi
[[ $secret =~ ^[!-~]{16,}$ ]] \
  || die "the TURN secret ($secret_source) must be at least 16 printable ASCII characters without spaces"
vars[SWITCHBOARD_TURN_SECRET]=$secret

# --- run ---------------------------------------------------------------------------------------
mkdir -p "$run_dir"
chmod 700 "$run_dir"
run_dir=$(cd "$run_dir" && pwd -P)
conf=$run_dir/turnserver.conf
tmp=$(mktemp "$run_dir/.turnserver.conf-XXXXXX") # mode 0600: it holds the secret
trap 'rm -f -- "$tmp"' EXIT
render >"$tmp"
mv -f -- "$tmp" "$conf"
trap - EXIT

if [[ -n ${vars[SWITCHBOARD_TURN_LOCAL_TESTING]} ]]; then
  echo "run-coturn.sh: WARNING: SWITCHBOARD_TURN_LOCAL_TESTING=1 lets every credential holder reach this host's" \
    "loopback services through the relay; for tests and demos on one machine only" >&2
fi

# -c with an absolute path: coturn silently falls back to defaults when it can't find the file.
exec "$turnserver" -c "$conf" \
  --userdb="$run_dir/turndb" \
  --pidfile="$run_dir/turnserver.pid" \
  --log-file="$log_file" \
  --no-cli \
  "${extra[@]}"
