#!/usr/bin/env bash
# Create (if missing) the repository's Python virtualenv at .venv and install
# scripts/requirements.txt into it when the installed set is out of date.
#
#   PY=$(scripts/pyenv.sh)        # executed: prints the venv python path on stdout
#   . scripts/pyenv.sh            # sourced: exports PY (and TESSERA_VENV)
#
# Progress goes to stderr. Non-zero status on failure.
# Environment: PYTHON (interpreter used to create the venv, default python3),
#              TESSERA_VENV (venv directory, default <repo>/.venv).

_tessera_pyenv() {
    local here root venv req py base stamp lock
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)" || return 1
    root="$(cd "$here/.." && pwd)" || return 1
    venv="${TESSERA_VENV:-$root/.venv}"
    req="$here/requirements.txt"
    base="${PYTHON:-python3}"
    py="$venv/bin/python"
    stamp="$venv/.requirements.sha256"

    if [ ! -f "$req" ]; then
        echo "pyenv: $req not found" >&2
        return 1
    fi

    mkdir -p "$(dirname "$venv")" || return 1
    # Serialize concurrent callers (e.g. two scripts started at once); the lock is released
    # when the subshell below exits, whatever happens inside it.
    lock="${TMPDIR:-/tmp}/tessera-pyenv-$(printf '%s' "$venv" | sha256sum | cut -c1-16).lock"
    (
        if command -v flock >/dev/null 2>&1; then
            exec 9>"$lock" || exit 1
            flock 9 || exit 1
        fi
        _tessera_pyenv_setup "$venv" "$req" "$base" "$py" "$stamp"
    ) || return 1
    PY="$py"
    TESSERA_VENV="$venv"
    return 0
}

_tessera_pyenv_setup() {
    local venv="$1" req="$2" base="$3" py="$4" stamp="$5" want have
    # A venv whose interpreter no longer runs (moved machine, removed base python) is rebuilt.
    if [ -d "$venv" ] && ! "$py" -c 'import sys' >/dev/null 2>&1; then
        echo "pyenv: $venv is broken, recreating" >&2
        rm -rf "$venv"
    fi
    if [ ! -x "$py" ]; then
        if ! command -v "$base" >/dev/null 2>&1; then
            echo "pyenv: $base not found (set PYTHON)" >&2
            return 1
        fi
        echo "pyenv: creating $venv with $("$base" --version 2>&1)" >&2
        "$base" -m venv "$venv" >&2 || { echo "pyenv: venv creation failed" >&2; return 1; }
    fi

    want="$( { cat "$req"; "$py" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
    have="$(cat "$stamp" 2>/dev/null || true)"
    if [ "$want" != "$have" ] || ! "$py" -c 'import shapely, numpy' >/dev/null 2>&1; then
        echo "pyenv: installing $(grep -v '^\s*#' "$req" | grep -v '^\s*$' | tr '\n' ' ')into $venv" >&2
        "$py" -m pip install --disable-pip-version-check -q -r "$req" >&2 \
            || { echo "pyenv: pip install failed" >&2; rm -f "$stamp"; return 1; }
        "$py" -c 'import shapely, numpy' >&2 \
            || { echo "pyenv: installed packages do not import" >&2; return 1; }
        echo "$want" >"$stamp"
        echo "pyenv: ready ($("$py" -c 'import shapely, numpy; print("shapely", shapely.__version__, "GEOS", shapely.geos_version_string, "numpy", numpy.__version__)'))" >&2
    fi
}

if (return 0 2>/dev/null); then
    # sourced
    _tessera_pyenv && export PY TESSERA_VENV
    _tessera_pyenv_rc=$?
    unset -f _tessera_pyenv _tessera_pyenv_setup
    return $_tessera_pyenv_rc
else
    set -u
    _tessera_pyenv || exit 1
    echo "$PY"
fi
