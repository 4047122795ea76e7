#!/usr/bin/env bash
# The steps of the setup-decom action (action.yml at the repository root).
#
#   setup-decom.sh resolve   the release tag, the runner's target, the archive's name
#                            and the directory it is cached in (step outputs)
#   setup-decom.sh install   download the archive and SHA256SUMS, check the one
#                            against the other, unpack decom into that directory
#
# Inputs come as INPUT_VERSION ("latest", "0.1.0" or "v0.1.0"), INPUT_REPOSITORY
# (owner/name) and INPUT_TOKEN; the runner's own variables (GITHUB_SERVER_URL,
# GITHUB_API_URL, RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, GITHUB_OUTPUT) do the
# rest, which is also how .ci/test-actions runs this script against a release laid
# out on disk.
set -euo pipefail

fail() {
    printf '::error title=setup-decom::%s\n' "$*" >&2
    exit 1
}

output() {
    printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
}

curl_get() {
    curl --proto '=https,file' --silent --show-error --fail --location --retry 3 "$@"
}

# The release archive for the runner: the Linux builds are static (musl) and run on
# any distribution; Windows on Arm runs the x86_64 build.
target_for_runner() {
    case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
        Linux/X64) echo x86_64-unknown-linux-musl ;;
        Linux/ARM64) echo aarch64-unknown-linux-musl ;;
        macOS/X64) echo x86_64-apple-darwin ;;
        macOS/ARM64) echo aarch64-apple-darwin ;;
        Windows/X64 | Windows/ARM64) echo x86_64-pc-windows-msvc ;;
        *) fail "no decom release for runner OS '${RUNNER_OS:-}' and architecture '${RUNNER_ARCH:-}'; build it with 'cargo install decom-cli'" ;;
    esac
}

latest_tag() {
    local url="${GITHUB_API_URL:-https://api.github.com}/repos/${repository}/releases/latest"
    local auth=()
    if [[ -n "${INPUT_TOKEN:-}" ]]; then
        auth=(--header "Authorization: Bearer ${INPUT_TOKEN}")
    fi
    local body tag
    body=$(curl_get ${auth[@]+"${auth[@]}"} --header 'Accept: application/vnd.github+json' "$url") \
        || fail "could not read the latest release of ${repository} ($url)"
    tag=$(printf '%s' "$body" | sed -n 's/^ *"tag_name": *"\([^"]*\)".*/\1/p' | head -n 1)
    [[ -n "$tag" ]] || fail "the latest release of ${repository} names no tag ($url)"
    printf '%s\n' "$tag"
}

resolve() {
    local version="${INPUT_VERSION:-latest}" tag target ext
    version="${version#"${version%%[![:space:]]*}"}"
    version="${version%"${version##*[![:space:]]}"}"
    case "$version" in
        "" | latest) tag=$(latest_tag) ;;
        v[0-9]*) tag="$version" ;;
        [0-9]*) tag="v$version" ;;
        *) fail "version '$version' is neither 'latest' nor a version such as 0.1.0" ;;
    esac
    target=$(target_for_runner)
    case "$target" in
        *-windows-*) ext=zip ;;
        *) ext=tar.gz ;;
    esac
    local cache_root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:?neither RUNNER_TOOL_CACHE nor RUNNER_TEMP is set}}"
    output tag "$tag"
    output version "${tag#v}"
    output target "$target"
    output archive "decom-${tag}-${target}.${ext}"
    output dir "${cache_root}/decom/${tag}/${target}"
}

sha256_of() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d ' ' -f 1
    else
        shasum -a 256 "$1" | cut -d ' ' -f 1
    fi
}

install() {
    local tag="${TAG:?}" archive="${ARCHIVE:?}" dir="${DIR:?}"
    local base="${GITHUB_SERVER_URL:-https://github.com}/${repository}/releases/download/${tag}"
    work=$(mktemp -d) # global: the EXIT trap runs after this function returns
    trap 'rm -rf "${work:-}"' EXIT

    curl_get --output "$work/SHA256SUMS" "$base/SHA256SUMS" \
        || fail "could not download SHA256SUMS of decom ${tag} ($base/SHA256SUMS): is ${tag} a release of ${repository}?"
    curl_get --output "$work/$archive" "$base/$archive" \
        || fail "could not download $archive ($base/$archive)"

    # A line of SHA256SUMS is '<sha256>  <file>' ('*<file>' when written in binary mode).
    local expected actual
    expected=$(awk -v name="$archive" '$2 == name || $2 == "*" name { print $1; exit }' "$work/SHA256SUMS")
    [[ -n "$expected" ]] || fail "SHA256SUMS of decom ${tag} lists no $archive"
    actual=$(sha256_of "$work/$archive")
    if [[ "$(printf '%s' "$expected" | tr '[:upper:]' '[:lower:]')" != "$actual" ]]; then
        fail "$archive does not match SHA256SUMS (expected $expected, got $actual): not installed"
    fi
    echo "$archive: sha256 $actual matches SHA256SUMS"

    mkdir -p "$work/unpacked"
    case "$archive" in
        *.zip) if command -v unzip >/dev/null; then
            unzip -q "$work/$archive" -d "$work/unpacked"
        else
            7z x -bd -y -o"$work/unpacked" "$work/$archive" >/dev/null
        fi ;;
        *) tar -xzf "$work/$archive" -C "$work/unpacked" ;;
    esac
    local exe=decom
    [[ "$archive" == *.zip ]] && exe=decom.exe
    [[ -f "$work/unpacked/$exe" ]] || fail "$archive holds no $exe"
    mkdir -p "$dir"
    cp "$work/unpacked/$exe" "$dir/$exe"
    chmod +x "$dir/$exe"
}

repository="${INPUT_REPOSITORY:-decom-cli/decom}"
case "${1:-}" in
    resolve) resolve ;;
    install) install ;;
    *) fail "usage: setup-decom.sh resolve|install" ;;
esac
