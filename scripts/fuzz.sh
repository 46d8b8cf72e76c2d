#!/usr/bin/env bash
# Fuzzes every guest parser and decision for N seconds each (default 60),
# starting from the seed corpus in fuzz/seeds. Exits non-zero on a crash
# (the input is left in fuzz/artifacts/<target>/).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Needs a nightly toolchain; installs cargo-fuzz into .tools/ on first use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
shift || true
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz.sh: no nightly toolchain here (rustup toolchain install nightly); not fuzzing" >&2
  exit 3
fi
export PATH="$root/.tools/cargo-fuzz/bin:$PATH"
if ! command -v cargo-fuzz >/dev/null; then
  cargo +nightly install --quiet --locked cargo-fuzz --root "$root/.tools/cargo-fuzz"
fi
cd "$root/fuzz"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
for target in "${targets[@]}"; do
  corpus="$root/fuzz/corpus/$target"
  mkdir -p "$corpus"
  echo "fuzz.sh: $target for ${seconds}s" >&2
  log="$root/fuzz/artifacts/$target.log"
  mkdir -p "$(dirname "$log")"
  set +e
  cargo +nightly fuzz run "$target" "$corpus" "$root/fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -max_len=65536 >"$log" 2>&1
  status=$?
  set -e
  grep -E "^#[0-9]+ +DONE|SUMMARY|panicked" "$log" >&2 || true
  if [ "$status" -ne 0 ]; then
    tail -30 "$log" >&2
    echo "fuzz.sh: $target failed (exit $status); see $log and fuzz/artifacts/$target" >&2
    exit 1
  fi
done
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each: no crash" >&2
