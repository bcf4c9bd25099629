# Developer and CI tasks of iac. `just` lists them; CI runs `.ci/run`, which uses these.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The AWS emulator (moto) lives in a virtualenv in the repository, pinned by this file.
venv := justfile_directory() / ".venv"
moto_requirements := justfile_directory() / "tests/emulator/requirements.txt"
moto_server := venv / "bin/moto_server"

# The AWS SDK takes minutes to compile: keep one build of it, shared by every checkout.
export CARGO_TARGET_DIR := env("CARGO_TARGET_DIR", env("HOME") / ".cache/iac-target")

# List the recipes
default:
    @just --list --unsorted

# Create .venv and install the pinned AWS emulator (skipped when already installed)
emulator-install:
    #!/usr/bin/env bash
    set -euo pipefail
    want="$(sed -n 's/^moto\[server\]==\([^ ]*\).*/\1/p' '{{ moto_requirements }}')"
    if [ -x '{{ moto_server }}' ] && [ "$('{{ venv }}/bin/python' -c 'import moto; print(moto.__version__)' 2>/dev/null)" = "$want" ]; then
        echo "moto $want already installed in {{ venv }}"
        exit 0
    fi
    command -v python3 >/dev/null || { echo "python3 is needed for the AWS emulator (moto): install Python 3.9 or newer" >&2; exit 1; }
    [ -x '{{ venv }}/bin/python' ] || python3 -m venv '{{ venv }}'
    '{{ venv }}/bin/pip' install --quiet --disable-pip-version-check -r '{{ moto_requirements }}'
    echo "installed moto $want in {{ venv }}"

# Same as emulator-install: the virtualenv holds only the emulator
venv: emulator-install

# Run the AWS emulator in the foreground on a free loopback port (Ctrl-C stops it)
emulator: emulator-install
    #!/usr/bin/env bash
    set -euo pipefail
    port="$('{{ venv }}/bin/python' -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    echo "AWS emulator (moto) on http://127.0.0.1:$port; in another shell:"
    echo
    echo "  export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true"
    echo
    export MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=5 MOTO_ECS_SERVICE_RUNNING=2
    exec '{{ moto_server }}' -H 127.0.0.1 -p "$port"

# Run every test of the workspace, emulator tests included
test: emulator-install
    IAC_MOTO_SERVER='{{ moto_server }}' cargo test --workspace --no-fail-fast

# Kill -9 `iac apply` / `iac destroy` of lemon-mart at random moments, rerun, check each object once and nothing left (N trials)
crash-test N="20": emulator-install
    cargo build -p iac
    IAC_CRASH_TRIALS='{{ N }}' IAC_MOTO_SERVER='{{ moto_server }}' cargo test -p iac-aws --test crash -- --nocapture

# Plan, apply, re-plan and destroy the example stack against a private local AWS emulator
demo: emulator-install
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -q -p iac
    iac="$CARGO_TARGET_DIR/debug/iac"
    # The stacks are copied to a temporary directory so the demo's state files land there,
    # never beside the real stacks (whose .iac/state/ may describe real AWS resources).
    work="$(mktemp -d)"
    port="$('{{ venv }}/bin/python' -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=5 MOTO_ECS_SERVICE_RUNNING=2 \
        '{{ moto_server }}' -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
    moto=$!
    trap 'kill "$moto" 2>/dev/null || true; wait "$moto" 2>/dev/null || true; rm -rf "$work"' EXIT
    '{{ venv }}/bin/python' - "$port" <<'PY'
    import sys, time, urllib.request
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit("the AWS emulator did not start")
    PY
    # Only the emulator: no profile, no per-service endpoint, no metadata service.
    for v in $(env | sed -n 's/^\(AWS_ENDPOINT_URL_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
    unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 \
        AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true \
        AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none"
    cp -r '{{ justfile_directory() }}/stacks' "$work/"
    find "$work/stacks" -name .iac -type d -prune -exec rm -rf {} +
    cd "$work"
    if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
    step() { printf '\n%s$ iac %s%s\n' "$bold" "$*" "$plain"; "$iac" "$@"; }
    echo "AWS emulator (moto) on $AWS_ENDPOINT_URL; working in $work"
    # The example looks up the hosted zone `example.com`: create it first.
    step apply --yes stacks/demo/zone.yaml
    step plan stacks/lemon-mart.yaml
    step apply --yes stacks/lemon-mart.yaml
    step plan --detailed-exitcode stacks/lemon-mart.yaml
    step destroy --yes stacks/lemon-mart.yaml
    step destroy --yes stacks/demo/zone.yaml

# Measure speed (docs/benchmarks.md): the engine on the fake provider, then lemon-mart on the emulator
bench: emulator-install
    # Release build of the engine alone: iac-engine does not depend on the AWS SDK.
    cargo bench -p iac-engine --bench walk
    # An example in the dev profile, not a bench target: `cargo bench` would build the SDK in
    # release (12 minutes on 2 cores), and the emulator dominates these timings anyway.
    IAC_MOTO_SERVER='{{ moto_server }}' cargo run -q -p iac-aws --example bench_emulator

# Refresh prices/aws.yaml from AWS's price list files (needs network access); review the diff
prices:
    python3 scripts/prices.py --table prices/aws.yaml

# Format every Rust file
fmt:
    cargo fmt --all

# Check formatting and clippy lints (warnings are errors)
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
