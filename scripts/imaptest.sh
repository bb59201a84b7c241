#!/usr/bin/env bash
# Dovecot's IMAP conformance suite (imaptest, github.com/dovecot/imaptest) against a
# running Correo: builds imaptest from a local checkout in a temporary directory (its code
# is never copied into this repository) and runs each scripted test (src/tests/*, one
# imaptest run per script), printing pass / FAIL / skip per script and a total.
# docs/imap-conformance.md has the how and the latest results.
#
#   scripts/imaptest.sh [options] [script ...]       (default: every script)
#     --src DIR        imaptest checkout: a work tree or a bare git directory (env IMAPTEST_SRC)
#     --ref REF        branch or commit to build from a git checkout (env IMAPTEST_REF, default release-2.3)
#     --host H --port P                         Correo's IMAP listener (env IMAP_HOST, IMAP_PORT; 127.0.0.1:2143)
#     --user U --user2 U2 --password P          two accounts with the same password (env IMAPTEST_USER,
#                                               IMAPTEST_USER2, IMAPTEST_PASSWORD)
#     --build-dir DIR  where to build (env IMAPTEST_BUILD_DIR; default a temporary directory, removed after)
#     --binary FILE    an imaptest already built: skip the build (env IMAPTEST_BIN)
#     --install-deps   apt-get the build dependencies first (as root or with sudo)
#     --logs DIR       keep each script's output in DIR/<script>.log (env IMAPTEST_LOGS)
#     --timeout S      seconds one script may take (env IMAPTEST_TIMEOUT, default 60)
#     --stress ARGS    instead of the scripts, imaptest's stress mode with these settings,
#                      e.g. --stress "clients=10 secs=60" (random commands, state checked)
#
# Exit status: 0 when no script failed (skipped ones, whose capability Correo does not
# advertise, do not count as failures), 1 otherwise, 2 on a usage or build error.
set -euo pipefail

src=${IMAPTEST_SRC:-}
ref=${IMAPTEST_REF:-release-2.3}
host=${IMAP_HOST:-127.0.0.1}
port=${IMAP_PORT:-2143}
user=${IMAPTEST_USER:-}
user2=${IMAPTEST_USER2:-}
password=${IMAPTEST_PASSWORD:-}
build_dir=${IMAPTEST_BUILD_DIR:-}
binary=${IMAPTEST_BIN:-}
logs=${IMAPTEST_LOGS:-}
timeout_s=${IMAPTEST_TIMEOUT:-60}
install_deps=false
stress=""
only=()

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "imaptest.sh: $*" >&2; exit 2; }

while (($#)); do
  case $1 in
    --src) src=$2; shift 2 ;;
    --ref) ref=$2; shift 2 ;;
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --user2) user2=$2; shift 2 ;;
    --password) password=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --install-deps) install_deps=true; shift ;;
    --stress) stress=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) only+=("$1"); shift ;;
  esac
done

# The Debian packages the build needs: dovecot-dev carries libdovecot and its headers
# (imaptest links against them), the rest is the autotools chain of autogen.sh.
build_packages=(dovecot-dev build-essential autoconf automake libtool pkg-config)
if $install_deps; then
  missing=()
  for package in "${build_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if ((${#missing[@]})); then
    sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    echo "imaptest build dependencies: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
  fi
fi

[[ -n $src ]] || die "say where imaptest's source is: --src DIR or IMAPTEST_SRC (a clone of github.com/dovecot/imaptest)"
[[ -d $src ]] || die "$src is not a directory"
[[ -n $user && -n $user2 && -n $password ]] || die "--user, --user2 and --password are required (two accounts with one password)"

cleanup_dir=""
if [[ -z $build_dir ]]; then
  build_dir=$(mktemp -d "${TMPDIR:-/tmp}/imaptest.XXXXXX")
  cleanup_dir=$build_dir
fi
trap '[[ -n $cleanup_dir ]] && rm -rf "$cleanup_dir"' EXIT
tree=$build_dir/imaptest

# A copy of the checkout to build in: a bare git directory (what `git clone --bare` or a
# mirror gives) or a work tree's repository is exported at $ref; a plain directory is copied.
if [[ ! -d $tree ]]; then
  mkdir -p "$tree"
  if git -C "$src" rev-parse --git-dir >/dev/null 2>&1 && git -C "$src" rev-parse --verify -q "$ref^{commit}" >/dev/null; then
    git -C "$src" archive --format=tar "$ref" | tar -x -C "$tree"
    echo "imaptest: $ref ($(git -C "$src" rev-parse --short "$ref^{commit}")) from $src"
  else
    cp -a "$src"/. "$tree"/
    echo "imaptest: the files of $src (not a git checkout with $ref)"
  fi
fi
tests_dir=$tree/src/tests
[[ -d $tests_dir ]] || die "$src has no src/tests: not an imaptest checkout?"

if [[ -z $binary ]]; then
  binary=$tree/src/imaptest
  if [[ ! -x $binary ]]; then
    command -v autoreconf >/dev/null && [[ -f /usr/lib/dovecot/dovecot-config ]] ||
      die "building needs ${build_packages[*]} (run with --install-deps)"
    # Dovecot 2.3.19 (Debian 12's dovecot-dev) gave imap_parser_create() a fourth
    # argument, the parser's parameters; release-2.3 still passes three. Zero parameters
    # are the old behaviour.
    sed -i 's/imap_parser_create(\(.*\), (size_t)-1)/imap_parser_create(\1, (size_t)-1, \&(const struct imap_parser_params){0})/' \
      "$tree"/src/commands.c "$tree"/src/imap-client.c "$tree"/src/test-parser.c
    # Debian's dovecot-dev has the headers but not libdovecot itself, which comes with
    # dovecot-core, the server. Rather than install (and start) a Dovecot, take the
    # library out of the dovecot-core package into the build directory.
    # An installed dovecot-core (bench/README.md's Dovecot) puts it in /usr/lib/dovecot,
    # which is not on the loader's path either: the rpath is needed both ways.
    libdir=/usr/lib/dovecot
    if [[ ! -e /usr/lib/dovecot/libdovecot.so ]]; then
      libroot=$build_dir/dovecot-core
      if [[ ! -e $libroot/usr/lib/dovecot/libdovecot.so ]]; then
        echo "imaptest: libdovecot from the dovecot-core package (apt-get download), not installed"
        (cd "$build_dir" && apt-get download -qq dovecot-core 2>/dev/null) || die "apt-get download dovecot-core failed"
        dpkg-deb -x "$build_dir"/dovecot-core_*.deb "$libroot"
      fi
      libdir=$libroot/usr/lib/dovecot
    fi
    make_args=("LIBDOVECOT=-L$libdir -ldovecot -Wl,-rpath,$libdir")
    echo "imaptest: building in $tree (log: $build_dir/build.log)"
    if ! (cd "$tree" && ./autogen.sh && ./configure --with-dovecot=/usr/lib/dovecot && make -j"$(nproc)" "${make_args[@]}") >"$build_dir/build.log" 2>&1; then
      tail -30 "$build_dir/build.log" >&2
      die "the build failed (full log above: $build_dir/build.log)"
    fi
  fi
fi
[[ -x $binary ]] || die "$binary is not an executable imaptest"

if [[ -n $stress ]]; then
  # Stress mode: imaptest's own output (a line of command counts per second, then the
  # totals and any errors); exit status its own. It appends from default.mbox.
  read -r -a stress_args <<<"$stress"
  set +e
  "$binary" host="$host" port="$port" user="$user" pass="$password" mbox="$tests_dir/default.mbox" "${stress_args[@]}" </dev/null
  status=$?
  set -e
  echo "imaptest stress ($stress): exit $status"
  exit "$status"
fi

scripts=()
if ((${#only[@]})); then
  for name in "${only[@]}"; do
    [[ -f $tests_dir/$name ]] || die "no test script $name in $tests_dir"
    scripts+=("$name")
  done
else
  for file in "$tests_dir"/*; do
    name=${file##*/}
    # Message fixtures (<script>.mbox, default.mbox) are not scripts.
    [[ -f $file && $name != *.mbox ]] && scripts+=("$name")
  done
fi
[[ -n $logs ]] && mkdir -p "$logs"

pass=0 fail=0 skip=0
failed=()
for name in "${scripts[@]}"; do
  out=$build_dir/last.log
  set +e
  # One run per script: user= and user2= log in with the same password; a fresh
  # mailbox per run (imaptest creates and empties it).
  timeout "$timeout_s" "$binary" host="$host" port="$port" user="$user" user2="$user2" pass="$password" \
    test="$tests_dir/$name" >"$out" 2>&1 </dev/null
  status=$?
  set -e
  [[ -n $logs ]] && cp "$out" "$logs/$name.log"
  # imaptest ends with "1 test groups: F failed, S skipped …", "base protocol: f/n
  # individual commands failed" and "extensions: f/n …". A script whose required
  # capability (its `capabilities:` line) is missing logs in, logs out and sends no
  # command: 0/0 and 0/0, while its "skipped" count stays 0 in release-2.3.
  groups=$(grep -E '^[0-9]+ test groups: ' "$out" | tail -1 || true)
  base=$(grep -E '^base protocol: [0-9]+/[0-9]+ ' "$out" | tail -1 | grep -oE '[0-9]+/[0-9]+' || true)
  ext=$(grep -E '^extensions: [0-9]+/[0-9]+ ' "$out" | tail -1 | grep -oE '[0-9]+/[0-9]+' || true)
  summary="base ${base:-?} failed, extensions ${ext:-?} failed"
  if [[ $groups =~ ^[0-9]+\ test\ groups:\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped && -n $base && -n $ext ]]; then
    if ((BASH_REMATCH[1] > 0)); then
      result=FAIL
    elif ((BASH_REMATCH[2] > 0 || ${base#*/} + ${ext#*/} == 0)); then
      result=skip summary="never run: needs $(grep -a -m1 -i '^capabilities:' "$tests_dir/$name" | cut -d: -f2- | xargs)"
    else
      result=pass
    fi
  elif ((status == 124)); then
    result=FAIL summary="timed out after ${timeout_s}s"
  else
    result=FAIL summary="no summary (exit $status): $(grep -m1 -v '^$' "$out" || true)"
  fi
  case $result in
    pass) pass=$((pass + 1)) ;;
    skip) skip=$((skip + 1)) ;;
    FAIL) fail=$((fail + 1)); failed+=("$name") ;;
  esac
  printf '%-40s %-4s  %s\n' "$name" "$result" "$summary"
done

echo "imaptest: ${#scripts[@]} scripts: $pass passed, $fail failed, $skip skipped (capability not advertised)"
((fail == 0)) || { echo "failed: ${failed[*]}"; exit 1; }
